"""CKV_STG_NET_5: the DB subnet group spans three availability zones of us-east-1.

Python because the availability zones are properties of the subnets the group references,
and a zone may be a name (us-east-1a) or a zone id (use1-az1), or chosen at deploy time
(Fn::GetAZs), which the template does not determine.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_5",
    "name": "DB subnet groups span at least three availability zones in us-east-1",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": (
        "The spec deploys across 3 availability zones using private database subnets, in us-east-1. Multi-AZ "
        "needs at least two; three lets RDS fail over even while one zone is impaired. Environment-agnostic "
        "CDK stacks silently get only two zones (Fn::GetAZs), so the zones must be literal: a zone chosen at "
        "deploy time, or a subnet the template does not define, cannot be verified and fails."
    ),
    "requirements": ["REQ-NET-02", "REQ-TECH-11"],
    "remediation": (
        'Give ec2.Vpc availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"] (cdk.json '
        "availabilityZones) and one database subnet per zone."
    ),
    "resource_types": ["AWS::RDS::DBSubnetGroup"],
    "requires": ["AWS::RDS::DBSubnetGroup"],
}

REGION = "us-east-1"
MINIMUM_ZONES = 3
_ZONE_NAME = re.compile(rf"^{REGION}[a-z]$")
_ZONE_ID = re.compile(r"^use1-az\d+$")  # us-east-1's zone ids
SUBNET = "AWS::EC2::Subnet"


def _zone(ctx: lib.Context, subnet: str) -> tuple[str, str] | lib.Verdict:
    """("name"|"id", zone) of a subnet, or the verdict that it gives none the policy can count."""
    for kind, prop, pattern in (("name", "AvailabilityZone", _ZONE_NAME), ("id", "AvailabilityZoneId", _ZONE_ID)):
        value = ctx.value(subnet, prop)
        if value is cfn.NO_VALUE:
            continue
        if isinstance(value, str):
            if not pattern.fullmatch(value):
                return lib.failed(f"subnet {subnet} is in {prop} {value}, not a zone of {REGION}")
            return kind, value
        if "Fn::GetAZs" in json.dumps(ctx.raw_property(subnet, prop), default=str):
            return lib.not_evaluated(f"subnet {subnet}: {prop} is picked from Fn::GetAZs at deploy time")
        if lib.undetermined(value) is None:
            return lib.failed(f"subnet {subnet}: {prop} is {lib.describe(value)}, not a zone of {REGION}")
        return lib.not_evaluated(f"subnet {subnet}: {prop}: {lib.undetermined(value)}")
    return lib.failed(f"subnet {subnet} sets no AvailabilityZone: AWS picks one, so three zones are not guaranteed")


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    subnet_ids = ctx.value(logical_id, "SubnetIds")
    if not isinstance(subnet_ids, list):
        return lib.not_evaluated(f"SubnetIds {lib.undetermined(subnet_ids) or lib.describe(subnet_ids)}")
    zones: dict[str, set[str]] = {"name": set(), "id": set()}
    problems: list[lib.Verdict] = []
    for entry in subnet_ids:
        subnet = lib.points_at(entry, SUBNET)
        if subnet is None or subnet.origin != "this":
            why = lib.undetermined(entry) or f"{lib.describe(entry)} is not a subnet of the template"
            problems.append(lib.not_evaluated(f"subnet {why}: its zone cannot be checked"))
            continue
        found = _zone(ctx, subnet.name)
        if isinstance(found, lib.Verdict):
            problems.append(found)
        else:
            zones[found[0]].add(found[1])
    failures = [p for p in problems if p.status == lib.FAILED]
    if failures:
        return lib.worst(failures)
    if zones["name"] and zones["id"]:
        # Zone names map to zone ids differently in every account: the two cannot be compared.
        names, ids = ", ".join(sorted(zones["name"])), ", ".join(sorted(zones["id"]))
        problems.append(lib.not_evaluated(f"zones given by name ({names}) and by id ({ids}) cannot be compared"))
    else:
        counted = sorted(zones["name"] or zones["id"])
        if len(counted) >= MINIMUM_ZONES:
            return lib.passed(f"{len(counted)} zones: {', '.join(counted)}")
        if not problems:
            return lib.failed(f"only {len(counted)} zone(s): {', '.join(counted) or 'none'}; {MINIMUM_ZONES} needed")
    return lib.worst(problems)


check = lib.make_check(METADATA, rule)
