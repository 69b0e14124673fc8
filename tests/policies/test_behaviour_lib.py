"""The facts the behaviour policies share (stg_kms, stg_iam, stg_rds, stg_secrets_manager), on small templates.

Each case is a way a template can say the same thing differently (must keep passing) or hide a
different thing behind a familiar form (must not pass): a key ARN built from the key's KeyId, an
alias ARN of another Region, two aliases of one name, a Deny that spares RDS, an Allow only for a
role, a condition key nothing here models, a parameter group by its name in another case.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds
from tests.policies.test_behaviour import rule_module

ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
USE = {
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": ["kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:GenerateDataKey"],
    "Resource": "*",
    "Condition": {"StringEquals": {"kms:ViaService": [{"Fn::Sub": "rds.${AWS::Region}.amazonaws.com"}]}},
}


def context(resources: dict[str, Any], *, region: str | None = "us-east-1") -> lib.Context:
    template = {"Resources": resources}
    environment = {"region": region} if region else {}
    world = {**template, "Metadata": {cfn.WORLD_METADATA_KEY: {"environment": environment}}}
    return lib.Context(world, raw=template)


def key(*statements: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": list(statements)}, **properties}}


def alias(name: str, target: Any) -> dict[str, Any]:
    return {"Type": "AWS::KMS::Alias", "Properties": {"AliasName": name, "TargetKeyId": target}}


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"Ref": "Key"}, "Key"),
        ({"Fn::GetAtt": ["Key", "Arn"]}, "Key"),
        ({"Fn::Join": ["", ["arn:aws:kms:us-east-1:", {"Ref": "AWS::AccountId"}, ":key/", {"Ref": "Key"}]]}, "Key"),
        ("alias/stack", "Key"),
        ({"Ref": "Alias"}, "Key"),
        ({"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:alias/stack"}, "Key"),
        ({"Fn::Sub": "arn:aws:kms:us-west-2:${AWS::AccountId}:alias/stack"}, None),  # another Region's alias
        ("arn:aws:kms:us-east-1:111122223333:alias/stack", None),  # another account's alias
        ("alias/aws/rds", None),
        ("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", None),
        ({"Fn::GetAtt": ["Key", "KeyId"]}, "Key"),
    ],
)
def test_which_key_a_setting_names(value: Any, named: str | None) -> None:
    ctx = context({"Key": key(), "Alias": alias("alias/stack", {"Fn::GetAtt": ["Key", "Arn"]}), "Db": {
        "Type": "AWS::RDS::DBInstance", "Properties": {"KmsKeyId": value}}})  # fmt: skip
    found = kms.named_key(ctx, ctx.value("Db", "KmsKeyId"))
    assert (found.name if isinstance(found, cfn.Symbol) else found) == named


def test_two_aliases_of_one_name_cannot_be_told_apart() -> None:
    ctx = context({"Key": key(), "A": alias("alias/stack", {"Ref": "Key"}), "B": alias("alias/stack", "other-key")})
    assert isinstance(kms.named_key(ctx, "alias/stack"), cfn.Unknown)


def _use(ctx: lib.Context) -> lib.Verdict:
    return kms.usable(ctx, cfn.Symbol("ref", "Key", resource_type="AWS::KMS::Key"), service="rds", purpose="storage")


@pytest.mark.parametrize(
    ("statements", "status", "word"),
    [
        ((USE,), lib.PASSED, ""),
        ((), lib.FAILED, "lets no principal of this account call kms:CreateGrant"),
        # A Deny that spares calls through RDS does not touch RDS's use.
        (
            (
                USE,
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"kms:ViaService": "rds.us-east-1.amazonaws.com"}},
                },
            ),
            lib.PASSED,
            "",
        ),
        (
            (USE, {"Effect": "Deny", "Principal": {"AWS": ROOT}, "Action": "kms:Create*", "Resource": "*"}),
            lib.FAILED,
            "denies kms:CreateGrant",
        ),
        # Only a role may use it: whether that role deploys the database cannot be told.
        (
            ({**USE, "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:role/deployer"}}},),
            lib.NOT_EVALUATED,
            "cannot be told",
        ),
        # A condition key the module does not model: cannot tell whether the Allow applies.
        (({**USE, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}}},), lib.NOT_EVALUATED, "cannot be told"),
        # Another Region's RDS only.
        (
            ({**USE, "Condition": {"StringEquals": {"kms:ViaService": "rds.eu-west-1.amazonaws.com"}}},),
            lib.FAILED,
            "rds.us-east-1.amazonaws.com",
        ),
        # Another account's principals only.
        (({**USE, "Principal": {"AWS": "arn:aws:iam::111122223333:root"}},), lib.FAILED, "lets no principal"),
    ],
)
def test_whether_the_key_policy_lets_rds_use_the_key(statements: tuple[Any, ...], status: str, word: str) -> None:
    verdict = _use(context({"Key": key(*statements)}))
    assert (verdict.status, word in verdict.reason) == (status, True), verdict


def test_without_an_environment_a_literal_region_in_the_policy_still_counts() -> None:
    """A raw scan (no assembly manifest) does not know the Region: the template's own literal one is accepted."""
    literal = {**USE, "Condition": {"StringEquals": {"kms:ViaService": "rds.us-east-1.amazonaws.com"}}}
    assert _use(context({"Key": key(literal)}, region=None)).status == lib.PASSED


