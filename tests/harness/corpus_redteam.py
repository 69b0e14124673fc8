"""Held-out-style disguises found by a red-team pass (issue 16): classes no earlier issue named.

Each case is a stack an attacker or a hurried engineer could write that the gate passed with
exit 0 before the mechanism named in its disguise was fixed generically:

- a ``{{resolve:secretsmanager:...}}`` dynamic reference is no plaintext literal, so the
  secrets policy let one through anywhere; CloudFormation resolves it wherever it is written and
  then shows the value like any other (an output, a tag, a description). Only a property the
  type's schema declares write-only keeps it secret (policies/lib/stg_secrets.exposed_references);
- the alarm policies judged the alarm and that its action is a topic of this stack, never the
  topic's own policy: a Deny of ``sns:Publish`` to CloudWatch (or to everyone) makes every alarm
  notify nobody (policies/lib/stg_alarms._publish_denied); likewise a topic encrypted with the
  stack's key whose policy no longer lets cloudwatch.amazonaws.com use it (stg_alarms._notifies,
  stg_iam.Request.service: a key policy decided for a service principal, not only for the account).
- enhanced monitoring was judged as an interval and a role ARN: a role RDS cannot assume (trust
  for another service) or whose policies deny writing to RDSOSMetrics publishes nothing
  (CKV_STG_RDS_9 now decides the trust for monitoring.rds.amazonaws.com and the role's identity
  policies, stg_iam.identity_allows).
- "only the application subnets reach the database" was judged as its "only" half: a database
  whose port moved without its rules (or whose rules admit another protocol) passed while no
  application subnet can reach it (stg_network_groups._app_tier_shut_out, under CKV_STG_NET_1).
- how ``cdk deploy`` deploys the stack is in manifest.json, not in the template: stack tags every
  resource inherits, notification ARNs of another account, termination protection, another
  account's execution role were read by nobody (policies/registry/template.yaml
  ``stack_properties``: reviewed keys, some only for the value CDK writes).

Cases locate what they edit by type and shape, never by a hard-coded logical id.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.verdict.mutations import properties_of
from tests.harness.evasions import FAILED, NOT_EVALUATED, Evasion, Rewrite, Template, _db_id, _e

CATEGORY = "held-out-style"
SEC_1 = ("CKV_STG_SEC_1", FAILED)
KEY = ("gate:unreviewed-key", NOT_EVALUATED)
OTHER = "111122223333"


def _secret_arn(t: Template) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [_db_id(t), "MasterUserSecret.SecretArn"]}


def _secret_printed_by_an_output(t: Template) -> None:
    t.setdefault("Outputs", {})["DatabaseDebugPassword"] = {
        "Value": {"Fn::Sub": ["{{resolve:secretsmanager:${S}:SecretString:password}}", {"S": _secret_arn(t)}]}
    }


def _secret_in_a_tag(t: Template) -> None:
    topic = properties_of(t, "AWS::SNS::Topic")
    topic.setdefault("Tags", []).append(
        {"Key": "debug", "Value": "{{resolve:secretsmanager:rds!db-1234:SecretString:password}}"}
    )


def _secret_in_a_description(t: Template) -> None:
    group = properties_of(t, "AWS::EC2::SecurityGroup")
    group["GroupDescription"] = "{{resolve:ssm-secure:/staging/db/master-password:1}}"


def _deny_publish(principal: object, action: str) -> Callable[[Template], None]:
    def apply(t: Template) -> None:
        policy = properties_of(t, "AWS::SNS::TopicPolicy")
        policy["PolicyDocument"]["Statement"].append(
            {"Sid": "Quiet", "Effect": "Deny", "Principal": principal, "Action": action, "Resource": "*"}
        )

    return apply


def _key_statements(t: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = properties_of(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"]
    return statements


def _for_cloudwatch(statement: dict[str, Any]) -> bool:
    return bool(statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"})


def _key_without_cloudwatch(t: Template) -> None:
    _key_statements(t)[:] = [s for s in _key_statements(t) if not _for_cloudwatch(s)]


def _key_for_another_accounts_cloudwatch(t: Template) -> None:
    for statement in filter(_for_cloudwatch, _key_statements(t)):
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": "111122223333"}}


def _monitoring_role(t: Template) -> dict[str, Any]:
    role_id = str(properties_of(t, "AWS::RDS::DBInstance")["MonitoringRoleArn"]["Fn::GetAtt"][0])
    role: dict[str, Any] = t["Resources"][role_id]["Properties"]
    return role


def _monitoring_role_for_rds_itself(t: Template) -> None:
    _monitoring_role(t)["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {"Service": "rds.amazonaws.com"}


def _monitoring_policy_denies_logs(t: Template) -> None:
    (managed,) = _monitoring_role(t)["ManagedPolicyArns"]
    document = t["Resources"][managed["Ref"]]["Properties"]["PolicyDocument"]
    document["Statement"].append({"Effect": "Deny", "Action": "logs:*", "Resource": "*"})


def _port_moved_without_its_rules(t: Template) -> None:
    properties_of(t, "AWS::RDS::DBInstance")["Port"] = "5433"


def _one_subnet_admitted_over_udp(t: Template) -> None:
    group_id = properties_of(t, "AWS::RDS::DBInstance")["VPCSecurityGroups"][0]["Fn::GetAtt"][0]
    t["Resources"][group_id]["Properties"]["SecurityGroupIngress"][-1]["IpProtocol"] = "udp"


def _stack_artifact(edit: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def tamper(assembly: Path) -> None:
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
        for artifact in manifest["artifacts"].values():
            if artifact.get("type") == "aws:cloudformation:stack":
                edit(artifact["properties"])
        (assembly / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")

    return tamper


def _nothing(t: Template) -> None:
    """The template is untouched: the disguise is in manifest.json."""


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
    _e("topic-key-without-cloudwatch", CATEGORY, "the key policy drops the statement that lets CloudWatch encrypt "
       "for the alarm topic", {("CKV_STG_CW_1", FAILED)}, _key_without_cloudwatch),
    _e("topic-key-for-another-account", CATEGORY, "the key lets CloudWatch in only for another account's alarms",
       {("CKV_STG_CW_2", FAILED)}, _key_for_another_accounts_cloudwatch),
    _e("monitoring-role-for-another-service", CATEGORY, "the enhanced monitoring role trusts rds.amazonaws.com, not "
       "monitoring.rds.amazonaws.com", {("CKV_STG_RDS_9", FAILED)}, _monitoring_role_for_rds_itself),
    _e("monitoring-policy-denies-logs", CATEGORY, "a Deny of logs:* in the monitoring role's own policy",
       {("CKV_STG_RDS_9", FAILED)}, _monitoring_policy_denies_logs),
    _e("port-moved-without-its-rules", CATEGORY, "the database listens on 5433, its group still admits 5432",
       {("CKV_STG_NET_1", FAILED)}, _port_moved_without_its_rules),
    _e("app-subnet-admitted-over-udp", CATEGORY, "one application subnet's rule admits UDP, not TCP",
       {("CKV_STG_NET_1", FAILED)}, _one_subnet_admitted_over_udp),
    _e("stack-events-to-another-account", CATEGORY, "manifest.json sends the stack's events to another account's topic",
       {KEY}, _nothing, tamper=_stack_artifact(lambda p: p.update(notificationArns=[f"arn:aws:sns:us-east-1:{OTHER}:x"]))),
    _e("stack-termination-protection", CATEGORY, "manifest.json turns termination protection on: the stack cannot be "
       "destroyed", {KEY}, _nothing, tamper=_stack_artifact(lambda p: p.update(terminationProtection=True))),
    _e("stack-tags-override", CATEGORY, "manifest.json stack tags Environment=prod, inherited by every resource",
       {KEY}, _nothing, tamper=_stack_artifact(lambda p: p.update(tags={"Environment": "prod"}))),
    _e("execution-role-of-another-account", CATEGORY, "manifest.json deploys with another account's execution role",
       {KEY}, _nothing,
       tamper=_stack_artifact(lambda p: p.update(cloudFormationExecutionRoleArn=f"arn:aws:iam::{OTHER}:role/x"))),
)  # fmt: skip


# Compliant rewrites the red-team pass found over-blocked (Multi-AZ, encryption and public access looked up in
# a mapping keyed by the pinned AWS::Region: the resolver determines them, cdk-nag could not).
def _settings_by_region(t: Template) -> None:
    t["Mappings"] = {"ByRegion": {region: {"MultiAZ": region == "us-east-1", "Encrypted": region == "us-east-1",
                                           "Public": region != "us-east-1"}
                                  for region in ("us-east-1", "us-west-2", "eu-west-1")}}  # fmt: skip
    database = properties_of(t, "AWS::RDS::DBInstance")
    for prop, key in (("MultiAZ", "MultiAZ"), ("StorageEncrypted", "Encrypted"), ("PubliclyAccessible", "Public")):
        database[prop] = {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, key]}


def _engine_capitalised(t: dict[str, Any]) -> None:
    properties_of(t, "AWS::RDS::DBInstance")["Engine"] = "Postgres"


COMPLIANT: tuple[Rewrite, ...] = (
    Rewrite(
        name="settings-looked-up-by-region",
        change="MultiAZ, StorageEncrypted and PubliclyAccessible by Fn::FindInMap keyed by AWS::Region",
        apply=_settings_by_region,
    ),
    Rewrite(
        name="engine-spelled-with-a-capital",
        change='Engine "Postgres": RDS reads the engine name without regard to case (so does cfn-lint)',
        apply=_engine_capitalised,
    ),
)
