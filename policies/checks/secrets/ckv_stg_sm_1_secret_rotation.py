"""CKV_STG_SM_1: every Secrets Manager secret has a rotation schedule.

Python because the schedule is a separate resource that may reference the secret directly or
through an AWS::SecretsManager::SecretTargetAttachment (what CDK emits for RDS secrets): a
two-hop relation checkov's YAML connections cannot express.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_SM_1",
    "name": "Secrets Manager secrets rotate automatically",
    "category": "SECRETS",
    "severity": "HIGH",
    "rationale": (
        "The spec requires automatic secret rotation. A secret without an AWS::SecretsManager::RotationSchedule "
        "(with RotationRules) keeps the same credential until someone remembers to change it. A schedule whose "
        "SecretId the template does not determine may or may not be this secret's: not evaluated."
    ),
    "requirements": ["REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Prefer RDS-managed master passwords (no secret resource at all). Otherwise call "
        "secret.add_rotation_schedule(...) or instance.add_rotation_single_user(...)."
    ),
    "resource_types": ["AWS::SecretsManager::Secret"],
}


SECRET = "AWS::SecretsManager::Secret"
ATTACHMENT = "AWS::SecretsManager::SecretTargetAttachment"
SCHEDULE = "AWS::SecretsManager::RotationSchedule"


def _rules_problem(rules: object) -> tuple[str, str] | None:
    """("failed"|"open", why) when RotationRules do not schedule a rotation."""
    if rules is cfn.NO_VALUE:
        return "failed", "has no RotationRules"
    if not isinstance(rules, Mapping):
        reason = lib.undetermined(rules)
        return ("open", f"RotationRules: {reason}") if reason else ("failed", "RotationRules is not a mapping")
    timing = {k: rules[k] for k in ("AutomaticallyAfterDays", "ScheduleExpression") if k in rules}
    if not timing:
        return "failed", "RotationRules set neither AutomaticallyAfterDays nor ScheduleExpression"
    for key, value in timing.items():
        reason = lib.undetermined(value)
        if reason is not None:
            return "open", f"RotationRules.{key}: {reason}"
    return None


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    # What a schedule's SecretId may name to mean this secret: its Ref (the ARN), or an
    # attachment of it (CDK's RDS secrets), or its literal Name.
    attachments = [a for a in ctx.of_type(ATTACHMENT) if lib.names(ctx.value(a, "SecretId"), logical_id)]
    name = ctx.value(logical_id, "Name")
    undecided: list[str] = []
    problems: list[str] = []
    for schedule in ctx.of_type(SCHEDULE):
        target = ctx.value(schedule, "SecretId")
        ours = lib.names(target, logical_id) or any(lib.names(target, a) for a in attachments)
        ours = ours or (isinstance(name, str) and target == name)
        if not ours:
            if lib.symbol(target) is None and lib.undetermined(target) is not None:
                undecided.append(f"{schedule}: SecretId {lib.undetermined(target)}")
            continue
        problem = _rules_problem(ctx.value(schedule, "RotationRules"))
        rotator = [
            k for k in ("RotationLambdaARN", "HostedRotationLambda") if ctx.value(schedule, k) is not cfn.NO_VALUE
        ]
        if problem is None and not rotator:
            problem = ("failed", "names neither RotationLambdaARN nor HostedRotationLambda: nothing rotates the secret")
        if problem is None:
            return lib.passed(f"rotated by {schedule}")
        (undecided if problem[0] == "open" else problems).append(f"{schedule} {problem[1]}")
    if undecided:
        return lib.not_evaluated("; ".join(undecided))
    if problems:
        return lib.failed("; ".join(problems))
    return lib.failed(f"no {SCHEDULE} rotates this secret")


check = lib.make_check(METADATA, rule)
