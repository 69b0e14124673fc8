"""CKV_STG_CW_1: each RDS instance has a CPU alarm at > 80 %.

Python because "an alarm exists for this instance" is a fact about other resources: removing
the alarm must fail the instance, which no per-alarm check can do.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_alarms
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_CW_1",
    "name": "RDS DB instances have a CPUUtilization alarm above 80 percent with actions",
    "category": "LOGGING",
    "severity": "HIGH",
    "rationale": (
        "The spec requires a CloudWatch alarm for CPU utilization above 80%. 'Above' is strictly greater "
        "(GreaterThanThreshold; CDK's default is >=). EvaluationPeriods and TreatMissingData must be explicit "
        "so the alarm's behaviour during gaps (reboot, failover) is a reviewed decision, and it must notify "
        "through an alarm action."
    ),
    "requirements": ["REQ-MON-02", "REQ-TECH-06"],
    "remediation": (
        "cloudwatch.Alarm(metric=instance.metric_cpu_utilization(), threshold=80, "
        "comparison_operator=GREATER_THAN_THRESHOLD, evaluation_periods=3, treat_missing_data=NOT_BREACHING) "
        "plus add_alarm_action(SnsAction(topic))."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    # Every property that decides whether the alarm fires on this instance and tells someone.
    "judges": {
        "AWS::CloudWatch::Alarm": [
            "Namespace",
            "MetricName",
            "Metrics",
            "Dimensions",
            "Unit",
            "Statistic",
            "ExtendedStatistic",
            "Period",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "ActionsEnabled",
            "AlarmActions",
        ],
    },
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return stg_alarms.compliant_alarm(
        ctx,
        logical_id,
        metric="CPUUtilization",
        operator="GreaterThanThreshold",
        threshold=lib.spec().monitoring.cpu_alarm_threshold_percent,
    )


check = lib.make_check(METADATA, rule)
