"""CKV_STG_RDS_10: RDS DB instances export the postgresql and upgrade logs to kept log groups of the stack.

Python because exporting is half of the behaviour: RDS writes each exported log to
``/aws/rds/instance/<identifier>/<log>`` and, when the template has no group of that exact
name (the identifier lower case, as RDS spells it), creates one itself that never expires and
is not under the stack's key. The group of that name must be the template's, kept for the
spec's retention and encrypted with the stack's key (policies/lib/stg_logs.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_alarms, stg_logs
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_10",
    "name": "RDS DB instances export the postgresql and upgrade logs to kept, encrypted log groups of the stack",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": (
        "Database logs (connections, errors, slow statements, upgrade output) must leave the instance so they "
        "survive it and can be retained and alerted on (spec: proper error handling and logging; CloudWatch for "
        "monitoring). PostgreSQL on RDS exports exactly two log types, each to /aws/rds/instance/<identifier>/<log>; "
        "a group of another name receives nothing, and the group RDS creates instead keeps logs forever, unencrypted "
        "by the stack's key."
    ),
    "requirements": ["REQ-MON-04", "REQ-CON-10"],
    "remediation": (
        "Set cloudwatch_logs_exports=['postgresql', 'upgrade'] on rds.DatabaseInstance and create "
        "logs.LogGroup(log_group_name=f'/aws/rds/instance/{identifier}/{log}', retention=ONE_YEAR, "
        "encryption_key=key) for each, before the instance."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    # Every property that decides whether the logs leave the instance into a kept group of the stack.
    "judges": {
        "AWS::RDS::DBInstance": ["EnableCloudwatchLogsExports", "DBInstanceIdentifier"],
        "AWS::Logs::LogGroup": ["LogGroupName", "RetentionInDays", "KmsKeyId"],
    },
}

LOGS = ("postgresql", "upgrade")
INSTANCE_SYMBOL = "{instance}"  # a name built from the instance's Ref, whose identifier CloudFormation generates


def _group_of(ctx: lib.Context, logical_id: str, log: str) -> tuple[str, list[str]]:
    """(the name RDS writes ``log`` to, the template's groups of that name)."""
    identifier = stg_alarms.instance_identifier(ctx, logical_id) or INSTANCE_SYMBOL
    wanted = f"/aws/rds/instance/{identifier}/{log}"
    groups = ctx.of_type(stg_logs.LOG_GROUP)
    return wanted, [g for g in groups if stg_logs.group_name(ctx, g, instance=(logical_id, identifier)) == wanted]


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    exports = ctx.value(logical_id, "EnableCloudwatchLogsExports")
    undecided = lib.unknown_in(exports, "EnableCloudwatchLogsExports")
    if undecided is not None:
        return undecided
    exported = [str(log) for log in lib.as_list(exports)]
    problems = [f"EnableCloudwatchLogsExports does not export {log}" for log in LOGS if log not in exported]
    for log in LOGS:
        wanted, groups = _group_of(ctx, logical_id, log)
        if not groups:
            problems.append(
                f"no log group of the template is named {wanted}: RDS would create one that never expires and is "
                "not under the stack's key"
            )
        for group in groups:
            problems += stg_logs.kept_problems(ctx, group)
    if not problems:
        return lib.passed()
    names = [ctx.value(g, "LogGroupName") for g in ctx.of_type(stg_logs.LOG_GROUP)]
    unknown = lib.unknown_in([ctx.value(logical_id, "DBInstanceIdentifier"), names], "a log group's name")
    if unknown is not None and any(p.startswith("no log group") for p in problems):
        return unknown
    return lib.failed("; ".join(problems))


check = lib.make_check(METADATA, rule)
