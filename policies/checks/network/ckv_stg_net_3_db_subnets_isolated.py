"""CKV_STG_NET_3: the database subnets are isolated: no path in or out but the spec's approved peering.

Python because it follows the whole template through the network model
(``policies/lib/stg_network.py``): DB subnet group -> subnets -> route tables (explicit
associations, else the VPC's main table) -> routes, VPN route propagations and gateway
endpoints; what else sits in those subnets; RAM shares of them; routes into tables the
template does not define (which may be theirs). Each finding is carried by the resource that
opens the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_network as network
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_3",
    "name": "Database subnets are isolated: no route to an internet or NAT gateway and no public IPs",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The database must be reachable only from private subnets and needs no internet access (RDS manages "
        "the master password and rotation itself; no Lambda runs in the VPC). Every subnet of a DB subnet group "
        "must be a subnet of the template outside the application tier, map no public IPs and route nowhere but "
        "its VPC, except the spec's one approved path: the migration's VPC peering to the dev VPC's range (one "
        "peering connection). A route to an internet, egress-only, carrier, NAT, VPN, transit or local gateway, "
        "a core network, an instance, interface or endpoint, a VPN route propagation or a gateway endpoint opens "
        "a path. The database tier holds only the database and its proxies: anything else placed there (an "
        "endpoint, a function, a load balancer, a relay) and any RAM share of those subnets opens one too. "
        "Subnets, route tables and routes the template does not define or determine cannot be verified."
    ),
    "requirements": ["REQ-NET-02", "REQ-NET-04", "REQ-CON-02"],
    "remediation": (
        "Put the DB subnet group on SubnetType.PRIVATE_ISOLATED subnets of their own (no NAT gateway, no internet "
        "gateway route, MapPublicIpOnLaunch false) and place nothing else in them. The migration's peering routes "
        "to the dev VPC range are the one allowed path."
    ),
    "resource_types": ["*"],
    "requires": ["AWS::RDS::DBSubnetGroup"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return network.verdict(ctx, network.ISOLATION, logical_id)


check = lib.make_check(METADATA, rule)
