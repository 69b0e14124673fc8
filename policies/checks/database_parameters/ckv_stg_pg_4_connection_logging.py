"""CKV_STG_PG_4: the database logs every connection and disconnection.

Python (it was a YAML check of the group's values) because the behaviour is the instance's:
the values of the group it really runs with (``policies/lib/stg_rds.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_PG_4",
    "name": "The database logs every connection and disconnection",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": (
        "Connection and disconnection records (who, from where, when) are the audit trail of access to the payments "
        "database and feed the exported postgresql log. log_connections and log_disconnections must be 1 (RDS "
        "takes 1 or 0) in the group the instance really runs with: the template's group, of its engine's family."
    ),
    "requirements": ["REQ-PARAM-01", "REQ-CON-10"],
    "remediation": (
        'Set parameters={"log_connections": "1", "log_disconnections": "1"} on rds.ParameterGroup and pass that '
        "group to the instance."
    ),
    "resource_types": ["AWS::RDS::DBParameterGroup", "AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBParameterGroup"],
    "judges": {
        "AWS::RDS::DBParameterGroup": [
            "Parameters.log_connections",
            "Parameters.log_disconnections",
            "Family",
        ],
        "AWS::RDS::DBInstance": ["DBParameterGroupName", "Engine", "EngineVersion"],
    },
}
PARAMETERS = ("log_connections", "log_disconnections")


def _why_not(value: Any) -> str | None:
    return None if rds.integer(value) == 1 else "RDS takes 1 (log) or 0, and only 1 records each connection"


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return lib.worst([rds.judge_parameter(ctx, logical_id, name, why_not=_why_not) for name in PARAMETERS])


check = lib.make_check(METADATA, rule)
