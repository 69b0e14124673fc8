"""An alarm whose topic refuses CloudWatch's publish notifies nobody (policies/lib/stg_alarms._publish_denied).

The topic policy is another resource than the alarm: a Deny on ``sns:Publish`` for ``*`` or for
``cloudwatch.amazonaws.com`` keeps every notification from arriving, however well the alarm is
set. The synthesized policy's own Deny (only without TLS) must keep passing.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policies.lib import stg_policy_lib as lib
from tests.policies.inprocess import as_world, load_rule

DENY_CLOUDWATCH = {"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish",
                   "Resource": "*"}  # fmt: skip
DENY_EVERYONE = {"Effect": "Deny", "Principal": "*", "Action": "sns:*", "Resource": "*"}
DENY_UNDECIDABLE = {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}}  # fmt: skip
DENY_OTHER_SERVICE = {"Effect": "Deny", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
                      "Resource": "*"}  # fmt: skip


def _cpu_alarm_verdict(template: dict[str, Any], statement: dict[str, Any] | None) -> lib.Verdict:
    changed = copy.deepcopy(template)
    if statement is not None:
        policy = next(r for r in changed["Resources"].values() if r["Type"] == "AWS::SNS::TopicPolicy")
        policy["Properties"]["PolicyDocument"]["Statement"].append(statement)
    world = as_world(changed)
    ctx = lib.Context(world, raw=world)
    instance = next(lid for lid, r in changed["Resources"].items() if r["Type"] == "AWS::RDS::DBInstance")
    verdict: lib.Verdict = load_rule("CKV_STG_CW_1").rule(ctx, instance)
    return verdict


@pytest.mark.parametrize("statement", [DENY_CLOUDWATCH, DENY_EVERYONE], ids=["cloudwatch", "everyone"])
def test_a_topic_policy_denying_cloudwatch_fails_the_alarm(default_template: dict[str, Any], statement: Any) -> None:
    verdict = _cpu_alarm_verdict(default_template, statement)
    assert verdict.status == lib.FAILED and "cloudwatch.amazonaws.com may publish to" in verdict.reason, verdict


def test_a_deny_the_template_cannot_decide_is_not_evaluated(default_template: dict[str, Any]) -> None:
    assert _cpu_alarm_verdict(default_template, DENY_UNDECIDABLE).status == lib.NOT_EVALUATED


@pytest.mark.parametrize("statement", [None, DENY_OTHER_SERVICE], ids=["synthesized", "another-service"])
def test_the_tls_only_deny_and_other_principals_keep_passing(default_template: dict[str, Any], statement: Any) -> None:
    assert _cpu_alarm_verdict(default_template, statement).status == lib.PASSED
