"""CKV_STG_CW_4: a CloudWatch dashboard shows each RDS instance's metrics.

Python because the dashboard is another resource whose body (JSON written as a string or as
a Fn::Join/Fn::Sub of strings and references) must plot a metric of the instance. The body
is parsed: the instance must be the DBInstanceIdentifier dimension of a metric of a widget,
not merely mentioned somewhere in it (a text widget naming the database plots nothing).
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_CW_4",
    "name": "RDS DB instances have a CloudWatch dashboard showing their metrics",
    "category": "LOGGING",
    "severity": "LOW",
    "rationale": (
        "The spec asks for CloudWatch metrics and dashboards. A dashboard that plots the instance's metrics "
        "(and the alarms) is what on-call opens first during the migration and after. A dashboard body the "
        "template does not determine (a parameter, another stack's export) cannot be verified and fails."
    ),
    "requirements": ["REQ-MON-04", "REQ-TECH-06"],
    "remediation": "Add a cloudwatch.Dashboard with widgets on the instance's metrics and alarms.",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}

DASHBOARD_TYPE = "AWS::CloudWatch::Dashboard"
DIMENSION = "DBInstanceIdentifier"


def _metric_rows(body: Any) -> list[list[Any]]:
    """Every ``metrics`` row of every widget of a parsed dashboard body."""
    widgets = body.get("widgets") if isinstance(body, Mapping) else None
    rows: list[list[Any]] = []
    for widget in widgets if isinstance(widgets, list) else []:
        properties = widget.get("properties") if isinstance(widget, Mapping) else None
        metrics = properties.get("metrics") if isinstance(properties, Mapping) else None
        rows.extend(row for row in (metrics if isinstance(metrics, list) else []) if isinstance(row, list))
    return rows


def _plots(row: list[Any], instance_id: str, identifier: Any) -> bool | None:
    """Whether a metrics row has the instance as its DBInstanceIdentifier dimension; None if undetermined."""
    undecided = False
    for name, value in itertools.pairwise(row):
        if name != DIMENSION:
            continue
        if lib.names(value, instance_id) or (identifier is not None and value == identifier):
            return True
        other = lib.symbol(value)
        if other is not None and other.kind in ("ref", "getatt") and other.origin == "this":
            continue  # another resource of the template
        if isinstance(value, str) and (identifier is None or isinstance(identifier, str)):
            continue  # another instance's name (a generated identifier cannot be written literally)
        undecided = True
    return None if undecided else False


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    identifier = ctx.value(logical_id, "DBInstanceIdentifier")
    if identifier is cfn.NO_VALUE:
        identifier = None  # CloudFormation generates it: only a Ref to the instance can name it
    undecided: list[str] = []
    dashboards = ctx.of_type(DASHBOARD_TYPE)
    for dashboard in dashboards:
        body = lib.parse_json_text(ctx.value(dashboard, "DashboardBody"))
        if not isinstance(body, Mapping):
            undecided.append(f"{dashboard}: DashboardBody: {lib.undetermined(body) or lib.describe(body)}")
            continue
        found = [_plots(row, logical_id, identifier) for row in _metric_rows(body)]
        if True in found:
            return lib.passed(f"{dashboard} plots its metrics")
        if None in found:
            undecided.append(f"{dashboard}: a metric's {DIMENSION} is not determined by the template")
    if undecided:
        return lib.not_evaluated("; ".join(undecided))
    if not dashboards:
        return lib.failed(f"the template has no {DASHBOARD_TYPE}")
    return lib.failed(f"no dashboard ({', '.join(dashboards)}) plots a metric with {DIMENSION} = this instance")


check = lib.make_check(METADATA, rule)
