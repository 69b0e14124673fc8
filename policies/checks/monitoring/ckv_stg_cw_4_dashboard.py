"""CKV_STG_CW_4: a CloudWatch dashboard shows each RDS instance's metrics.

Python because the dashboard is another resource whose body (a Fn::Join string) must
reference the instance.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_CW_4",
    "name": "RDS DB instances have a CloudWatch dashboard showing their metrics",
    "category": "LOGGING",
    "severity": "LOW",
    "rationale": (
        "The spec asks for CloudWatch metrics and dashboards. A dashboard that plots the instance's metrics "
        "(and the alarms) is what on-call opens first during the migration and after."
    ),
    "requirements": ["REQ-MON-04", "REQ-TECH-06"],
    "remediation": "Add a cloudwatch.Dashboard with widgets on the instance's metrics and alarms.",
    "resource_types": ["AWS::RDS::DBInstance"],
}


def rule(template: lib.Template, logical_id: str) -> bool | None:
    identifier = lib.properties(template, logical_id).get("DBInstanceIdentifier")
    for _, dashboard in lib.of_type(template, "AWS::CloudWatch::Dashboard"):
        body = dashboard.get("DashboardBody")
        if lib.references(body, logical_id) or (isinstance(identifier, str) and lib.contains_string(body, identifier)):
            return True
    return False


check = lib.make_check(METADATA, rule)
