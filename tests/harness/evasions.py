"""The evasion corpus: the real synthesized template with one violation each, disguised as an attacker would.

Every case hides a violation from a naive reading (a parameter's default, one branch of a
condition, an intrinsic, another resource type, a stand-alone rule, a nested stack, a
transform, a borrowed waiver...). ``tests/harness/test_evasions.py`` gates all of them in one
run and asserts each assembly exits 1 naming one of the expected (rule, status) pairs, while
the untouched stack stays green. Cases locate what they edit by type and shape, never by a
hard-coded logical id, so the corpus follows the stack as it evolves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.verdict.mutations import db_instance, db_security_group, properties_of, resources_of, with_values

Template = dict[str, Any]
FAILED, NOT_EVALUATED = "failed", "not-evaluated"


@dataclass(frozen=True, kw_only=True)
class Rewrite:
    """The opposite of an :class:`Evasion`: a rewrite that means the same stack, which the gate must pass
    (tests/harness/test_compliant_rewrites.py runs every corpus module's ``COMPLIANT`` in one gate run)."""

    name: str
    change: str
    apply: Callable[[dict[str, Any]], None]


@dataclass(frozen=True, kw_only=True)
class Evasion:
    name: str
    category: str
    disguise: str  # how the violation hides
    expected: frozenset[tuple[str, str]]  # (rule id, status): the gate must report at least one
    apply: Callable[[Template], None]
    extra_files: Callable[[Template], dict[str, Any]] = field(default=lambda t: {})  # name -> JSON, beside the template
    tamper: Callable[[Path], None] = field(default=lambda p: None)  # edits the written, sealed assembly itself

    def mutate(self, template: Template) -> Template:
        mutated = copy.deepcopy(template)
        self.apply(mutated)
        return mutated


def _first(t: Template, kind: str) -> str:
    return next(lid for lid, _ in resources_of(t, kind))


def _db_id(t: Template) -> str:
    return _first(t, "AWS::RDS::DBInstance")


def _key_id(t: Template) -> str:
    return _first(t, "AWS::KMS::Key")


def _db_sg_id(t: Template) -> str:
    target = db_security_group(t)
    return str(next(lid for lid, r in t["Resources"].items() if r.get("Properties") is target))


def _add(t: Template, logical_id: str, resource: dict[str, Any]) -> None:
    t["Resources"][logical_id] = resource


def _parameter(t: Template, name: str, **declaration: Any) -> dict[str, str]:
    t.setdefault("Parameters", {})[name] = {"Type": "String", **declaration}
    return {"Ref": name}


def _condition(t: Template, name: str, expression: Any) -> None:
    t.setdefault("Conditions", {})[name] = expression


def _undecidable(t: Template, name: str = "MaybeProd") -> str:
    """A condition on a parameter without AllowedValues: the template cannot decide it."""
    _condition(t, name, {"Fn::Equals": [_parameter(t, f"{name}Flag", Default="no"), "yes"]})
    return name


def _ingress(group: Any, **source: Any) -> dict[str, Any]:
    return {"Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": group, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, **source}}  # fmt: skip


def _key_arn(t: Template) -> dict[str, Any]:
    return {"Fn::GetAtt": [_key_id(t), "Arn"]}


