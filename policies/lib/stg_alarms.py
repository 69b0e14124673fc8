"""The CloudWatch alarm that watches one RDS instance, judged by what it does (shared by CKV_STG_CW_1/2).

An alarm "on CPU above 80 %" only does its job if every property that decides when it fires
and whom it tells says so: the metric (``Namespace``, ``MetricName``, no metric math), the
series (``Dimensions``: exactly ``DBInstanceIdentifier`` = this instance, by Ref or by its
identifier as RDS spells it, lower case; an extra dimension names a series RDS never
publishes), the unit (``Unit`` absent or the metric's own, else no datapoint matches), the
statistic (``Statistic``/``ExtendedStatistic`` that can cross the threshold in the alarm's
direction), the window (``Period`` a multiple of RDS's 60-second metrics, ``EvaluationPeriods``
and ``DatapointsToAlarm`` within the spec's bounds), the threshold and its direction
(``Threshold`` with ``ComparisonOperator``), ``TreatMissingData`` set explicitly, and the
notification (``ActionsEnabled`` not false, ``AlarmActions`` naming an SNS topic of this stack whose
topic policies do not deny CloudWatch's ``sns:Publish`` and whose key lets CloudWatch encrypt for it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_kms
from policies.lib import stg_policy_lib as lib

ALARM_TYPE = "AWS::CloudWatch::Alarm"
TOPIC_TYPE = "AWS::SNS::Topic"
DIMENSION = "DBInstanceIdentifier"
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
METRIC_UNITS = {"CPUUtilization": "Percent", "FreeStorageSpace": "Bytes"}
# Statistics that can cross the threshold in the operator's direction (a Minimum of CPU rarely exceeds 80 %).
STATISTICS = {"Greater": ("Average", "Maximum"), "Less": ("Average", "Minimum")}
METRIC_SECONDS = 60  # RDS publishes its CloudWatch metrics every minute
_PERCENTILE = re.compile(r"^p(?P<value>\d{1,2}(\.\d+)?|100)$")
_TOPIC_ARN = re.compile(r"^arn:[^:]+:sns:(?P<region>[^:]*):(?P<account>[^:]*):(?P<name>[^:]+)$")

JUDGED = (
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
)


def instance_identifier(ctx: lib.Context, instance_id: str) -> str | None:
    """The instance's identifier as RDS (and so CloudWatch) spells it: lower case; None if generated."""
    identifier = lib.name_text(ctx, ctx.value(instance_id, "DBInstanceIdentifier"))
    return identifier.lower() if identifier is not None else None


def names_instance(ctx: lib.Context, value: Any, instance_id: str) -> bool | None:
    """Whether a resolved value is the instance's identifier (its Ref, or the text RDS gives it)."""
    if lib.names(value, instance_id):
        return True
    text = lib.name_text(ctx, value)
    if text is None:
        return None if cfn.unknowns(value) else False
    return text == instance_identifier(ctx, instance_id)


def watches_instance(ctx: lib.Context, alarm: Mapping[str, Any], instance_id: str) -> bool | None:
    """Whether the alarm's DBInstanceIdentifier dimension is the instance; None if the template cannot tell."""
    for dimension in lib.as_list(alarm.get("Dimensions")):
        if not isinstance(dimension, Mapping) or dimension.get("Name") != DIMENSION:
            continue
        found = names_instance(ctx, dimension.get("Value"), instance_id)
        if found is not False:
            return found
    return False


def _dimension_problems(alarm: Mapping[str, Any]) -> list[str]:
    names = sorted(str(d.get("Name")) for d in lib.as_list(alarm.get("Dimensions")) if isinstance(d, Mapping))
    if names != [DIMENSION]:
        return [f"Dimensions are {names}: RDS publishes the instance's series under {DIMENSION} alone"]
    return []


def _statistic_problems(alarm: Mapping[str, Any], direction: str) -> list[str]:
    statistic, extended = alarm.get("Statistic", cfn.NO_VALUE), alarm.get("ExtendedStatistic", cfn.NO_VALUE)
    wanted = STATISTICS[direction]
    if extended is not cfn.NO_VALUE:
        match = _PERCENTILE.match(str(extended))
        value = float(match["value"]) if match else None
        fits = value is not None and (value >= 50 if direction == "Greater" else value <= 50)
        if statistic is not cfn.NO_VALUE or not fits:
            return [f"ExtendedStatistic is {lib.describe(extended)}: a {direction.lower()}-than alarm needs "
                    f"{' or '.join(wanted)} or a percentile on that side of the median"]  # fmt: skip
        return []
    if statistic not in wanted:
        return [f"Statistic is {lib.describe(statistic)}: a {direction.lower()}-than alarm needs {' or '.join(wanted)}"]
    return []


