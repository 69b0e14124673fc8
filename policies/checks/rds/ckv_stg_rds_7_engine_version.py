"""CKV_STG_RDS_7: RDS DB instances run PostgreSQL 13 at a minor version RDS can still create.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

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
    "RDS retires a minor.",
    "requirements": ["REQ-DB-01", "REQ-TECH-02"],
    "remediation": 'Set engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.of("13.23", '
    '"13")) (cdk.json postgresVersion "13.23").',
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    database = lib.spec().database
    versions = ", ".join(database.engine_versions)
    return lib.worst(
        [
            lib.expect(ctx, logical_id, "Engine", wanted=lib.same_text(database.engine), expected=database.engine),
            lib.expect(
                ctx, logical_id, "EngineVersion",
                wanted=lambda value: value in database.engine_versions, expected=f"one of {versions}",
            ),
        ]
    )  # fmt: skip


check = lib.make_check(METADATA, rule)
