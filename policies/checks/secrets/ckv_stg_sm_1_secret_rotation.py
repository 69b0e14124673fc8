"""CKV_STG_SM_1: every Secrets Manager secret is rotated, often enough, by code the stack reviewed.

Python because the schedule is a separate resource that may reference the secret directly or
through an AWS::SecretsManager::SecretTargetAttachment (what CDK emits for RDS secrets): a
two-hop relation checkov's YAML connections cannot express. A schedule only rotates when its
rules fire (a ScheduleExpression may name a date that never comes) and its function can
rotate this secret: another account's function, or a hosted rotation for another engine, is
rotation in name only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_secrets_manager as sm

METADATA = {
    "id": "CKV_STG_SM_1",
    "name": "Secrets Manager secrets rotate automatically, at least every 90 days, by a function of the stack",
    "category": "SECRETS",
    "severity": "HIGH",
    "rationale": (
        "The spec requires automatic secret rotation. A secret without an AWS::SecretsManager::RotationSchedule "
        "keeps the same credential until someone remembers to change it. A schedule rotates only if its "
        "RotationRules fire at least every rotation_max_days (infra/spec.toml: 90, PCI DSS 8.3.9): "
        "AutomaticallyAfterDays, or a rate() or cron() ScheduleExpression that fires at least monthly (a cron of "
        "a month or a day that may not come may never fire), and only if a function can rotate it: a Lambda "
        "function of this template (another account's function is code nobody here controls; one of this account "
        "outside the template is not evaluated) or a hosted rotation of the secret's engine. A schedule whose "
        "SecretId the template does not determine may or may not be this secret's: not evaluated."
    ),
    "requirements": ["REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Prefer RDS-managed master passwords (no secret resource at all). Otherwise call "
        "secret.add_rotation_schedule(rotation_lambda=<a function of the stack>, "
        "automatically_after=Duration.days(30)) or instance.add_rotation_single_user(...)."
    ),
    "resource_types": ["AWS::SecretsManager::Secret"],
    "judges": {
        "AWS::SecretsManager::RotationSchedule": [
            "SecretId",
            "RotationRules",
            "RotationRules.AutomaticallyAfterDays",
            "RotationRules.ScheduleExpression",
            "RotationLambdaARN",
            "HostedRotationLambda.RotationType",
        ],
        "AWS::SecretsManager::SecretTargetAttachment": ["SecretId"],
    },
}

FUNCTION = "AWS::Lambda::Function"
_RATE = re.compile(r"^rate\((?P<count>\d+) (?P<unit>hours?|days?)\)$")
_CRON = re.compile(r"^cron\((?P<fields>[^)]*)\)$")
_LAMBDA_ARN = re.compile(r"^arn:[^:]*:lambda:[^:]*:(?P<account>[^:]*):function:")
# Day-of-month fields that fire every month (a day every month has, a wildcard, or the last day).
_MONTHLY_DAY = re.compile(r"^(\*|\?|L|([1-9]|1\d|2[0-8])([-,/]([1-9]|1\d|2[0-8]))*)$")


def _days_between(rules: Mapping[str, Any]) -> float | str | cfn.Unknown:
    """At most how many days pass between rotations, or why the rules do not say (text: fails)."""
    days = rules.get("AutomaticallyAfterDays", cfn.NO_VALUE)
    if days is not cfn.NO_VALUE:
        number = lib.as_number(days)
        if number is None:
            return days if isinstance(days, cfn.Unknown) else f"AutomaticallyAfterDays is {lib.describe(days)}"
        return number if number >= 1 else f"AutomaticallyAfterDays is {lib.describe(days)}: no rotation"
    expression = rules.get("ScheduleExpression", cfn.NO_VALUE)
    if not isinstance(expression, str):
        return (
            expression
            if isinstance(expression, cfn.Unknown)
            else "neither AutomaticallyAfterDays nor ScheduleExpression"
        )
    rate = _RATE.fullmatch(expression.strip())
    if rate:
        count = int(rate["count"])
        return count / 24 if rate["unit"].startswith("hour") else float(count)
    cron = _CRON.fullmatch(expression.strip())
    fields = cron["fields"].split() if cron else []
    if len(fields) == 6 and fields[3] == "*" and fields[5] in ("*", "?") and _MONTHLY_DAY.fullmatch(fields[2]):
        return 31.0
    return f"ScheduleExpression {expression!r} may fire less often than monthly, or never"


def _timing(rules: Any, maximum: int) -> lib.Verdict:
    if rules is cfn.NO_VALUE:
        return lib.failed("has no RotationRules")
    if not isinstance(rules, Mapping):
        return lib.unknown_in(rules, "RotationRules") or lib.failed("RotationRules is not a mapping")
    found = _days_between(rules)
    if isinstance(found, cfn.Unknown):
        return lib.not_evaluated(f"RotationRules: {found.reason}")
    if isinstance(found, str):
        return lib.failed(f"RotationRules: {found}")
    if found > maximum:
        return lib.failed(f"RotationRules rotate every {found:g} days, less often than every {maximum} days")
    return lib.passed()


def _rotator(ctx: lib.Context, schedule: str, secret: str) -> lib.Verdict:
    hosted = ctx.value(schedule, "HostedRotationLambda")
    if hosted is not cfn.NO_VALUE:
        return _hosted(ctx, hosted, secret)
    function = ctx.value(schedule, "RotationLambdaARN")
    if function is cfn.NO_VALUE:
        return lib.failed("names neither RotationLambdaARN nor HostedRotationLambda: nothing rotates the secret")
    found = lib.symbol(function)
    if found is None:
        return _function_by_arn(ctx, function)
    if found.resource_type == FUNCTION and found.attribute in ("", "Arn"):
        return lib.passed()
    return lib.failed(f"RotationLambdaARN is {lib.describe(function)}, not a Lambda function")


def _function_by_arn(ctx: lib.Context, function: Any) -> lib.Verdict:
    """A rotation function named by ARN: another account's fails, one of this account outside the template
    is not evaluated (code nobody here reviewed)."""
    text = iam.text_of(ctx, function)
    arn = _LAMBDA_ARN.match(text) if text is not None else None
    if arn is None:
        return lib.unknown_in(function, "RotationLambdaARN") or lib.not_evaluated(
            f"RotationLambdaARN {lib.describe(function)} is not determined by the template"
        )
    if iam.is_this_account(ctx, arn["account"]) is False:
        return lib.failed(
            f"RotationLambdaARN {text} is another account's function: code nobody here controls holds the "
            "secret's rotation (and its value)"
        )
    return lib.not_evaluated(
        f"RotationLambdaARN {text} is a function outside the template: what it does is not reviewed"
    )


def _hosted(ctx: lib.Context, hosted: Any, secret: str) -> lib.Verdict:
    kind = hosted.get("RotationType", cfn.NO_VALUE) if isinstance(hosted, Mapping) else hosted
    if not isinstance(kind, str):
        return lib.unknown_in(kind, "HostedRotationLambda.RotationType") or lib.failed(
            f"HostedRotationLambda.RotationType is {lib.describe(kind)}"
        )
    engines = {ctx.value(t, "Engine") for t in _targets(ctx, secret)}
    if "postgres" in engines and not kind.startswith("PostgreSQL"):
        return lib.failed(
            f"HostedRotationLambda.RotationType is {kind!r}, but the secret belongs to a PostgreSQL database: the "
            "rotation function cannot log in to change the password"
        )
    return lib.passed()


def _targets(ctx: lib.Context, secret: str) -> list[str]:
    """DB instances the secret is attached to (SecretTargetAttachment)."""
    found = []
    for attachment in _attachments(ctx, secret):
        target = lib.symbol(ctx.value(attachment, "TargetId"))
        if target is not None and target.resource_type == "AWS::RDS::DBInstance" and target.origin == "this":
            found.append(target.name)
    return found


def _attachments(ctx: lib.Context, secret: str) -> list[str]:
    return [a for a in ctx.of_type(sm.ATTACHMENT) if lib.names(ctx.value(a, "SecretId"), secret)]


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    # What a schedule's SecretId may name to mean this secret: its Ref (the ARN), or an
    # attachment of it (CDK's RDS secrets), or its literal Name.
    attachments = _attachments(ctx, logical_id)
    name = ctx.value(logical_id, "Name")
    maximum = lib.spec().secrets.rotation_max_days
    undecided: list[str] = []
    problems: list[str] = []
    for schedule in ctx.of_type(sm.SCHEDULE):
        target = ctx.value(schedule, "SecretId")
        ours = lib.names(target, logical_id) or any(lib.names(target, a) for a in attachments)
        ours = ours or (isinstance(name, str) and target == name)
        if not ours:
            if lib.symbol(target) is None and lib.undetermined(target) is not None:
                undecided.append(f"{schedule}: SecretId {lib.undetermined(target)}")
            continue
        verdict = lib.worst(
            [_timing(ctx.value(schedule, "RotationRules"), maximum), _rotator(ctx, schedule, logical_id)]
        )
        if verdict.status == lib.PASSED:
            return lib.passed(f"rotated by {schedule}")
        (undecided if verdict.status == lib.NOT_EVALUATED else problems).append(f"{schedule} {verdict.reason}")
    if undecided:  # a schedule that may be this secret's, or may rotate it: cannot tell
        return lib.not_evaluated("; ".join(undecided))
    if problems:
        return lib.failed("; ".join(problems))
    return lib.failed(f"no {sm.SCHEDULE} rotates this secret")


check = lib.make_check(METADATA, rule)