def _window_problems(alarm: Mapping[str, Any]) -> list[str]:
    """Period and EvaluationPeriods within what the spec offers (infra/spec.toml [monitoring]): the window a
    breach must last is the project's to bound, so the policy and the app read the same numbers."""
    monitoring = lib.spec().monitoring
    minutes, periods_range = tuple(monitoring.alarm_period_minutes), monitoring.alarm_evaluation_periods
    problems = []
    period = lib.as_number(alarm.get("Period"))
    periods = lib.as_number(alarm.get("EvaluationPeriods"))
    datapoints = lib.as_number(alarm.get("DatapointsToAlarm", alarm.get("EvaluationPeriods")))
    if period is None or period % METRIC_SECONDS or period // METRIC_SECONDS not in minutes:
        problems.append(
            f"Period is {lib.describe(alarm.get('Period'))}: the spec offers periods of {', '.join(map(str, minutes))} "
            "minutes (RDS publishes a metric every 60 s)"
        )
    if periods is None or periods != int(periods) or not periods_range.min <= periods <= periods_range.max:
        problems.append(
            f"EvaluationPeriods is {lib.describe(alarm.get('EvaluationPeriods'))}: the spec bounds it to "
            f"{periods_range.min}..{periods_range.max}, so a breach is reported late or never"
        )
    if datapoints is None or datapoints < 1 or (periods is not None and datapoints > periods):
        problems.append(
            f"DatapointsToAlarm is {lib.describe(alarm.get('DatapointsToAlarm'))}: "
            "it must be between 1 and EvaluationPeriods"
        )
    return problems


def _topic_of_this_stack(ctx: lib.Context, action: Any) -> bool | None:
    """Whether an alarm action is an SNS topic of this template (its Ref, or its ARN); None if undetermined."""
    target = lib.points_at(action, TOPIC_TYPE)
    if target is not None:
        return target.origin == "this"
    text = iam.text_of(ctx, action)
    if text is None:
        return None if cfn.unknowns(action) or isinstance(action, cfn.Text) else False
    arn = _TOPIC_ARN.match(text)
    if arn is None:
        return False
    here = iam.is_this_account(ctx, arn["account"])
    region = arn["region"]
    if region not in (iam.REGION, ctx.environment.region) or here is False:
        return False
    names = [lib.name_text(ctx, ctx.value(topic, "TopicName")) for topic in ctx.of_type(TOPIC_TYPE)]
    if arn["name"] not in names:
        return None if None in names else False  # a topic of this account the template does not define
    return here


# CloudWatch publishes an alarm's notification as this service principal, over TLS.
CLOUDWATCH = "cloudwatch.amazonaws.com"
_PUBLISH = iam.Request(
    actions=("sns:Publish",), context={"aws:securetransport": "true"}, purpose="CloudWatch notifying the alarm"
)


def _denies_cloudwatch(ctx: lib.Context, statement: Any, topic_id: str) -> bool | None:  # noqa: PLR0911 - one return per part of the statement
    """Whether a topic policy statement denies CloudWatch's sns:Publish to the topic (None: cannot tell)."""
    if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
        return None
    if statement["Effect"] != "Deny":
        return False
    if "NotPrincipal" in statement or "NotResource" in statement:
        return None
    principal = statement.get("Principal")
    if principal != "*":
        if not isinstance(principal, Mapping):
            return None
        named = [*iam.as_list(principal.get("AWS", [])), *iam.as_list(principal.get("Service", []))]
        if not all(isinstance(p, str) for p in named):
            return None
        if not any(p in ("*", CLOUDWATCH) for p in named):
            return False
    resources = lib.as_list(statement.get("Resource", "*"))
    if not any(r == "*" or lib.names(r, topic_id) for r in resources):
        return None if any(cfn.unknowns(r) or isinstance(r, cfn.Text) for r in resources) else False
    results = (
        iam._action_matches(statement, "sns:Publish"),
        iam._conditions_hold(ctx, statement.get("Condition"), _PUBLISH),
    )
    if False in results:
        return False
    return None if None in results else True


