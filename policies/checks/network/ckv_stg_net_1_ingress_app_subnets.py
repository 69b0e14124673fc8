"""CKV_STG_NET_1: security groups admit traffic only from the staging application subnets.

Python because every rule of the inline SecurityGroupIngress list (and every stand-alone
AWS::EC2::SecurityGroupIngress) must have its CIDR tested for containment in one of the
allowed subnets, which needs address arithmetic.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_NET_1",
    "name": "Security groups allow ingress only from the staging application subnets",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The spec allows database access only from the staging application subnets. Any other CIDR source is "
        "a hole: 0.0.0.0/0 or ::/0 (the internet), the dev VPC 10.0.0.0/16 (a lower-trust environment), the "
        "whole staging VPC (includes the database subnets themselves), or a prefix list nobody reviews here. "
        "Sources given as another security group are allowed: they name workloads, not address ranges. "
        "Stand-alone ingress rules on security groups the template does not define (the migration's rule on "
        "the dev database's group) belong to that environment and are not evaluated."
    ),
    "requirements": ["REQ-NET-03", "REQ-NET-04", "REQ-CON-02", "REQ-NET-01", "REQ-TECH-03"],
    "remediation": (
        "Add ingress rules per application subnet CIDR (10.1.0.0/24, 10.1.1.0/24, 10.1.2.0/24: cdk.json "
        "appSubnetCidrs) or per security group; never ec2.Peer.any_ipv4() or the VPC CIDR."
    ),
    "resource_types": ["AWS::EC2::SecurityGroup", "AWS::EC2::SecurityGroupIngress"],
}

# The staging application subnets (cdk.json appSubnetCidrs). Changing them is a network-plan
# change that needs this policy reviewed too.
STAGING_APP_SUBNET_CIDRS = ("10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24")


def ingress_rule_allowed(ingress: object) -> bool:
    if not isinstance(ingress, dict):
        return False
    if "CidrIpv6" in ingress or "SourcePrefixListId" in ingress:
        return False
    if "CidrIp" in ingress:
        return lib.cidr_within(ingress["CidrIp"], STAGING_APP_SUBNET_CIDRS)
    return "SourceSecurityGroupId" in ingress or "SourceSecurityGroupName" in ingress


def rule(template: lib.Template, logical_id: str) -> bool | None:
    res = lib.resource(template, logical_id)
    props = lib.properties(template, logical_id)
    if res.get("Type") == "AWS::EC2::SecurityGroupIngress":
        owner = lib.ref_target(props.get("GroupId"))
        if owner is None or lib.resource(template, owner).get("Type") != "AWS::EC2::SecurityGroup":
            # A rule on a security group this template does not define (e.g. the migration's rule
            # on the dev database's group) protects another environment: out of this policy's scope.
            return None
        rules = [props]
    else:
        rules = lib.as_list(props.get("SecurityGroupIngress"))
    return all(ingress_rule_allowed(dict(r) if isinstance(r, dict) else r) for r in rules)


check = lib.make_check(METADATA, rule)
