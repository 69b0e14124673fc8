"""CKV_STG_NET_1: only the staging application subnets reach the database, on any port.

Python because it is a question about the whole template, answered by the network model
(``policies/lib/stg_network.py``, built once per template): the database's doors (the instance or
cluster, RDS proxies and their endpoints) and every security group they use (naming none means
the VPC default group); every ingress rule that can land on those groups, inline or stand-alone,
by id or by name, or on a group the template does not define; every source kind (IPv4/IPv6 CIDRs
against the template's application-tier subnets, prefix lists entry by entry, source security
groups by their members); the VPC default group of the database's VPC (closed by CDK's restrict
custom resource on *that* VPC's group); whether the application subnets are private (no public
IPs, no route both ways out of the VPC, no relay, exposed load balancer or RAM share in them);
and the network ACLs on the path from the application tier. Each finding is carried by the
resource that opens the path.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_network as network
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_1",
    "name": "Only the staging application subnets can reach the database",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The spec allows database access only from the staging application subnets, which must be private. The "
        "gate decides it from the template as a whole, not rule by rule: a CIDR source passes only inside the "
        "CIDRs of the template's application-tier subnets (tagged aws-cdk:subnet-name=app), and only while those "
        "subnets are private: no public IPs, no route both ways out of the VPC (internet, carrier, transit, VPN, "
        "local gateway, peering, middlebox), no relay from outside in them (Client VPN, Instance Connect endpoint, "
        "Lattice resource gateway, Verified Access, VPC link), no internet-facing or exposed load balancer, no RAM "
        "share. A source security group admits its members from wherever they sit, so only a group of the "
        "database's own doors (a proxy's) may be one; a prefix list or group defined elsewhere is decided "
        "elsewhere. The database, its proxies and endpoints never use the VPC default group, and that group "
        "must be closed for the database's VPC (CDK's restrict custom resource on that VPC's DefaultSecurityGroup). "
        "The network ACLs must let the application tier through. Any port counts. A rule on a group the template "
        "does not define, whose source lies in the database tier, opens a path out of the database (the migration's "
        "rule on the dev database's group)."
    ),
    "requirements": ["REQ-NET-03", "REQ-NET-04", "REQ-CON-02", "REQ-NET-01", "REQ-TECH-03"],
    "remediation": (
        "Admit the database port from the application subnets' CIDRs (cdk.json appSubnetCidrs) on security groups "
        "the stack defines; keep the application subnets PRIVATE_ISOLATED (or PRIVATE_WITH_EGRESS); put relays, "
        "load balancers and gateways in other subnets; give the database, proxies and endpoints their own groups; "
        "keep restrict_default_security_group=True on the database's VPC."
    ),
    "resource_types": ["*"],
    "requires": ["AWS::EC2::SecurityGroup"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return network.verdict(ctx, network.REACH, logical_id)


check = lib.make_check(METADATA, rule)
