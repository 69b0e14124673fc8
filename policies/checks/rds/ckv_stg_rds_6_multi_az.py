"""CKV_STG_RDS_6: RDS DB instances are Multi-AZ deployments.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). RDS refuses an
AvailabilityZone on a Multi-AZ instance, so it is judged with MultiAZ.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_RDS_6",
    "name": "RDS DB instances are Multi-AZ deployments",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "A synchronous standby in a second availability zone keeps the payments database available through "
    "an AZ outage, patching and instance failure. The spec requires Multi-AZ. The value is read from "
    "infra/spec.toml. RDS places a Multi-AZ instance itself: with an AvailabilityZone it refuses to create it. "
    "A member of a DB cluster is placed by the cluster.",
    "requirements": ["REQ-DB-03"],
    "remediation": "Set multi_az=True and no availability_zone on rds.DatabaseInstance (MultiAZ: true, no "
    "AvailabilityZone).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {"AWS::RDS::DBInstance": ["MultiAZ", "AvailabilityZone", "DBClusterIdentifier"]},
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.multi_az
    verdicts = [lib.expect(ctx, logical_id, "MultiAZ", wanted=lib.same_text(wanted), expected=f"{wanted}".lower())]
    zone = ctx.value(logical_id, "AvailabilityZone")
    if zone is not cfn.NO_VALUE:
        verdicts.append(
            lib.unknown_in(zone, "AvailabilityZone")
            or lib.failed(
                f"AvailabilityZone is {lib.describe(zone)}: RDS refuses to create a Multi-AZ instance pinned to one zone"
            )
        )
    verdicts.append(rds.cluster_member(ctx, logical_id, "its placement and standby") or lib.passed())
    return lib.worst(verdicts)


check = lib.make_check(METADATA, rule)