def _statement(principal: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": ["kms:Decrypt"], "Resource": "*", **extra}


# ------------------------------------------------------------------------------------------------ content


def _external_nested_stack(t: Template) -> None:
    _add(t, "SideStack", {"Type": "AWS::CloudFormation::Stack",
                          "Properties": {"TemplateURL": "https://s3.amazonaws.com/other-bucket/side.json"}})  # fmt: skip


def _nested_in_assembly(t: Template) -> None:
    _add(t, "InnerStack", {"Type": "AWS::CloudFormation::Stack",
                           "Metadata": {"aws:asset:path": "Inner.nested.template.json"},
                           "Properties": {"TemplateURL": "https://bucket/inner.json",
                                          "Parameters": {"DbGroup": {"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}}}})  # fmt: skip


def _nested_files(t: Template) -> dict[str, Any]:
    return {"Inner.nested.template.json": {
        "Parameters": {"DbGroup": {"Type": "String"}},
        "Resources": {"Open": _ingress({"Ref": "DbGroup"}, CidrIp="0.0.0.0/0")},
    }}  # fmt: skip


def _serverless_transform(t: Template) -> None:
    t["Transform"] = "AWS::Serverless-2016-10-31"
    _add(t, "Fn", {"Type": "AWS::Serverless::Function",
                   "Properties": {"Runtime": "python3.12", "Handler": "i.h", "InlineCode": "def h(e, c): pass"}})  # fmt: skip


def _include_transform(t: Template) -> None:
    db_instance(t)["Fn::Transform"] = {
        "Name": "AWS::Include",
        "Parameters": {"Location": "s3://bucket/db-overrides.yaml"},
    }


def _language_extensions(t: Template) -> None:
    t["Transform"] = ["AWS::LanguageExtensions"]
    t["Resources"][_db_id(t)]["DeletionPolicy"] = {"Fn::If": [_undecidable(t), "Delete", "Retain"]}


def _serverless_application(t: Template) -> None:
    _add(t, "Rotator", {"Type": "AWS::Serverless::Application",
                        "Properties": {"Location": {"ApplicationId": "arn:aws:serverlessrepo:us-east-1:297356227824:"
                                                                      "applications/SecretsManagerRDSPostgreSQLRotationSingleUser",
                                                    "SemanticVersion": "1.1.367"}}})  # fmt: skip


def _foreign_custom_resource(t: Template) -> None:
    _add(t, "OpenDoor", {"Type": "Custom::OpenDoor", "Properties": {
        "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:open-door",
        "GroupId": {"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}}})  # fmt: skip


def _topic_custom_resource(t: Template) -> None:
    topic = _first(t, "AWS::SNS::Topic")
    _add(t, "ViaTopic", {"Type": "AWS::CloudFormation::CustomResource", "Properties": {"ServiceToken": {"Ref": topic}}})


# ------------------------------------------------------------------------------------------------ deploy time


def _class_from_allowed_values(t: Template) -> None:
    db_instance(t)["DBInstanceClass"] = _parameter(t, "DbClass", Default="db.t3.medium",
                                           AllowedValues=["db.t3.medium", "db.m5.large"])  # fmt: skip


def _unconstrained_deletion_protection(t: Template) -> None:
    db_instance(t)["DeletionProtection"] = _parameter(t, "Protect", Default="true")


def _multi_az_if(t: Template) -> None:
    env = _parameter(t, "Env", Default="staging", AllowedValues=["staging", "sandbox"])
    _condition(t, "IsStaging", {"Fn::Equals": [env, "staging"]})
    db_instance(t)["MultiAZ"] = {"Fn::If": ["IsStaging", True, False]}


def _conditional_cpu_alarm(t: Template) -> None:
    alarm = next(r for _, r in resources_of(t, "AWS::CloudWatch::Alarm")
                 if r["Properties"].get("MetricName") == "CPUUtilization")  # fmt: skip
    alarm["Condition"] = _undecidable(t)


def _conditional_open_ingress(t: Template) -> None:
    rule = _ingress({"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}, CidrIp="0.0.0.0/0")
    rule["Condition"] = _undecidable(t, "Debug")
    _add(t, "DebugAccess", rule)


def _split_select_class(t: Template) -> None:
    db_instance(t)["DBInstanceClass"] = {"Fn::Select": [1, {"Fn::Split": [",", "db.t3.medium,db.m5.large"]}]}


def _joined_engine_version(t: Template) -> None:
    db_instance(t)["EngineVersion"] = {"Fn::Join": [".", ["13", "7"]]}


def _imported_key(t: Template) -> None:
    db_instance(t)["KmsKeyId"] = {"Fn::ImportValue": "shared-platform-key-arn"}


def _sub_with_parameter(t: Template) -> None:
    minor = _parameter(t, "Minor", Default="23", AllowedValues=["23", "7"])
    db_instance(t)["EngineVersion"] = {"Fn::Sub": ["13.${M}", {"M": minor}]}


# ------------------------------------------------------------------------------------------------ coverage


def _second_instance(t: Template) -> None:
    copy_ = copy.deepcopy(t["Resources"][_db_id(t)])
    copy_["Properties"].update(DeletionProtection=False, DBInstanceIdentifier="rds-staging-main-2")
    copy_.get("Metadata", {}).pop("aws:cdk:path", None)
    _add(t, "ShadowInstance", copy_)


def _standalone_ingress(t: Template) -> None:
    _add(t, "ExtraIngress", _ingress({"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}, CidrIp="10.1.0.0/16"))


def _aurora_cluster(t: Template) -> None:
    _add(t, "ShadowCluster", {"Type": "AWS::RDS::DBCluster", "Properties": {
        "Engine": "aurora-postgresql", "StorageEncrypted": True, "KmsKeyId": _key_arn(t),
        "DeletionProtection": True, "ManageMasterUserPassword": True, "MasterUsername": "postgres",
        "MasterUserSecret": {"KmsKeyId": _key_arn(t)},
        "VpcSecurityGroupIds": [{"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}]}})  # fmt: skip


def _database_removed(t: Template) -> None:
    from harness.verdict.mutations import remove_resource  # noqa: PLC0415

    remove_resource(t, _db_id(t))


# ------------------------------------------------------------------------------------------------ network


def _inline_ipv6(t: Template) -> None:
    db_security_group(t)["SecurityGroupIngress"].append(
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv6": "::/0"}
    )


def _prefix_list(t: Template) -> None:
    _add(
        t,
        "FromPrefixList",
        _ingress({"Fn::GetAtt": [_db_sg_id(t), "GroupId"]}, SourcePrefixListId="pl-0123456789abcdef0"),
    )


def _source_security_group(t: Template) -> None:
    endpoint_sg = next(lid for lid, r in resources_of(t, "AWS::EC2::SecurityGroup") if lid != _db_sg_id(t))
    db_security_group(t)["SecurityGroupIngress"].append({"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                              "SourceSecurityGroupId": {"Fn::GetAtt": [endpoint_sg, "GroupId"]}})  # fmt: skip


def _default_group_ingress(t: Template) -> None:
    vpc = _first(t, "AWS::EC2::VPC")
    _add(t, "DefaultOpen", _ingress({"Fn::GetAtt": [vpc, "DefaultSecurityGroup"]}, CidrIp="0.0.0.0/0"))
    with_values(VPCSecurityGroups=[{"Fn::GetAtt": [vpc, "DefaultSecurityGroup"]}])(db_instance(t))


def _foreign_database_group(t: Template) -> None:
    db_instance(t)["VPCSecurityGroups"] = ["sg-0123456789abcdef0"]


def _classic_db_security_group(t: Template) -> None:
    _add(t, "ClassicGroup", {"Type": "AWS::RDS::DBSecurityGroup", "Properties": {
        "GroupDescription": "legacy", "DBSecurityGroupIngress": [{"CIDRIP": "0.0.0.0/0"}]}})  # fmt: skip


def _proxy(t: Template, **properties: Any) -> dict[str, Any]:
    """An RDS proxy in front of the database, in the database's subnets: a second door into it."""
    subnets = [{"Ref": lid} for lid, _ in resources_of(t, "AWS::EC2::Subnet")][:2]
    return {"Type": "AWS::RDS::DBProxy", "Properties": {
        "DBProxyName": "proxy-staging-main", "EngineFamily": "POSTGRESQL", "RequireTLS": True,
        "RoleArn": {"Fn::GetAtt": [_first(t, "AWS::IAM::Role"), "Arn"]}, "VpcSubnetIds": subnets,
        "Auth": [{"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED",
                  "SecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}],
        **properties}}  # fmt: skip


def _proxy_on_the_default_group(t: Template) -> None:
    _add(t, "DbProxy", _proxy(t))  # no VpcSecurityGroupIds: the VPC default group


def _proxy_open_to_the_dev_vpc(t: Template) -> None:
    _add(t, "ProxyGroup", {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupDescription": "proxy", "VpcId": {"Ref": _first(t, "AWS::EC2::VPC")},
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                  "CidrIp": "10.0.0.0/16"}]}})  # fmt: skip
    _add(t, "DbProxy", _proxy(t, VpcSecurityGroupIds=[{"Fn::GetAtt": ["ProxyGroup", "GroupId"]}]))


# ------------------------------------------------------------------------------------------------ encryption


def _log_group_without_key(t: Template) -> None:
    properties_of(t, "AWS::Logs::LogGroup").pop("KmsKeyId", None)


def _log_group_on_a_second_key(t: Template) -> None:
    # A second customer-managed key, as well kept as the stack's (rotation, the same policy, tags):
    # still not the key the database is encrypted with.
    second = copy.deepcopy(t["Resources"][_key_id(t)])
    second.get("Metadata", {}).pop("aws:cdk:path", None)
    _add(t, "SecondKey", second)
    properties_of(t, "AWS::Logs::LogGroup")["KmsKeyId"] = {"Fn::GetAtt": ["SecondKey", "Arn"]}


def _aws_managed_performance_insights_key(t: Template) -> None:
    db_instance(t)["PerformanceInsightsKMSKeyId"] = "alias/aws/rds"


def _unencrypted_queue(t: Template) -> None:
    _add(t, "DeadLetters", {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}})


def _unreviewed_keyed_type(t: Template) -> None:
    _add(t, "Bus", {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus-staging-main"}})


def _master_secret_default_key(t: Template) -> None:
    db_instance(t)["MasterUserSecret"] = {}


# ------------------------------------------------------------------------------------------------ resource policies


def _key_for_another_account(t: Template) -> None:
    properties_of(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"].append(
        _statement({"AWS": "arn:aws:iam::111122223333:root"})
    )


def _endpoint_on_the_default_policy(t: Template) -> None:
    properties_of(t, "AWS::EC2::VPCEndpoint").pop("PolicyDocument")  # AWS's default: everyone, everything


def _gateway_endpoint_without_policy(t: Template) -> None:
    # No VpcEndpointType: a gateway endpoint, whose default policy is just as open.
    _add(t, "S3Endpoint", {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "ServiceName": "com.amazonaws.us-east-1.s3", "VpcId": {"Ref": _first(t, "AWS::EC2::VPC")},
        "RouteTableIds": [{"Ref": _first(t, "AWS::EC2::RouteTable")}]}})  # fmt: skip


def _topic_open_to_all(t: Template) -> None:
    policy = properties_of(t, "AWS::SNS::TopicPolicy")["PolicyDocument"]
    policy["Statement"].append({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Publish", "Resource": "*"})


def _lambda_permission_for_everyone(t: Template) -> None:
    function = _first(t, "AWS::Lambda::Function")
    _add(t, "InvokeAll", {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": function}, "Principal": "*"}})  # fmt: skip


def _key_principal_from_parameter(t: Template) -> None:
    partner = _parameter(t, "Partner", Default="111122223333")
    properties_of(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"].append(
        _statement({"AWS": {"Fn::Sub": ["arn:aws:iam::${P}:root", {"P": partner}]}})
    )


# ------------------------------------------------------------------------------------------------ secrets


def _literal_secret(t: Template) -> None:
    _add(t, "AppSecret", {"Type": "AWS::SecretsManager::Secret", "Properties": {
        "KmsKeyId": _key_arn(t), "SecretString": '{"username": "app", "password": "Tr0ub4dor&3horse"}'}})  # fmt: skip


def _password_in_environment(t: Template) -> None:
    function = properties_of(t, "AWS::Lambda::Function")
    function["Environment"] = {"Variables": {"DB_PASSWORD": "hunter2-staging"}}
    function["KmsKeyArn"] = _key_arn(t)


def _no_echo_default(t: Template) -> None:
    t.setdefault("Parameters", {})["DbPassword"] = {
        "Type": "String",
        "NoEcho": True,
        "Default": "Payments-Staging-2024!",
    }


def _credentials_in_output(t: Template) -> None:
    t.setdefault("Outputs", {})["DebugUrl"] = {"Value": "postgres://admin:Payments-2024!@db.internal:5432/app"}


def _key_in_a_tag(t: Template) -> None:
    db_instance(t)["Tags"].append({"Key": "deploy-key", "Value": "AKIAIOSFODNN7EXAMPLE"})


def _password_in_an_ssm_parameter(t: Template) -> None:
    # A plain String parameter (CloudFormation cannot create SecureString): the name says what it holds.
    _add(t, "DbPasswordParameter", {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": "/staging/db/master-password", "Type": "String", "Value": "Zq8#vR2!mK9$wL4p"}})  # fmt: skip


def _password_under_a_tag_key(t: Template) -> None:
    db_instance(t)["Tags"].append({"Key": "db_password", "Value": "Payments-Staging-2024!"})


# ------------------------------------------------------------------------------------------------ spec values


def _class_parameter_with_only_the_right_value(t: Template) -> None:
    db_instance(t)["DBInstanceClass"] = _parameter(t, "DbClass", Default="db.t3.medium", AllowedValues=["db.t3.medium"])


def _threshold_parameter(t: Template) -> None:
    alarm = properties_of(t, "AWS::CloudWatch::Alarm", lambda r: r["Properties"].get("MetricName") == "CPUUtilization")
    alarm["Threshold"] = _parameter(t, "CpuThreshold", Default="80", AllowedValues=["80"])


# ------------------------------------------------------------------------------------------------ waivers


HANDLER_PATH = "StagingDatabase/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler"


def _helper_lambda(t: Template, path: str) -> dict[str, Any]:
    handler = next(r for _, r in resources_of(t, "AWS::Lambda::Function"))
    clone = copy.deepcopy(handler)
    clone["Metadata"] = {"aws:cdk:path": path}
    return clone


def _resource_under_a_waived_path(t: Template) -> None:
    _add(t, "Borrower", _helper_lambda(t, f"{HANDLER_PATH}/Borrower"))


def _resource_borrowing_a_waived_path(t: Template) -> None:
    _add(t, "Impostor", _helper_lambda(t, HANDLER_PATH))


def _instance_under_the_waived_database(t: Template) -> None:
    copy_ = copy.deepcopy(t["Resources"][_db_id(t)])
    copy_["Metadata"] = {"aws:cdk:path": "StagingDatabase/Database/Instance/Resource/Replica"}
    copy_["Properties"]["DBInstanceIdentifier"] = "rds-staging-main-replica"
    _add(t, "UnderWaiver", copy_)


def _inline_checkov_skip(t: Template) -> None:
    resource = t["Resources"][_db_id(t)]
    resource.setdefault("Metadata", {})["checkov"] = {"skip": [{"id": "CKV_STG_RDS_1", "comment": "trust me"}]}
    db_instance(t)["DeletionProtection"] = False


def _inline_cfn_lint_ignore(t: Template) -> None:
    resource = t["Resources"][_db_id(t)]
    resource.setdefault("Metadata", {})["cfn-lint"] = {"config": {"ignore_checks": ["W3691"]}}
    db_instance(t)["EngineVersion"] = "13.7"


def _e(name: str, category: str, disguise: str, expected: set[tuple[str, str]], apply: Callable[[Template], None],
       **kwargs: Any) -> Evasion:  # fmt: skip
    return Evasion(name=name, category=category, disguise=disguise, expected=frozenset(expected), apply=apply, **kwargs)


NE, F = NOT_EVALUATED, FAILED
EVASIONS: tuple[Evasion, ...] = (
    _e(
        "nested-stack-external",
        "content",
        "a nested stack whose template sits at a URL",
        {("gate:external-template", NE)},
        _external_nested_stack,
    ),
    _e(
        "nested-stack-in-assembly",
        "content",
        "an open ingress inside a nested stack shipped in the assembly",
        {("CKV_STG_NET_1", F)},
        _nested_in_assembly,
        extra_files=_nested_files,
    ),
    _e(
        "transform-serverless",
        "content",
        "a SAM transform and a serverless function",
        {("gate:transform", NE)},
        _serverless_transform,
    ),
    _e(
        "transform-include",
        "content",
        "Fn::Transform AWS::Include rewriting the database",
        {("gate:transform", NE)},
        _include_transform,
    ),
    _e(
        "transform-language-extensions",
        "content",
        "AWS::LanguageExtensions and a Retain behind Fn::If",
        {("gate:transform", NE)},
        _language_extensions,
    ),
    _e(
        "serverless-application",
        "content",
        "a SAR application deployed beside the stack",
        {("gate:external-template", NE)},
        _serverless_application,
    ),
    _e(
        "custom-resource-foreign-lambda",
        "content",
        "a custom resource run by another account's Lambda",
        {("gate:custom-resource", NE)},
        _foreign_custom_resource,
    ),
    _e(
        "custom-resource-topic",
        "content",
        "a custom resource served through an SNS topic",
        {("gate:custom-resource", NE)},
        _topic_custom_resource,
    ),
    _e(
        "parameter-allowed-values",
        "deploy-time",
        "a compliant default, a violating AllowedValues entry",
        {("CKV_STG_RDS_5", F)},
        _class_from_allowed_values,
    ),
    _e(
        "parameter-unconstrained",
        "deploy-time",
        "deletion protection from a parameter without AllowedValues",
        {("CKV_STG_RDS_1", NE)},
        _unconstrained_deletion_protection,
    ),
    _e(
        "fn-if-other-branch",
        "deploy-time",
        "Multi-AZ true on one branch of Fn::If, false on the other",
        {("CKV_STG_RDS_6", F)},
        _multi_az_if,
    ),
    _e(
        "condition-required-alarm",
        "deploy-time",
        "the CPU alarm exists only under an undecidable Condition",
        {("CKV_STG_CW_1", F)},
        _conditional_cpu_alarm,
    ),
    _e(
        "condition-forbidden-ingress",
        "deploy-time",
        "0.0.0.0/0 ingress behind a Condition",
        {("CKV_STG_NET_1", F)},
        _conditional_open_ingress,
    ),
    _e(
        "fn-split-select",
        "deploy-time",
        "the instance class picked out of a Fn::Split list",
        {("CKV_STG_RDS_5", F)},
        _split_select_class,
    ),
    _e(
        "fn-join",
        "deploy-time",
        "PostgreSQL 13.7 assembled with Fn::Join",
        {("CKV_STG_RDS_7", F), ("W3691", F)},
        _joined_engine_version,
    ),
    _e(
        "fn-import-value",
        "deploy-time",
        "the storage key imported from another stack",
        {("CKV_STG_RDS_13", NE), ("CKV_STG_KMS_2", NE)},
        _imported_key,
    ),
    _e(
        "fn-sub-parameter",
        "deploy-time",
        "Fn::Sub over a parameter whose AllowedValues include 7",
        {("CKV_STG_RDS_7", F)},
        _sub_with_parameter,
    ),
    _e(
        "second-instance",
        "coverage",
        "a second database instance without deletion protection",
        {("CKV_STG_RDS_1", F)},
        _second_instance,
    ),
    _e(
        "standalone-ingress",
        "coverage",
        "a stand-alone ingress rule admitting the whole VPC",
        {("CKV_STG_NET_1", F)},
        _standalone_ingress,
    ),
    _e("aurora-cluster", "coverage", "an Aurora cluster beside the instance", {("CKV_STG_RDS_18", F)}, _aurora_cluster),
    _e(
        "database-removed",
        "coverage",
        "no database at all: every instance policy is vacuous",
        {("CKV_STG_RDS_1", F), ("CKV_STG_RDS_18", F)},
        _database_removed,
    ),
    _e("ipv6-anywhere", "network", "an inline IPv6 ::/0 rule", {("CKV_STG_NET_1", F)}, _inline_ipv6),
    _e("prefix-list", "network", "a prefix list as the source", {("CKV_STG_NET_1", F)}, _prefix_list),
    _e(
        "source-security-group",
        "network",
        "another security group as the source",
        {("CKV_STG_NET_1", F)},
        _source_security_group,
    ),
    _e(
        "default-security-group",
        "network",
        "0.0.0.0/0 on the VPC default group the database now uses",
        {("CKV_STG_NET_1", F)},
        _default_group_ingress,
    ),
    _e(
        "foreign-database-group",
        "network",
        "the database in a security group the template does not define",
        {("CKV_STG_NET_1", NE)},
        _foreign_database_group,
    ),
    _e(
        "classic-db-security-group",
        "network",
        "an EC2-Classic DB security group open to 0.0.0.0/0",
        {("CKV_STG_NET_1", F)},
        _classic_db_security_group,
    ),
    _e(
        "proxy-default-group",
        "network",
        "an RDS proxy in front of the database, on the VPC default group",
        {("CKV_STG_NET_1", F)},
        _proxy_on_the_default_group,
    ),
    _e(
        "proxy-open-to-dev",
        "network",
        "an RDS proxy in front of the database whose group admits the dev VPC",
        {("CKV_STG_NET_1", F)},
        _proxy_open_to_the_dev_vpc,
    ),
    _e(
        "log-group-default-key",
        "encryption",
        "a log group without KmsKeyId (AWS managed key)",
        {("CKV_STG_KMS_2", F)},
        _log_group_without_key,
    ),
    _e(
        "log-group-second-key",
        "encryption",
        "a log group on a second, well-kept customer-managed key, not the database's",
        {("CKV_STG_KMS_2", F)},
        _log_group_on_a_second_key,
    ),
    _e(
        "performance-insights-aws-key",
        "encryption",
        "Performance Insights on alias/aws/rds",
        {("CKV_STG_KMS_2", F)},
        _aws_managed_performance_insights_key,
    ),
    _e(
        "queue-sse-sqs",
        "encryption",
        "a new SQS queue with SQS-managed encryption",
        {("CKV_STG_KMS_2", F)},
        _unencrypted_queue,
    ),
    _e(
        "unreviewed-keyed-type",
        "encryption",
        "a resource type that takes a key no rule has reviewed",
        {("CKV_STG_KMS_2", NE)},
        _unreviewed_keyed_type,
    ),
    _e(
        "master-secret-default-key",
        "encryption",
        "the managed master secret on the default key",
        {("CKV_STG_KMS_2", F)},
        _master_secret_default_key,
    ),
    _e(
        "key-policy-other-account",
        "resource-policy",
        "the key policy grants another account",
        {("CKV_STG_IAM_2", F)},
        _key_for_another_account,
    ),
    _e(
        "endpoint-default-policy",
        "resource-policy",
        "the Secrets Manager endpoint left on AWS's default (allow-all) policy",
        {("CKV_STG_IAM_2", F)},
        _endpoint_on_the_default_policy,
    ),
    _e(
        "gateway-endpoint-no-policy",
        "resource-policy",
        "an S3 gateway endpoint without a policy",
        {("CKV_STG_IAM_2", F)},
        _gateway_endpoint_without_policy,
    ),
    _e(
        "topic-policy-anyone",
        "resource-policy",
        "the alarm topic lets anyone publish",
        {("CKV_STG_IAM_2", F)},
        _topic_open_to_all,
    ),
    _e(
        "lambda-permission-anyone",
        "resource-policy",
        "a Lambda permission for principal '*'",
        {("CKV_STG_IAM_2", F)},
        _lambda_permission_for_everyone,
    ),
    _e(
        "key-principal-parameter",
        "resource-policy",
        "a key policy principal built from a parameter",
        {("CKV_STG_IAM_2", NE)},
        _key_principal_from_parameter,
    ),
    _e(
        "secret-string-literal",
        "secrets",
        "a secret whose value is written in the template",
        {("CKV_STG_SEC_1", F)},
        _literal_secret,
    ),
    _e(
        "password-in-environment",
        "secrets",
        "a password in a function's environment",
        {("CKV_STG_SEC_1", F)},
        _password_in_environment,
    ),
    _e("no-echo-default", "secrets", "a NoEcho parameter with a Default", {("CKV_STG_SEC_1", F)}, _no_echo_default),
    _e(
        "credentials-in-output",
        "secrets",
        "credentials in an output's connection URL",
        {("CKV_STG_SEC_1", F)},
        _credentials_in_output,
    ),
    _e("access-key-in-tag", "secrets", "an AWS access key id in a tag value", {("CKV_STG_SEC_1", F)}, _key_in_a_tag),
    _e(
        "password-in-ssm-parameter",
        "secrets",
        "a password as the Value of a String SSM parameter named for it",
        {("CKV_STG_SEC_1", F)},
        _password_in_an_ssm_parameter,
    ),
    _e(
        "password-under-tag-key",
        "secrets",
        "a password as a tag's Value, the tag's Key naming it",
        {("CKV_STG_SEC_1", F)},
        _password_under_a_tag_key,
    ),
    _e(
        "spec-class-parameter",
        "spec-values",
        "the instance class as a parameter whose only value complies",
        {("CKV_STG_GEN_2", F)},
        _class_parameter_with_only_the_right_value,
    ),
    _e(
        "spec-threshold-parameter",
        "spec-values",
        "the CPU threshold as a parameter",
        {("CKV_STG_GEN_2", F)},
        _threshold_parameter,
    ),
    _e(
        "waiver-under-waived-path",
        "waivers",
        "a new function placed under a waived construct path",
        {("CKV_AWS_115", F)},
        _resource_under_a_waived_path,
    ),
    _e(
        "waiver-borrowed-path",
        "waivers",
        "a new function claiming a waived construct path",
        {("CKV_AWS_115", F)},
        _resource_borrowing_a_waived_path,
    ),
    _e(
        "waiver-nag-subtree",
        "waivers",
        "a database under the waived database's path (AwsSolutions-RDS11)",
        {("AwsSolutions::AwsSolutions-RDS11", F)},
        _instance_under_the_waived_database,
    ),
    _e(
        "inline-checkov-skip",
        "waivers",
        "Metadata.checkov.skip on a disabled deletion protection",
        {("CKV_STG_RDS_1", F)},
        _inline_checkov_skip,
    ),
    _e(
        "inline-cfn-lint-ignore",
        "waivers",
        "cfn-lint ignore_checks metadata hiding W3691",
        {("gate:in-template-suppression", F)},
        _inline_cfn_lint_ignore,
    ),
)


def by_category() -> dict[str, list[Evasion]]:
    grouped: dict[str, list[Evasion]] = {}
    for case in EVASIONS:
        grouped.setdefault(case.category, []).append(case)
    return grouped


def names() -> Iterator[str]:
    return (case.name for case in EVASIONS)


# Corpora of later mechanisms, one module each (tests/harness/corpus_*.py).
from tests.harness import corpus_registry  # noqa: E402

EVASIONS += corpus_registry.CASES
from tests.harness import corpus_deploy  # noqa: E402  (its cases build on this module)

EVASIONS += tuple(corpus_deploy.CASES)
from tests.harness import corpus_crypto  # noqa: E402  (issue 16 item 5: encryption, secrets, database settings)

EVASIONS += corpus_crypto.CASES
from tests.harness import corpus_network  # noqa: E402  (registered last: it builds on this module's Evasion)

EVASIONS += tuple(corpus_network.CASES)
from tests.harness import corpus_monitoring  # noqa: E402  (issue 16 item 5: alarms and kept logs)

EVASIONS += corpus_monitoring.CASES
from tests.harness import corpus_redteam  # noqa: E402  (issue 16: held-out-style classes a red-team pass found)

EVASIONS += corpus_redteam.CASES
from tests.harness import corpus_second_pass  # noqa: E402  (a second red-team pass: caught, kept caught)

EVASIONS += corpus_second_pass.CASES
