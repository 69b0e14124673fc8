"""CKV_STG_NET_6: The staging VPC uses the 10.1.0.0/16 address range, and no other.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). A VPC's range
is its primary CidrBlock and every ``AWS::EC2::VPCCidrBlock`` associated with it: an added block
(IPv4 or IPv6) gives the VPC addresses outside the plan, where subnets the plan never reviewed
can be laid.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_6",
    "name": "The staging VPC uses the 10.1.0.0/16 address range",
    "category": "NETWORKING",
    "severity": "MEDIUM",
    "rationale": "The migration moves the database from the dev VPC (10.0.0.0/16) to the staging VPC (10.1.0.0/16). "
    "Disjoint ranges are what makes peering for the migration possible and keeps dev addresses out of "
    "staging rules. The value is read from infra/spec.toml. An additional CIDR block (AWS::EC2::VPCCidrBlock, "
    "IPv4 or IPv6) widens the VPC beyond that range: subnets laid there are outside the network plan.",
    "requirements": ["REQ-NET-01", "REQ-TECH-03"],
    "remediation": "Set the VPC CIDR to 10.1.0.0/16 (cdk.json vpcCidr) and add no other CIDR block to it.",
    "resource_types": ["AWS::EC2::VPC", "AWS::EC2::VPCCidrBlock"],
    "requires": ["AWS::EC2::VPC"],
}


BLOCK_KEYS = (
    "CidrBlock",
    "Ipv6CidrBlock",
    "AmazonProvidedIpv6CidrBlock",
    "Ipv4IpamPoolId",
    "Ipv6IpamPoolId",
    "Ipv6Pool",
)


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().network.vpc_cidr
    if ctx.type_of(logical_id) == "AWS::EC2::VPC":
        return lib.expect(ctx, logical_id, "CidrBlock", wanted=lib.same_text(wanted), expected=wanted)
    vpc = ctx.value(logical_id, "VpcId")
    block = next(
        (
            f"{k} {lib.describe(ctx.value(logical_id, k))}"
            for k in BLOCK_KEYS
            if ctx.value(logical_id, k) is not cfn.NO_VALUE
        ),
        "a block",
    )
    found = lib.points_at(vpc, "AWS::EC2::VPC")
    if found is None:
        why = lib.undetermined(vpc) or f"{lib.describe(vpc)} is not a VPC of the template"
        return lib.not_evaluated(f"adds {block} to a VPC ({why}): it may be the staging VPC")
    return lib.failed(f"adds {block} to VPC {found.name}, whose only range is {wanted}")


check = lib.make_check(METADATA, rule)
