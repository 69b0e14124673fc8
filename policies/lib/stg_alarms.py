"""Finding the CloudWatch alarm that watches one RDS instance (shared by CKV_STG_CW_1/2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stg_policy_lib as lib


def watches_instance(template: lib.Template, alarm: Mapping[str, Any], instance_id: str) -> bool:
    """True if the alarm's DBInstanceIdentifier dimension is the instance (Ref or its literal identifier)."""
    identifier = lib.properties(template, instance_id).get("DBInstanceIdentifier")
    for dimension in lib.as_list(alarm.get("Dimensions")):
        if isinstance(dimension, Mapping) and dimension.get("Name") == "DBInstanceIdentifier":
            value = dimension.get("Value")
            if lib.ref_target(value) == instance_id or (identifier is not None and value == identifier):
                return True
    return False


def has_compliant_alarm(
    template: lib.Template, instance_id: str, *, metric: str, operator: str, threshold: float
) -> bool:
    """An alarm on AWS/RDS ``metric`` of the instance, with the operator, threshold and explicit settings."""
    for _, alarm in lib.of_type(template, "AWS::CloudWatch::Alarm"):
        if (
            alarm.get("Namespace") == "AWS/RDS"
            and alarm.get("MetricName") == metric
            and watches_instance(template, alarm, instance_id)
            and alarm.get("ComparisonOperator") == operator
            and lib.as_number(alarm.get("Threshold")) == threshold
            and (lib.as_number(alarm.get("EvaluationPeriods")) or 0) >= 1
            and alarm.get("TreatMissingData") in ("breaching", "notBreaching", "ignore", "missing")
            and lib.as_list(alarm.get("AlarmActions"))
            and not lib.is_false(alarm.get("ActionsEnabled"))
        ):
            return True
    return False