def _publish_denied(ctx: lib.Context, topic_id: str) -> bool | None:
    """Whether a policy of this stack on the topic keeps CloudWatch from publishing to it (None: cannot tell).

    A topic that exists but refuses the alarm's publish notifies nobody, however well the alarm is set."""
    verdicts: list[bool | None] = []
    for policy_id in ctx.of_type("AWS::SNS::TopicPolicy"):
        policy = ctx.props(policy_id)
        if not isinstance(policy, Mapping):
            verdicts.append(None)
            continue
        topics = lib.as_list(policy.get("Topics"))
        if not any(lib.names(topic, topic_id) for topic in topics):
            if any(cfn.unknowns(topic) for topic in topics):
                verdicts.append(None)
            continue
        found = iam.statements(policy.get("PolicyDocument"))
        if not isinstance(found, list):
            verdicts.append(None)
            continue
        verdicts += [_denies_cloudwatch(ctx, statement, topic_id) for statement in found]
    if True in verdicts:
        return True
    return None if None in verdicts else False


# What CloudWatch calls on an encrypted topic's key to publish to it (AWS: "Amazon SNS topic encryption").
_ENCRYPTED_PUBLISH = iam.Request(
    actions=("kms:Decrypt", "kms:GenerateDataKey"),
    context={"aws:sourceaccount": iam.ACCOUNT, "aws:securetransport": "true"},
    purpose="CloudWatch publishing the alarm to the encrypted topic",
    service=CLOUDWATCH,
)


def _key_lets_cloudwatch_publish(ctx: lib.Context, topic_id: str) -> bool | None:
    """Whether the topic's customer-managed key (of this stack) lets CloudWatch encrypt a notification for it.

    An encrypted topic whose key policy does not grant cloudwatch.amazonaws.com drops every alarm
    notification; a key of another stack or an AWS managed key is the encryption policy's to judge."""
    setting = ctx.value(topic_id, "KmsMasterKeyId")
    if setting is cfn.NO_VALUE:
        return True
    key = stg_kms.named_key(ctx, setting)
    if isinstance(key, cfn.Unknown):
        return None
    if key is None or key.origin != "this" or key.resource_type != "AWS::KMS::Key":
        return True
    policy = ctx.value(key.name, "KeyPolicy")
    document = stg_kms.DEFAULT_KEY_POLICY if policy is cfn.NO_VALUE else policy
    verdict = iam.decide(ctx, document, _ENCRYPTED_PUBLISH, where=f"key {key.name} KeyPolicy")
    return {lib.PASSED: True, lib.FAILED: False}.get(verdict.status)


def _notifies(ctx: lib.Context, action: Any) -> bool | None:
    """Whether an alarm action is a topic of this stack that CloudWatch may publish to; None if undetermined."""
    here = _topic_of_this_stack(ctx, action)
    topic = lib.points_at(action, TOPIC_TYPE)
    if here is not True or topic is None:
        return here
    verdicts = (_publish_denied(ctx, topic.name), _key_lets_cloudwatch_publish(ctx, topic.name))
    denied, encrypts = verdicts
    if denied is True or encrypts is False:
        return False
    return None if None in verdicts else True


def actions_undecided(ctx: lib.Context, alarm: Mapping[str, Any]) -> bool:
    """Whether no alarm action is known to be a topic of this stack and the template cannot tell for some."""
    found = [_notifies(ctx, action) for action in lib.as_list(alarm.get("AlarmActions"))]
    return True not in found and None in found


def action_problems(ctx: lib.Context, alarm: Mapping[str, Any]) -> list[str]:
    problems = []
    if lib.truth(alarm.get("ActionsEnabled", True)) is not True:
        problems.append(f"ActionsEnabled is {lib.describe(alarm.get('ActionsEnabled'))}: it would notify nobody")
    found = [_notifies(ctx, action) for action in lib.as_list(alarm.get("AlarmActions"))]
    if True not in found:
        problems.append(
            f"AlarmActions are {lib.describe(alarm.get('AlarmActions', cfn.NO_VALUE))}: none is known to be an SNS topic "
            f"of this stack that {CLOUDWATCH} may publish to (its topic policy must not deny sns:Publish, and the "
            "key that encrypts it must let CloudWatch call kms:Decrypt and kms:GenerateDataKey)"
        )
    return problems


