"""CKV_STG_NET_3: the database subnets have no route out of the VPC except peering to named ranges.

Python because it follows references across resource types: DB subnet group -> subnets ->
route table associations -> routes (and VPN route propagations). Only what the template
defines can be judged: a subnet, route table or route it cannot resolve is not evaluated.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_3",
    "name": "Database subnets are isolated: no route to an internet or NAT gateway and no public IPs",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The database must be reachable only from private subnets and needs no internet access (RDS manages "
        "the master password and rotation itself; no Lambda runs in the VPC). From a database subnet's route "
        "table only VPC peering routes to specific ranges (the migration) may leave the VPC: a default route, "
        "or a route to an internet, egress-only, carrier, NAT, VPN or transit gateway, an instance or a network "
        "interface opens a path out; a subnet that maps public IPs makes its ENIs addressable. Subnets, route "
        "tables and routes the template does not define or determine cannot be verified and fail."
    ),
    "requirements": ["REQ-NET-02", "REQ-NET-04", "REQ-CON-02"],
    "remediation": (
        "Put the DB subnet group on SubnetType.PRIVATE_ISOLATED subnets (no NAT gateway, no internet gateway "
        "route, MapPublicIpOnLaunch false). Peering routes to specific CIDRs (the migration) are allowed."
    ),
    "resource_types": ["AWS::RDS::DBSubnetGroup"],
    "requires": ["AWS::RDS::DBSubnetGroup"],
}

SUBNET = "AWS::EC2::Subnet"
ROUTE_TABLE = "AWS::EC2::RouteTable"
VPC = "AWS::EC2::VPC"
ASSOCIATION = "AWS::EC2::SubnetRouteTableAssociation"
ROUTE = "AWS::EC2::Route"
PROPAGATION = "AWS::EC2::VPNGatewayRoutePropagation"
# The one target a database subnet may route to: peering never forwards beyond the peer VPC.
ALLOWED_TARGET = "VpcPeeringConnectionId"
TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "TransitGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcEndpointId",
    "LocalGatewayId",
    "CoreNetworkArn",
    ALLOWED_TARGET,
)
DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


def _is_default_route(value: Any) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_network(value, strict=False).prefixlen == 0
    except ValueError:
        return False


def _route_problem(route_id: str, route: Mapping[str, Any]) -> tuple[str, str] | None:
    """("failed"|"open", why) if the route may leave the VPC other than by peering to a named range."""
    targets = [t for t in TARGETS if t in route]
    if not targets:
        return "open", f"route {route_id} has no target the policy knows"
    outside = [t for t in targets if t != ALLOWED_TARGET]
    if outside:
        return "failed", f"route {route_id} sends traffic to {outside[0]} {lib.describe(route[outside[0]])}"
    destinations = [d for d in DESTINATIONS if d in route]
    for destination in destinations:
        value = route[destination]
        if _is_default_route(value):
            return "failed", f"route {route_id} is a default route ({destination} {value})"
        reason = lib.undetermined(value)
        if reason is not None:
            return "open", f"route {route_id}: {destination} {reason}"
    return None if destinations else ("open", f"route {route_id} has no destination")


def _subnet_tables(ctx: lib.Context, subnet: str) -> tuple[list[str], list[str]]:
    """(route tables of the template associated with the subnet, what the template leaves open)."""
    tables: list[str] = []
    open_ended: list[str] = []
    for association in ctx.of_type(ASSOCIATION):
        target = ctx.value(association, "SubnetId")
        if not lib.names(target, subnet, attributes=("", "SubnetId")):
            if lib.undetermined(target) is not None and lib.symbol(target) is None:
                open_ended.append(f"{association}: SubnetId {lib.undetermined(target)}")
            continue
        table = ctx.value(association, "RouteTableId")
        found = lib.points_at(table, ROUTE_TABLE)
        if found is not None and found.origin == "this":
            tables.append(found.name)
        else:
            why = lib.undetermined(table) or f"{lib.describe(table)} is not a route table of the template"
            open_ended.append(f"{subnet}'s route table ({association}): {why}")
    return tables, open_ended


def _public_ip(ctx: lib.Context, subnet: str) -> list[lib.Verdict]:
    public = ctx.value(subnet, "MapPublicIpOnLaunch")
    if lib.truth(public) is True:
        return [lib.failed(f"subnet {subnet} has MapPublicIpOnLaunch true")]
    if public is not cfn.NO_VALUE and lib.truth(public) is None:
        return [lib.not_evaluated(f"subnet {subnet}: MapPublicIpOnLaunch {lib.describe(public)}")]
    return []


def _routes(ctx: lib.Context, subnet: str, tables: list[str]) -> list[lib.Verdict]:
    """Every route of the subnet's route tables that may leave the VPC."""
    verdicts = []
    for route in ctx.of_type(ROUTE):
        table = lib.points_at(ctx.value(route, "RouteTableId"), ROUTE_TABLE)
        if table is None or table.name not in tables:
            continue
        props = ctx.props(route)
        problem = _route_problem(route, props if isinstance(props, Mapping) else {})
        if problem is not None:
            status, why = problem
            verdict = lib.failed if status == "failed" else lib.not_evaluated
            verdicts.append(verdict(f"subnet {subnet}'s route table {table.name}: {why}"))
    return verdicts


