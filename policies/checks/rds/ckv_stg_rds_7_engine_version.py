"""CKV_STG_RDS_7: RDS DB instances run PostgreSQL 13 at a minor version RDS can still create.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). What the instance
runs is decided with EngineVersion by AllowMajorVersionUpgrade (a major upgrade leaves 13),
EngineLifecycleSupport (PostgreSQL 13 past standard support is created only with RDS Extended
Support) and by a snapshot or source instance (whose engine version the instance takes).
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
    "id": "CKV_STG_RDS_7",
    "name": "RDS DB instances run PostgreSQL 13 at a minor version RDS can still create",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": "The dev database runs PostgreSQL 13.7, which RDS no longer offers (CreateDBInstance fails with "
    '"Cannot find version 13.7 for postgres"); CDK still has the deprecated constant and synthesizes it '
    "without a warning. The staging copy keeps the major version (13, so dumps and logical replication "
    "from dev work) at a creatable minor. PostgreSQL 13 is in RDS Extended Support since 2026-03-01. "
    "The allow-list (infra/spec.toml database.engine_versions, which the app's config reads too) holds the "
    "PostgreSQL 13 minors RDS creates and cfn-lint does not flag as deprecated as of 2026-11; update it when "
    "RDS retires a minor. AllowMajorVersionUpgrade true lets the instance leave PostgreSQL 13 (dumps and "
    "replication from dev stop working). EngineLifecycleSupport open-source-rds-extended-support-disabled makes "
    "RDS refuse to create a PostgreSQL 13 instance (past standard support). A restore or replica runs its "
    "source's engine version.",
    "requirements": ["REQ-DB-01", "REQ-TECH-02"],
    "remediation": 'Set engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.of("13.23", '
    '"13")) (cdk.json postgresVersion "13.23"), allow_major_version_upgrade=False and engine_lifecycle_support='
    "OPEN_SOURCE_RDS_EXTENDED_SUPPORT, on a new instance.",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": [
            "Engine",
            "EngineVersion",
            "AllowMajorVersionUpgrade",
            "EngineLifecycleSupport",
            "DBSnapshotIdentifier",
            "DBClusterSnapshotIdentifier",
            "SourceDBInstanceIdentifier",
            "SourceDBClusterIdentifier",
            "SourceDbiResourceId",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceRegion",
            "RestoreTime",
            "UseLatestRestorableTime",
        ],
    },
}

EXTENDED_SUPPORT = "open-source-rds-extended-support"  # AWS: the default, and what a 13.x instance needs


def _major_upgrades(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    allowed = ctx.value(logical_id, "AllowMajorVersionUpgrade")
    if allowed is cfn.NO_VALUE or lib.truth(allowed) is False:
        return lib.passed()
    return lib.unknown_in(allowed, "AllowMajorVersionUpgrade") or lib.failed(
        f"AllowMajorVersionUpgrade is {lib.describe(allowed)}: the instance may be upgraded off PostgreSQL "
        f"{lib.spec().database.major_version}"
    )


def _lifecycle(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    support = ctx.value(logical_id, "EngineLifecycleSupport")
    if support is cfn.NO_VALUE or support == EXTENDED_SUPPORT:
        return lib.passed()
    return lib.unknown_in(support, "EngineLifecycleSupport") or lib.failed(
        f"EngineLifecycleSupport is {lib.describe(support)}: RDS creates PostgreSQL "
        f"{lib.spec().database.major_version} (past standard support) only with RDS Extended Support"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    database = lib.spec().database
    versions = ", ".join(database.engine_versions)
    inherited = rds.inherited(ctx, logical_id, "the engine and its version")
    return lib.worst(
        [
            lib.expect(ctx, logical_id, "Engine", wanted=lib.same_text(database.engine), expected=database.engine),
            lib.expect(
                ctx, logical_id, "EngineVersion",
                wanted=lambda value: value in database.engine_versions, expected=f"one of {versions}",
            ),
            _major_upgrades(ctx, logical_id),
            _lifecycle(ctx, logical_id),
            inherited or lib.passed(),
        ]
    )  # fmt: skip


check = lib.make_check(METADATA, rule)