def alarm_problems(
    ctx: lib.Context, alarm: Mapping[str, Any], *, metric: str, operator: str, threshold: float
) -> list[str]:
    """What keeps an alarm on ``metric`` from being the compliant one (empty: it is)."""
    direction = "Greater" if operator.startswith("Greater") else "Less"
    problems = []
    if alarm.get("Namespace") != "AWS/RDS" or alarm.get("MetricName") != metric:
        problems.append(f"watches {lib.describe(alarm.get('Namespace'))}/{lib.describe(alarm.get('MetricName'))}")
    if alarm.get("Metrics", cfn.NO_VALUE) is not cfn.NO_VALUE:
        problems.append("Metrics replaces the metric with an expression the gate does not review")
    problems += _dimension_problems(alarm)
    unit = alarm.get("Unit", cfn.NO_VALUE)
    if unit is not cfn.NO_VALUE and unit != METRIC_UNITS[metric]:
        problems.append(f"Unit is {lib.describe(unit)}: {metric} is published in {METRIC_UNITS[metric]}, "
                        "so the alarm would match no datapoint")  # fmt: skip
    problems += _statistic_problems(alarm, direction)
    problems += _window_problems(alarm)
    if alarm.get("ComparisonOperator") != operator:
        problems.append(f"ComparisonOperator is {lib.describe(alarm.get('ComparisonOperator'))}, not {operator}")
    if lib.as_number(alarm.get("Threshold")) != threshold:
        problems.append(f"Threshold is {lib.describe(alarm.get('Threshold'))}, not {threshold:g}")
    if alarm.get("TreatMissingData") not in TREAT_MISSING_DATA:
        problems.append(f"TreatMissingData is {lib.describe(alarm.get('TreatMissingData'))}, not set explicitly")
    problems += action_problems(ctx, alarm)
    return problems


def _judge_alarm(  # noqa: PLR0911 - one return per way an alarm can be about this instance
    ctx: lib.Context, alarm_id: str, instance_id: str, *, metric: str, operator: str, threshold: float
) -> tuple[str, str] | None:
    """("passed"|"failed"|"undecided", reason) for one alarm on ``metric``; None if it is not about the instance."""
    alarm = ctx.props(alarm_id)
    if not isinstance(alarm, Mapping):
        return "undecided", f"{alarm_id}: its properties are not determined by the template"
    if alarm.get("MetricName") != metric:
        if cfn.unknowns(alarm.get("MetricName")):
            return "undecided", f"{alarm_id}: MetricName is not determined by the template"
        return None
    watches = watches_instance(ctx, alarm, instance_id)
    if watches is None:
        return "undecided", f"{alarm_id}: its {DIMENSION} dimension is not determined by the template"
    if not watches:
        return None
    problems = alarm_problems(ctx, alarm, metric=metric, operator=operator, threshold=threshold)
    if not problems:
        return "passed", alarm_id
    unknown = lib.unknown_in({key: alarm.get(key) for key in JUDGED}, alarm_id)
    if unknown is not None:
        return "undecided", unknown.reason
    if actions_undecided(ctx, alarm) and all(p.startswith("AlarmActions") for p in problems):
        return "undecided", f"{alarm_id}: whether AlarmActions name a topic of this stack is not determined"
    return "failed", f"{alarm_id}: {', '.join(problems)}"


def compliant_alarm(ctx: lib.Context, instance_id: str, *, metric: str, operator: str, threshold: float) -> lib.Verdict:
    """Passed if an alarm on AWS/RDS ``metric`` of the instance fires and notifies as the spec asks."""
    found: dict[str, list[str]] = {"passed": [], "failed": [], "undecided": []}
    for alarm_id in ctx.of_type(ALARM_TYPE):
        judged = _judge_alarm(ctx, alarm_id, instance_id, metric=metric, operator=operator, threshold=threshold)
        if judged is not None:
            found[judged[0]].append(judged[1])
    if found["passed"]:
        return lib.passed(found["passed"][0])
    if found["undecided"]:
        return lib.not_evaluated("; ".join(found["undecided"]))
    if found["failed"]:
        return lib.failed("; ".join(found["failed"]))
    return lib.failed(f"no {metric} alarm watches this instance ({DIMENSION} = its Ref or identifier)")
