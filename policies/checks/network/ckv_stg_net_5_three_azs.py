"""CKV_STG_NET_5: the DB subnet group spans three availability zones of us-east-1.

Python because the availability zones are properties of the subnets the group references.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_NET_5",
    "name": "DB subnet groups span at least three availability zones in us-east-1",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": (
        "The spec deploys across 3 availability zones using private database subnets, in us-east-1. Multi-AZ "
        "needs at least two; three lets RDS fail over even while one zone is impaired. Environment-agnostic "
        "CDK stacks silently get only two zones (Fn::GetAZs), so the zones must be literal."
    ),
    "requirements": ["REQ-NET-02", "REQ-TECH-11"],
    "remediation": (
        'Give ec2.Vpc availability_zones=["us-east-1a", "us-east-1b", "us-east-1c"] (cdk.json '
        "availabilityZones) and one database subnet per zone."
    ),
    "resource_types": ["AWS::RDS::DBSubnetGroup"],
}

REGION = "us-east-1"


def rule(template: lib.Template, logical_id: str) -> bool | None:
    zones: set[str] = set()
    for subnet_ref in lib.as_list(lib.properties(template, logical_id).get("SubnetIds")):
        subnet = lib.ref_target(subnet_ref)
        zone = lib.properties(template, subnet).get("AvailabilityZone") if subnet else None
        if not isinstance(zone, str) or not zone.startswith(REGION):
            return False
        zones.add(zone)
    return len(zones) >= 3


check = lib.make_check(METADATA, rule)
