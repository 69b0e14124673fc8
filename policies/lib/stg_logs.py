"""Where logs go, and whether the log group that receives them is kept (shared by CKV_STG_RDS_10 and CKV_STG_NET_2).

"The database logs to a kept log group" is decided by the group the service really writes to:
RDS writes to ``/aws/rds/instance/<identifier>/<log>`` (the identifier lower case, as RDS
spells it) and creates that group itself, never expiring and without the stack's key, when
the template has none of that name; a VPC flow log writes to the group its ``LogGroupName``
or ``LogDestination`` names. :func:`group_named` finds the template's group a value names;
:func:`kept_problems` says what keeps it from keeping the logs as the spec asks
(``RetentionInDays`` at least the spec's floor, ``KmsKeyId`` a key of this stack).
"""

from __future__ import annotations

import re
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib

LOG_GROUP = "AWS::Logs::LogGroup"
_LOG_GROUP_ARN = re.compile(r"^arn:[^:]+:logs:(?P<region>[^:]*):(?P<account>[^:]*):log-group:(?P<name>[^:]+)(:\*)?$")


def group_name(ctx: lib.Context, group: str, *, instance: tuple[str, str] | None = None) -> str | None:
    """A log group's name as text; ``instance`` = (logical id, identifier) spells a Ref to that
    instance as its identifier (a name built from the instance's Ref). None if undetermined."""
    value = ctx.value(group, "LogGroupName")
    if instance is not None:
        logical_id, identifier = instance
        parts = value.parts if isinstance(value, cfn.Text) else (value,)
        if any(lib.names(part, logical_id) for part in parts):
            value = cfn.Text(tuple(identifier if lib.names(part, logical_id) else part for part in parts))
    return lib.name_text(ctx, value)


def group_named(ctx: lib.Context, value: Any) -> str | cfn.Unknown | None:
    """The log group of this template ``value`` names (Ref, GetAtt Arn, name or ARN); None if none of them."""
    target = lib.points_at(value, LOG_GROUP)
    if target is not None:
        return target.name if target.origin == "this" else None
    text = iam.text_of(ctx, value)
    if text is None:
        return cfn.Unknown(f"the log group {lib.describe(value)} is not determined by the template")
    arn = _LOG_GROUP_ARN.match(text)
    if arn is not None:
        if (
            arn["region"] not in (iam.REGION, ctx.environment.region)
            or iam.is_this_account(ctx, arn["account"]) is False
        ):
            return None
        text = arn["name"]
    named = [group for group in ctx.of_type(LOG_GROUP) if group_name(ctx, group) == text]
    return named[0] if named else None


def kept_problems(ctx: lib.Context, group: str) -> list[str]:
    """What keeps the log group from keeping its logs for the spec's period under the stack's key."""
    problems = []
    days = lib.spec().logs.retention_days_min
    retention = ctx.value(group, "RetentionInDays")
    found = lib.as_number(retention)
    if found is None or found < days:
        problems.append(f"{group}: RetentionInDays is {lib.describe(retention)}, not at least {days}")
    key = ctx.value(group, "KmsKeyId")
    named = kms.named_key(ctx, key) if key is not cfn.NO_VALUE else None
    if isinstance(named, cfn.Unknown):
        problems.append(f"{group}: KmsKeyId: {named.reason}")
    elif named is None or named.origin != "this":
        problems.append(f"{group}: KmsKeyId is {lib.describe(key)}, not a key of this stack")
    return problems
