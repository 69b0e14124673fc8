"""CKV_STG_RDS_2: RDS DB instances keep automated backups for at least 7 days, in the Region, after deletion too.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). Besides the
retention period, three things decide whether 7 days of automated backups exist: a read
replica has no backups of its own, DeleteAutomatedBackups (default true) removes them the
moment the instance is deleted, and BackupTarget keeps them off the Region's storage.
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
    "id": "CKV_STG_RDS_2",
    "name": "RDS DB instances keep automated backups for at least 7 days, in the Region, also after deletion",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "The spec requires automated backups with a 7-day retention period; point-in-time recovery covers "
    "that window. A missing value means the CloudFormation default (1 day); 0 disables backups; RDS accepts at most "
    "35. The value is read from infra/spec.toml. DeleteAutomatedBackups defaults to true: deleting the instance "
    "(after deletion protection is lifted) then deletes its automated backups at once instead of keeping them for "
    "the retention period. BackupTarget outposts or local keeps backups on an Outpost or Local Zone, not in the "
    "Region's storage. A read replica (SourceDBInstanceIdentifier, SourceDBClusterIdentifier) has backups disabled "
    "and takes none of its own.",
    "requirements": ["REQ-DB-05"],
    "remediation": "Set backup_retention=Duration.days(7) (or more, up to 35) and delete_automated_backups=False on a "
    "new rds.DatabaseInstance (BackupRetentionPeriod >= 7, DeleteAutomatedBackups: false, no BackupTarget other than "
    "region).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": [
            "BackupRetentionPeriod",
            "DeleteAutomatedBackups",
            "BackupTarget",
            "SourceDBInstanceIdentifier",
            "SourceDBClusterIdentifier",
            "DBClusterIdentifier",
        ],
    },
}

MAXIMUM_DAYS = 35  # AWS: RDS keeps automated backups for 0 to 35 days


def _retention(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    days = lib.spec().database.backup_retention_days
    verdict = lib.expect(
        ctx, logical_id, "BackupRetentionPeriod", wanted=lib.at_least(days), expected=f"at least {days} days"
    )
    number = lib.as_number(ctx.value(logical_id, "BackupRetentionPeriod"))
    if verdict.status == lib.PASSED and number is not None and number > MAXIMUM_DAYS:
        return lib.failed(f"BackupRetentionPeriod is {number:g}: RDS accepts at most {MAXIMUM_DAYS} days")
    return verdict


def _kept_after_deletion(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    value = ctx.value(logical_id, "DeleteAutomatedBackups")
    if value is not cfn.NO_VALUE and lib.truth(value) is False:
        return lib.passed()
    shown = "not set (RDS's default, true)" if value is cfn.NO_VALUE else lib.describe(value)
    return lib.unknown_in(value, "DeleteAutomatedBackups") or lib.failed(
        f"DeleteAutomatedBackups is {shown}: deleting the instance deletes its automated backups at once, "
        "not after the retention period"
    )


def _in_region(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    target = ctx.value(logical_id, "BackupTarget")
    if target is cfn.NO_VALUE or target == "region":
        return lib.passed()
    return lib.unknown_in(target, "BackupTarget") or lib.failed(
        f"BackupTarget is {lib.describe(target)}: backups are kept on an Outpost or in a Local Zone, not in the "
        "Region's storage"
    )


def _own_backups(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    found = rds.origin(ctx, logical_id)
    if isinstance(found, rds.Origin) and found.replica:
        return lib.failed(
            f"{found.prop} is {lib.describe(found.value)}: the instance is a read replica, which takes no "
            "automated backups of its own"
        )
    if isinstance(found, lib.Verdict):
        return found
    return rds.cluster_member(ctx, logical_id, "its backups") or lib.passed()


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return lib.worst(
        [
            _retention(ctx, logical_id),
            _kept_after_deletion(ctx, logical_id),
            _in_region(ctx, logical_id),
            _own_backups(ctx, logical_id),
        ]
    )


check = lib.make_check(METADATA, rule)
