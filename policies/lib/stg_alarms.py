"""Finding the CloudWatch alarm that watches one RDS instance (shared by CKV_STG_CW_1/2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

ALARM_TYPE = "AWS::CloudWatch::Alarm"
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


def watches_instance(ctx: lib.Context, alarm: Mapping[str, Any], instance_id: str) -> bool | None:
    """Whether the alarm's DBInstanceIdentifier dimension is the instance; None if the template cannot tell."""
    identifier = ctx.value(instance_id, "DBInstanceIdentifier")
    for dimension in alarm.get("Dimensions") or []:
        if not isinstance(dimension, Mapping) or dimension.get("Name") != "DBInstanceIdentifier":
            continue
        value = dimension.get("Value")
        target = lib.symbol(value)
        if target is not None and target.kind == "ref" and target.name == instance_id:
            return True
        if isinstance(value, str) and isinstance(identifier, str) and value == identifier:
            return True
        if cfn.unknowns(value):
            return None
    return False


def alarm_problems(alarm: Mapping[str, Any], *, metric: str, operator: str, threshold: float) -> list[str]:
    """What keeps an alarm on ``metric`` from being the compliant one (empty: it is)."""
    problems = []
    if alarm.get("Namespace") != "AWS/RDS" or alarm.get("MetricName") != metric:
        problems.append(f"watches {lib.describe(alarm.get('Namespace'))}/{lib.describe(alarm.get('MetricName'))}")
    if alarm.get("ComparisonOperator") != operator:
        problems.append(f"ComparisonOperator is {lib.describe(alarm.get('ComparisonOperator'))}, not {operator}")
    found = lib.as_number(alarm.get("Threshold"))
    if found != threshold:
        problems.append(f"Threshold is {lib.describe(alarm.get('Threshold'))}, not {threshold:g}")
    if (lib.as_number(alarm.get("EvaluationPeriods")) or 0) < 1:
        problems.append("EvaluationPeriods is not a positive number")
    if alarm.get("TreatMissingData") not in TREAT_MISSING_DATA:
        problems.append("TreatMissingData is not set explicitly")
    if not alarm.get("AlarmActions"):
        problems.append("it has no AlarmActions")
    if lib.truth(alarm.get("ActionsEnabled")) is False:
        problems.append("its actions are disabled")
    return problems


def compliant_alarm(ctx: lib.Context, instance_id: str, *, metric: str, operator: str, threshold: float) -> lib.Verdict:
    """Passed if an alarm on AWS/RDS ``metric`` of the instance has the operator, threshold and explicit settings."""
    seen: list[str] = []
    undecided: list[str] = []
    for alarm_id in ctx.of_type(ALARM_TYPE):
        alarm = ctx.props(alarm_id)
        if not isinstance(alarm, Mapping) or alarm.get("MetricName") != metric:
            if isinstance(alarm, Mapping) and cfn.unknowns(alarm.get("MetricName")):
                undecided.append(f"{alarm_id}: MetricName is not determined by the template")
            continue
        watches = watches_instance(ctx, alarm, instance_id)
        if watches is None:
            undecided.append(f"{alarm_id}: its DBInstanceIdentifier dimension is not determined by the template")
            continue
        if not watches:
            continue
        unknown = lib.unknown_in(alarm, alarm_id)
        problems = alarm_problems(alarm, metric=metric, operator=operator, threshold=threshold)
        if not problems:
            return lib.passed(f"{alarm_id}")
        if unknown is not None:
            undecided.append(unknown.reason)
        seen.append(f"{alarm_id}: {', '.join(problems)}")
    if undecided:
        return lib.not_evaluated("; ".join(undecided))
    if seen:
        return lib.failed("; ".join(seen))
    return lib.failed(f"no {metric} alarm watches this instance")
