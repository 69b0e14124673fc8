"""CKV_STG_RDS_9: RDS DB instances have enhanced monitoring at 60-second granularity.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_9",
    "name": "RDS DB instances have enhanced monitoring at 60-second granularity",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": "The spec requires enhanced monitoring with 60-second granularity. RDS needs both the interval and "
    "a monitoring role; without the role the interval is rejected at deploy time. The built-in "
    "CKV_AWS_118 accepts any non-zero interval, so it does not enforce 60 s. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-MON-01"],
    "remediation": "Set monitoring_interval=Duration.seconds(60) and a monitoring role on rds.DatabaseInstance "
    "(MonitoringInterval: 60, MonitoringRoleArn).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    seconds = lib.spec().monitoring.enhanced_monitoring_interval_seconds
    interval = lib.expect(ctx, logical_id, "MonitoringInterval", wanted=lib.same_text(seconds), expected=f"{seconds}")
    role = ctx.value(logical_id, "MonitoringRoleArn")
    if role is cfn.NO_VALUE:
        return lib.worst([interval, lib.failed("MonitoringRoleArn is not set: RDS cannot publish enhanced monitoring")])
    return lib.worst([interval, lib.unknown_in(role, "MonitoringRoleArn") or lib.passed()])


check = lib.make_check(METADATA, rule)