def _propagations(ctx: lib.Context, subnet: str, tables: list[str]) -> list[lib.Verdict]:
    """VPN route propagations into the subnet's route tables (or into tables the template does not name)."""
    verdicts = []
    for propagation in ctx.of_type(PROPAGATION):
        listed = ctx.value(propagation, "RouteTableIds")
        if not isinstance(listed, list):
            why = lib.undetermined(listed) or lib.describe(listed)
            verdicts.append(lib.not_evaluated(f"{propagation}: RouteTableIds {why}"))
            continue
        verdicts += [
            lib.failed(f"{propagation} propagates VPN routes into {subnet}'s route table {table_id}")
            for table_id in tables
            if any(lib.names(entry, table_id, attributes=("", "RouteTableId")) for entry in listed)
        ]
        if any(lib.symbol(entry) is None and lib.undetermined(entry) for entry in listed):
            verdicts.append(lib.not_evaluated(f"{propagation}: a route table id is not determined by the template"))
    return verdicts


def _judge_subnet(ctx: lib.Context, subnet: str) -> list[lib.Verdict]:
    tables, open_ended = _subnet_tables(ctx, subnet)
    verdicts = _public_ip(ctx, subnet) + [lib.not_evaluated(reason) for reason in open_ended]
    if not tables and not open_ended and lib.points_at(ctx.value(subnet, "VpcId"), VPC) is None:
        # No association: the subnet uses its VPC's main route table; a VPC of the template
        # starts with local routes only, another VPC's main table is unknown.
        verdicts.append(
            lib.not_evaluated(f"subnet {subnet} uses the main route table of a VPC the template does not define")
        )
    return verdicts + _routes(ctx, subnet, tables) + _propagations(ctx, subnet, tables)


def _foreign_routes(ctx: lib.Context) -> list[lib.Verdict]:
    """Routes that may leave the VPC, into route tables the template does not define or determine.

    A literal or deploy-time route table id may be the physical id of a database subnet's
    table (or of a VPC's main table): such a route cannot be placed, so it is not evaluated.
    Peering routes to named ranges (the migration's routes in the dev VPC) are harmless anywhere.
    """
    found = []
    for route in ctx.of_type(ROUTE):
        table = ctx.value(route, "RouteTableId")
        if lib.points_at(table, ROUTE_TABLE) is not None:
            continue
        props = ctx.props(route)
        problem = _route_problem(route, props if isinstance(props, Mapping) else {})
        if problem is not None:
            where = lib.undetermined(table) or f"{lib.describe(table)}, which the template does not define"
            found.append(lib.not_evaluated(f"{problem[1]}, in route table {where}: it may be a database subnet's"))
    return found


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    subnet_ids = ctx.value(logical_id, "SubnetIds")
    if not isinstance(subnet_ids, list):
        return lib.not_evaluated(f"SubnetIds {lib.undetermined(subnet_ids) or lib.describe(subnet_ids)}")
    if not subnet_ids:
        return lib.failed("the subnet group lists no subnets")
    verdicts = _foreign_routes(ctx)
    for entry in subnet_ids:
        subnet = lib.points_at(entry, SUBNET)
        if subnet is None or subnet.origin != "this":
            why = lib.undetermined(entry) or f"{lib.describe(entry)} is not a subnet of the template"
            verdicts.append(lib.not_evaluated(f"subnet {why}: its routes cannot be checked"))
            continue
        verdicts += _judge_subnet(ctx, subnet.name)
    verdict = lib.worst(verdicts)
    if verdict.status == lib.PASSED:
        names = ", ".join(lib.describe(e) for e in subnet_ids)
        return lib.passed(f"subnets {names}: no public IPs, only local and peering routes")
    return verdict


check = lib.make_check(METADATA, rule)
