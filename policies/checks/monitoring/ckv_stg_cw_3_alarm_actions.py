"""CKV_STG_CW_3: every CloudWatch alarm notifies a topic of this stack when it fires.

Python because "someone is told" is decided by two properties together and by another
resource: ``ActionsEnabled`` must not be false (``"false"`` included), and ``AlarmActions``
must name an SNS topic of this stack (by Ref, or by its ARN in this account and Region); a
topic of another account, or of this account outside the template, is nobody the stack answers
for (policies/lib/stg_alarms.py).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_alarms
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_CW_3",
    "name": "CloudWatch alarms notify a topic of this stack when they fire",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": (
        "An alarm without an action changes state in the console and nobody learns of it. Every alarm needs "
        "an alarm action on the stack's SNS topic (not a topic of another account or outside the stack) and "
        "its actions must not be disabled."
    ),
    "requirements": ["REQ-MON-02", "REQ-MON-03"],
    "remediation": (
        "Call alarm.add_alarm_action(cloudwatch_actions.SnsAction(topic)) with the stack's topic and leave "
        "actions_enabled at its default (true)."
    ),
    "resource_types": ["AWS::CloudWatch::Alarm"],
    "requires": ["AWS::CloudWatch::Alarm"],
    # The properties that decide whether a firing alarm reaches anyone.
    "judges": {"AWS::CloudWatch::Alarm": ["ActionsEnabled", "AlarmActions"]},
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    alarm = ctx.props(logical_id)
    if not isinstance(alarm, Mapping):
        return lib.not_evaluated("the alarm's properties are not determined by the template")
    judged = {"ActionsEnabled": alarm.get("ActionsEnabled"), "AlarmActions": alarm.get("AlarmActions")}
    unknown = lib.unknown_in(judged, "alarm actions")
    problems = stg_alarms.action_problems(ctx, alarm)
    if not problems:
        return lib.passed()
    if unknown is not None:
        return unknown
    if stg_alarms.actions_undecided(ctx, alarm) and all(p.startswith("AlarmActions") for p in problems):
        return lib.not_evaluated("whether AlarmActions name a topic of this stack is not determined by the template")
    return lib.failed("; ".join(problems))


check = lib.make_check(METADATA, rule)
