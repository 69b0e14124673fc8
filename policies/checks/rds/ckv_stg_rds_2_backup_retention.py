"""CKV_STG_RDS_2: RDS DB instances keep automated backups for at least 7 days.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_2",
    "name": "RDS DB instances keep automated backups for at least 7 days",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "The spec requires automated backups with a 7-day retention period; point-in-time recovery covers "
    "that window. A missing value means the CloudFormation default (1 day); 0 disables backups. The "
    "value is read from infra/spec.toml.",
    "requirements": ["REQ-DB-05"],
    "remediation": "Set backup_retention=Duration.days(7) (or more) on rds.DatabaseInstance (BackupRetentionPeriod "
    ">= 7).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    days = lib.spec().database.backup_retention_days
    return lib.expect(
        ctx, logical_id, "BackupRetentionPeriod", wanted=lib.at_least(days), expected=f"at least {days} days"
    )


check = lib.make_check(METADATA, rule)
