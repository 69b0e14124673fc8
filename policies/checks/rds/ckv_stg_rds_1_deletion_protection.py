"""CKV_STG_RDS_1: RDS DB instances have deletion protection enabled.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_1",
    "name": "RDS DB instances have deletion protection enabled",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "The staging payments database must not be removable by a stack delete, a replacement or a mistaken "
    "API call. CloudFormation's default for DeletionProtection is false, so the property must be "
    "stated. No built-in checkov CloudFormation check covers it. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-DB-04"],
    "remediation": "Set deletion_protection=True on rds.DatabaseInstance (DeletionProtection: true). Turn it off "
    "deliberately, in its own change, before a planned teardown.",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.deletion_protection
    return lib.expect(ctx, logical_id, "DeletionProtection", wanted=lib.same_text(wanted), expected=f"{wanted}".lower())


check = lib.make_check(METADATA, rule)
