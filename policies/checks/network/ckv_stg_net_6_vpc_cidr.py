"""CKV_STG_NET_6: The staging VPC uses the 10.1.0.0/16 address range.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_6",
    "name": "The staging VPC uses the 10.1.0.0/16 address range",
    "category": "NETWORKING",
    "severity": "MEDIUM",
    "rationale": "The migration moves the database from the dev VPC (10.0.0.0/16) to the staging VPC (10.1.0.0/16). "
    "Disjoint ranges are what makes peering for the migration possible and keeps dev addresses out of "
    "staging rules. The value is read from infra/spec.toml.",
    "requirements": ["REQ-NET-01", "REQ-TECH-03"],
    "remediation": "Set the VPC CIDR to 10.1.0.0/16 (cdk.json vpcCidr).",
    "resource_types": ["AWS::EC2::VPC"],
    "requires": ["AWS::EC2::VPC"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().network.vpc_cidr
    return lib.expect(ctx, logical_id, "CidrBlock", wanted=lib.same_text(wanted), expected=wanted)


check = lib.make_check(METADATA, rule)
