"""Held-out-style disguises found by a red-team pass (issue 16): classes no earlier issue named.

Each case is a stack an attacker or a hurried engineer could write that the gate passed with
exit 0 before the mechanism named in its disguise was fixed generically:

- a ``{{resolve:secretsmanager:...}}`` dynamic reference is no plaintext literal, so the
  secrets policy let one through anywhere; CloudFormation resolves it wherever it is written and
  then shows the value like any other (an output, a tag, a description). Only a property the
  type's schema declares write-only keeps it secret (policies/lib/stg_secrets.exposed_references);
- the alarm policies judged the alarm and that its action is a topic of this stack, never the
  topic's own policy: a Deny of ``sns:Publish`` to CloudWatch (or to everyone) makes every alarm
  notify nobody (policies/lib/stg_alarms._publish_denied).

Cases locate what they edit by type and shape, never by a hard-coded logical id.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.mutations import _props
from tests.harness.evasions import FAILED, Evasion, Template, _db_id, _e

CATEGORY = "held-out-style"
SEC_1 = ("CKV_STG_SEC_1", FAILED)


def _secret_arn(t: Template) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [_db_id(t), "MasterUserSecret.SecretArn"]}


def _secret_printed_by_an_output(t: Template) -> None:
    t.setdefault("Outputs", {})["DatabaseDebugPassword"] = {
        "Value": {"Fn::Sub": ["{{resolve:secretsmanager:${S}:SecretString:password}}", {"S": _secret_arn(t)}]}
    }


def _secret_in_a_tag(t: Template) -> None:
    topic = _props(t, "AWS::SNS::Topic")
    topic.setdefault("Tags", []).append(
        {"Key": "debug", "Value": "{{resolve:secretsmanager:rds!db-1234:SecretString:password}}"}
    )


def _secret_in_a_description(t: Template) -> None:
    group = _props(t, "AWS::EC2::SecurityGroup")
    group["GroupDescription"] = "{{resolve:ssm-secure:/staging/db/master-password:1}}"


def _deny_publish(principal: object, action: str) -> Callable[[Template], None]:
    def apply(t: Template) -> None:
        policy = _props(t, "AWS::SNS::TopicPolicy")
        policy["PolicyDocument"]["Statement"].append(
            {"Sid": "Quiet", "Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*"}
        )

    return apply


CASES: tuple[Evasion, ...] = (
    _e("secret-reference-in-an-output", CATEGORY, "an output resolves the master secret with a dynamic reference",
       {SEC_1}, _secret_printed_by_an_output),
    _e("secret-reference-in-a-tag", CATEGORY, "a tag's value is a secretsmanager dynamic reference", {SEC_1},
       _secret_in_a_tag),
    _e("secure-string-in-a-description", CATEGORY, "an ssm-secure reference as a group's description", {SEC_1},
       _secret_in_a_description),
    _e("topic-refuses-cloudwatch", CATEGORY, "the alarm topic's policy denies cloudwatch.amazonaws.com sns:Publish",
       {("CKV_STG_CW_1", FAILED)}, _deny_publish({"Service": "cloudwatch.amazonaws.com"}, "sns:Publish")),
    _e("topic-refuses-everyone", CATEGORY, "the alarm topic's policy denies sns:* to every principal",
       {("CKV_STG_CW_2", FAILED)}, _deny_publish("*", "sns:*")),
)  # fmt: skip
