"""An alarm whose topic refuses CloudWatch's publish notifies nobody (policies/lib/stg_alarms._notifies).

The topic policy is another resource than the alarm: a Deny on ``sns:Publish`` for ``*`` or for
``cloudwatch.amazonaws.com`` keeps every notification from arriving, however well the alarm is
set; so does a topic encrypted with a key whose policy does not let CloudWatch encrypt for it. The
synthesized policies (a Deny only without TLS, a key statement for CloudWatch of this account) must keep passing.
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


def _key_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    key = next(r for r in template["Resources"].values() if r["Type"] == "AWS::KMS::Key")
    statements: list[dict[str, Any]] = key["Properties"]["KeyPolicy"]["Statement"]
    return statements


def _for_cloudwatch(statement: dict[str, Any]) -> bool:
    return statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}


def _drop_cloudwatch(statements: list[dict[str, Any]]) -> None:
    statements[:] = [s for s in statements if not _for_cloudwatch(s)]


def _cloudwatch_of_another_account(statements: list[dict[str, Any]]) -> None:
    next(s for s in statements if _for_cloudwatch(s))["Condition"] = {
        "StringEquals": {"aws:SourceAccount": "111122223333"}
    }


def _deny_cloudwatch(statements: list[dict[str, Any]]) -> None:
    statements.append({"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:*",
                       "Resource": "*"})  # fmt: skip


@pytest.mark.parametrize("edit", [_drop_cloudwatch, _cloudwatch_of_another_account, _deny_cloudwatch],
                         ids=["no-grant", "another-account", "deny"])  # fmt: skip
def test_a_topic_key_cloudwatch_cannot_use_fails_the_alarm(default_template: dict[str, Any], edit: Any) -> None:
    changed = copy.deepcopy(default_template)
    edit(_key_statements(changed))
    verdict = _cpu_alarm_verdict(changed, None)
    assert verdict.status == lib.FAILED and "kms:GenerateDataKey" in verdict.reason, verdict
