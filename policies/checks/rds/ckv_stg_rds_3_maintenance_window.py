"""CKV_STG_RDS_3: RDS DB instances use the Sunday 03:00-05:00 EST maintenance window (sun:08:00-sun:10:00 UTC).

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_3",
    "name": "RDS DB instances use the Sunday 03:00-05:00 EST maintenance window (sun:08:00-sun:10:00 UTC)",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": "The spec sets the maintenance window to Sunday 3-5 AM EST. RDS windows are UTC and do not follow "
    "daylight saving: EST is UTC-5, so the window is sun:08:00-sun:10:00 (04:00-06:00 local while EDT "
    "is in effect). Without the property RDS picks a random weekly slot. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-PARAM-05", "REQ-CON-06"],
    "remediation": 'Set preferred_maintenance_window="sun:08:00-sun:10:00" (cdk.json maintenanceWindow).',
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {"AWS::RDS::DBInstance": ["PreferredMaintenanceWindow"]},
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    window = lib.spec().database.maintenance_window
    return lib.expect(
        ctx, logical_id, "PreferredMaintenanceWindow",
        wanted=lambda value: isinstance(value, str) and value.lower() == window, expected=f"{window} (UTC)",
    )  # fmt: skip


check = lib.make_check(METADATA, rule)
