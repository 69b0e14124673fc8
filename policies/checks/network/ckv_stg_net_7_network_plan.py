"""CKV_STG_NET_7: the template's application tier is the spec's network plan.

The reachability policy (CKV_STG_NET_1) trusts the template's own application tier, whatever
its CIDRs; this policy pins that tier to the plan in ``infra/spec.toml`` (network.app_subnet_cidrs),
so a change to either the template's tiers or the plan is caught. Read through the network model
(``policies/lib/stg_network.py``): the application tier is the subnets tagged
``aws-cdk:subnet-name=app`` in the database's VPC.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_network as network
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_7",
    "name": "The application subnets of the template are the spec's network plan",
    "category": "NETWORKING",
    "severity": "HIGH",
    "rationale": (
        "The database admits the template's application tier (CKV_STG_NET_1). Which addresses that tier holds is "
        "the network plan's decision (infra/spec.toml network.app_subnet_cidrs), reviewed with the spec: the "
        "application-tier subnets (aws-cdk:subnet-name=app) must hold exactly the plan's CIDRs, and no subnet of "
        "another tier may hold one of them. A renamed, moved or added application subnet, or a plan changed "
        "without the stack, is a finding."
    ),
    "requirements": ["REQ-NET-03", "REQ-NET-01", "REQ-TECH-03"],
    "remediation": (
        "Lay the application subnets on the plan's CIDRs (cdk.json appSubnetCidrs = infra/spec.toml "
        "network.app_subnet_cidrs), one per availability zone, in the subnet group named app."
    ),
    "resource_types": ["AWS::EC2::VPC", "AWS::EC2::Subnet"],
    "requires": ["AWS::EC2::Subnet"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return network.verdict(ctx, network.PLAN, logical_id)


check = lib.make_check(METADATA, rule)
