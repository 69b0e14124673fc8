"""CKV_STG_CW_2: each RDS instance has a free-storage alarm below 10 GiB, in bytes.

Python for the same reason as CKV_STG_CW_1 (the alarm is another resource), and because the
unit matters: FreeStorageSpace is reported in bytes, so 10 GiB is 10737418240, not 10.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_alarms
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_CW_2",
    "name": "RDS DB instances have a FreeStorageSpace alarm below 10 GiB (10737418240 bytes) with actions",
    "category": "LOGGING",
    "severity": "HIGH",
    "rationale": (
        "The spec requires a CloudWatch alarm for storage space below 10GB. RDS publishes FreeStorageSpace in "
        "bytes and allocates storage in GiB, so the threshold is 10 * 1024^3 = 10737418240 with "
        "LessThanThreshold; a threshold of 10 (the unit mistake) would never fire. EvaluationPeriods and "
        "TreatMissingData must be explicit and the alarm must notify."
    ),
    "requirements": ["REQ-MON-03", "REQ-TECH-06"],
    "remediation": (
        "cloudwatch.Alarm(metric=instance.metric_free_storage_space(), threshold=Size.gibibytes(10).to_bytes(), "
        "comparison_operator=LESS_THAN_THRESHOLD, evaluation_periods=3, treat_missing_data=BREACHING) plus "
        "add_alarm_action(SnsAction(topic))."
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
        metric="FreeStorageSpace",
        operator="LessThanThreshold",
        threshold=lib.spec().monitoring.free_storage_alarm_threshold_bytes,
    )


check = lib.make_check(METADATA, rule)
