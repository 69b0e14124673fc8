"""CKV_STG_RDS_6: RDS DB instances are Multi-AZ deployments.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_6",
    "name": "RDS DB instances are Multi-AZ deployments",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "A synchronous standby in a second availability zone keeps the payments database available through "
    "an AZ outage, patching and instance failure. The spec requires Multi-AZ. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-DB-03"],
    "remediation": "Set multi_az=True on rds.DatabaseInstance (MultiAZ: true).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.multi_az
    return lib.expect(ctx, logical_id, "MultiAZ", wanted=lib.same_text(wanted), expected=f"{wanted}".lower())


check = lib.make_check(METADATA, rule)