def test_the_default_key_policy_lets_the_account_use_the_key() -> None:
    ctx = context({"Key": {"Type": "AWS::KMS::Key", "Properties": {}}})
    assert _use(ctx).status == lib.PASSED


def test_a_replica_key_is_never_the_stacks() -> None:
    ctx = context({"Key": {"Type": "AWS::KMS::ReplicaKey", "Properties": {"PrimaryKeyArn": "arn:aws:kms:x"}}})
    verdict = kms.usable(ctx, cfn.Symbol("ref", "Key", resource_type="AWS::KMS::ReplicaKey"), service=None, purpose="x")
    assert verdict.status == lib.FAILED and "replica" in verdict.reason


def test_principals_spelled_with_open_pseudo_parameters_still_split() -> None:
    ctx = context({}, region=None)
    assert iam.account_of(ctx, cfn.Text(("arn:", cfn.Symbol("pseudo", "AWS::Partition"), ":iam::",
                                         cfn.Symbol("pseudo", "AWS::AccountId"), ":root"))) == (iam.ACCOUNT, "root")  # fmt: skip


GROUP_PROPERTIES: dict[str, Any] = {
    "DBParameterGroupName": "DBParams-Staging-Main",
    "Family": "postgres13",
    "Parameters": {"max_connections": "200"},
}
GROUP = {"Type": "AWS::RDS::DBParameterGroup", "Properties": GROUP_PROPERTIES}


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ({"Ref": "Group"}, "Group"),
        ("dbparams-staging-main", "Group"),  # RDS stores names in lower case
        ({"Fn::Join": ["-", ["dbparams", "staging", "main"]]}, "Group"),
        ("default.postgres13", None),
    ],
)
def test_the_group_an_instance_runs_with(name: Any, found: str | None) -> None:
    ctx = context({"Group": GROUP, "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
        "Engine": "postgres", "EngineVersion": "13.23", "DBParameterGroupName": name}}})  # fmt: skip
    group = rds.parameter_group(ctx, "Db")
    assert (group if isinstance(group, str) else None) == found, group


def test_parameters_as_json_text_are_read() -> None:
    ctx = context({"Group": {**GROUP, "Properties": {**GROUP_PROPERTIES, "Parameters": '{"max_connections": 200}'}}})
    assert rds.parameter(ctx, "Group", "max_connections") == 200


@pytest.mark.parametrize(
    ("props", "origin"),
    [
        ({"DBSnapshotIdentifier": ""}, None),  # an empty snapshot identifier creates a new database
        ({"UseLatestRestorableTime": False}, None),
        ({"DBSnapshotIdentifier": "snap"}, "DBSnapshotIdentifier"),
        ({"SourceDBInstanceIdentifier": "db", "UseLatestRestorableTime": True}, "SourceDBInstanceIdentifier"),
    ],
)
def test_an_instances_origin(props: dict[str, Any], origin: str | None) -> None:
    ctx = context({"Db": {"Type": "AWS::RDS::DBInstance", "Properties": props}})
    found = rds.origin(ctx, "Db")
    assert (found.prop if isinstance(found, rds.Origin) else found) == origin
    if origin == "SourceDBInstanceIdentifier":
        assert isinstance(found, rds.Origin) and not found.replica  # a point-in-time restore, not a replica


@pytest.mark.parametrize(
    ("expression", "status"),
    [
        ("rate(30 days)", lib.PASSED),
        ("rate(12 hours)", lib.PASSED),
        ("rate(91 days)", lib.FAILED),
        ("cron(0 4 1 * ? *)", lib.PASSED),  # monthly
        ("cron(0 4 ? * SUN *)", lib.PASSED),  # weekly
        ("cron(0 0 31 2 ? *)", lib.FAILED),  # 31 February: never
        ("cron(0 0 1 1 ? *)", lib.FAILED),  # once a year
    ],
)
def test_how_often_a_schedule_rotates(expression: str, status: str) -> None:
    rule = rule_module("CKV_STG_SM_1")
    assert rule._timing({"ScheduleExpression": expression}, 90).status == status


def test_a_secret_split_by_intrinsics_is_read_whole_but_an_arn_is_not_a_secret() -> None:
    rule = rule_module("CKV_STG_SEC_1")
    joined = {"Fn::Join": ["", ['{"pass', 'word": "', "Tr0ub4dor&3", {"Ref": "AWS::StackName"}, '"}']]}
    ctx = context({
        "Secret": {"Type": "AWS::SecretsManager::Secret", "Properties": {"SecretString": joined}},
        "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {
            "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:fn"}}},
    })  # fmt: skip
    assert rule.rule(ctx, "Secret").status == lib.FAILED
    assert rule.rule(ctx, "Custom").status == lib.PASSED


@pytest.mark.parametrize(
    ("arn", "status"),
    [
        ({"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}, lib.PASSED),
        ("arn:aws:iam::aws:policy/AdministratorAccess", lib.FAILED),
        ("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", lib.NOT_EVALUATED),  # not reviewed
        ("arn:aws:iam::123456789012:policy/team", lib.NOT_EVALUATED),  # outside the template
        ({"Ref": "Policy"}, lib.PASSED),  # judged as a resource of its own
    ],
)
def test_what_a_role_attaches_by_arn(arn: Any, status: str) -> None:
    ctx = context({
        "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": []}}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": [arn], "AssumeRolePolicyDocument": {
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}}},
    })  # fmt: skip
    assert rule_module("CKV_STG_IAM_1").rule(ctx, "Role").status == status
