"""CKV_STG_NET_3: the database subnets have no route to the internet.

Python because it follows references across four resource types: DB subnet group ->
subnets -> route table associations -> routes (-> internet or NAT gateways).
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_NET_3",
    "name": "Database subnets are isolated: no route to an internet or NAT gateway and no public IPs",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The database must be reachable only from private subnets and needs no internet access (RDS manages "
        "the master password and rotation itself; no Lambda runs in the VPC). A default route or a route to an "
        "internet, egress-only or NAT gateway from a database subnet opens a path out; a subnet that maps "
        "public IPs makes its ENIs addressable. Subnets the template does not define cannot be verified and fail."
    ),
    "requirements": ["REQ-NET-02", "REQ-NET-04", "REQ-CON-02"],
    "remediation": (
        "Put the DB subnet group on SubnetType.PRIVATE_ISOLATED subnets (no NAT gateway, no internet gateway "
        "route, MapPublicIpOnLaunch false). Peering routes to specific CIDRs (the migration) are allowed."
    ),
    "resource_types": ["AWS::RDS::DBSubnetGroup"],
}

_INTERNET_TARGETS = ("GatewayId", "NatGatewayId", "EgressOnlyInternetGatewayId", "CarrierGatewayId")
_DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")


def _route_is_internet(template: lib.Template, route: dict[str, object]) -> bool:
    if route.get("DestinationCidrBlock") in _DEFAULT_ROUTES or route.get("DestinationIpv6CidrBlock") in _DEFAULT_ROUTES:
        return True
    for key in _INTERNET_TARGETS:
        if key in route:
            target = lib.ref_target(route[key])
            if key != "GatewayId" or target is None:
                return True  # NAT/egress-only/carrier always; a literal gateway id cannot be verified
            if lib.resource(template, target).get("Type") in ("AWS::EC2::InternetGateway", "AWS::EC2::VPNGateway"):
                return True
    return False


def rule(template: lib.Template, logical_id: str) -> bool | None:
    subnet_ids = lib.as_list(lib.properties(template, logical_id).get("SubnetIds"))
    if not subnet_ids:
        return False
    for subnet_ref in subnet_ids:
        subnet = lib.ref_target(subnet_ref)
        if subnet is None or lib.resource(template, subnet).get("Type") != "AWS::EC2::Subnet":
            return False
        if lib.is_true(lib.properties(template, subnet).get("MapPublicIpOnLaunch")):
            return False
        route_tables = {
            lib.ref_target(props.get("RouteTableId"))
            for _, props in lib.of_type(template, "AWS::EC2::SubnetRouteTableAssociation")
            if lib.ref_target(props.get("SubnetId")) == subnet
        }
        for _, route in lib.of_type(template, "AWS::EC2::Route"):
            if lib.ref_target(route.get("RouteTableId")) in route_tables and _route_is_internet(template, dict(route)):
                return False
    return True


check = lib.make_check(METADATA, rule)
