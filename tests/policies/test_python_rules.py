"""The Python policies against disguised violations: each rule as a pure function, without checkov.

Every case starts from the policy's pass fixture, hides or varies one thing the way a template
author (or an attacker) could, and states the verdict the rule must give and a word of its
reason. The rules are loaded from their files with ``make_check`` stubbed (checkov is not in
this venv); ``test_policy_fixtures.py`` runs the same rules inside checkov.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.catalog import FIXTURES_DIR
from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from tests.policies.inprocess import load_rule

Template = dict[str, Any]
Edit = Callable[[Template], object]  # lambdas return what dict methods return


def base(policy_id: str) -> Template:
    loaded: Template = json.loads((FIXTURES_DIR / policy_id / "pass.json").read_text(encoding="utf-8"))
    return loaded


def judge(policy_id: str, template: Template, logical_id: str, world: dict[str, Any] | None = None) -> lib.Verdict:
    if world is not None:
        template = {**template, "Metadata": {cfn.WORLD_METADATA_KEY: {"world": world, "environment": {}}}}
    verdict = load_rule(policy_id).rule(lib.Context(template, raw=template), logical_id)
    assert isinstance(verdict, lib.Verdict)
    return verdict


def props(template: Template, logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id].setdefault("Properties", {})
    return found


def first(template: Template, resource_type: str) -> str:
    return str(next(lid for lid, r in template["Resources"].items() if r["Type"] == resource_type))


def free_parameter(template: Template, name: str, kind: str = "String") -> dict[str, str]:
    template.setdefault("Parameters", {})[name] = {"Type": kind}
    return {"Ref": name}


def set_props(resource_type: str, **values: Any) -> Edit:
    def edit(t: Template) -> None:
        target = props(t, first(t, resource_type))
        for key, value in values.items():
            if value is None:
                target.pop(key, None)
            else:
                target[key] = value(t) if callable(value) else value

    return edit


def add(logical_id: str, resource: dict[str, Any]) -> Edit:
    return lambda t: t["Resources"].__setitem__(logical_id, copy.deepcopy(resource))


def both(*edits: Edit) -> Edit:
    def edit(t: Template) -> None:
        for step in edits:
            step(t)

    return edit


def zone_ids(template: Template) -> None:
    for number in (1, 2, 3):
        subnet = props(template, f"DbSubnet{number}")
        subnet.pop("AvailabilityZone")
        subnet["AvailabilityZoneId"] = f"use1-az{number}"


Case = tuple[str, str, Edit, str, str]  # (policy, case, edit, expected status, word of the reason)
DB = "AWS::RDS::DBInstance"
IMPORT = {"Fn::ImportValue": "shared-value"}
SECRET = {
    "Type": "AWS::SecretsManager::Secret",
    "Properties": {
        "Name": "secret-db-staging-main",
        "GenerateSecretString": {
            "SecretStringTemplate": '{"username": "dbadmin"}',
            "GenerateStringKey": "password",
            "ExcludeCharacters": '/@"',
        },
    },
}

CASES: list[Case] = [
    # CKV_STG_CW_4: the dashboard must plot the instance
    (
        "CKV_STG_CW_4",
        "literal body with the literal identifier",
        set_props(
            "AWS::CloudWatch::Dashboard",
            DashboardBody=json.dumps(
                {
                    "widgets": [
                        {
                            "properties": {
                                "metrics": [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "rds-staging-main"]]
                            }
                        }
                    ]
                }
            ),
        ),
        "passed",
        "plots",
    ),
    (
        "CKV_STG_CW_4",
        "plots another instance",
        set_props(
            "AWS::CloudWatch::Dashboard",
            DashboardBody=json.dumps(
                {
                    "widgets": [
                        {
                            "properties": {
                                "metrics": [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "rds-other"]]
                            }
                        }
                    ]
                }
            ),
        ),
        "failed",
        "no dashboard",
    ),
    (
        "CKV_STG_CW_4",
        "names the instance in a text widget only",
        set_props(
            "AWS::CloudWatch::Dashboard",
            DashboardBody={
                "Fn::Join": ["", ['{"widgets":[{"type":"text","properties":{"markdown":"', {"Ref": "Db"}, '"}}]}']]
            },
        ),
        "failed",
        "no dashboard",
    ),
    (
        "CKV_STG_CW_4",
        "body from another stack",
        set_props("AWS::CloudWatch::Dashboard", DashboardBody=IMPORT),
        "not-evaluated",
        "Fn::ImportValue",
    ),
    (
        "CKV_STG_CW_4",
        "body is not JSON",
        set_props("AWS::CloudWatch::Dashboard", DashboardBody="<html/>"),
        "not-evaluated",
        "not a JSON document",
    ),
    # CKV_STG_NET_3: only peering routes to named ranges leave the database subnets
    (
        "CKV_STG_NET_3",
        "peering route to the dev VPC",
        add(
            "Peer",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "DbRouteTable1"},
                    "DestinationCidrBlock": "10.0.0.0/16",
                    "VpcPeeringConnectionId": "pcx-1",
                },
            },
        ),
        "passed",
        "peering",
    ),
    (
        "CKV_STG_NET_3",
        "NAT gateway route to a narrow range",
        add(
            "Nat",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "DbRouteTable1"},
                    "DestinationCidrBlock": "52.0.0.0/8",
                    "NatGatewayId": "nat-1",
                },
            },
        ),
        "failed",
        "NatGatewayId",
    ),
    (
        "CKV_STG_NET_3",
        "transit gateway route",
        add(
            "Tgw",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Fn::GetAtt": ["DbRouteTable3", "RouteTableId"]},
                    "DestinationCidrBlock": "172.16.0.0/12",
                    "TransitGatewayId": "tgw-1",
                },
            },
        ),
        "failed",
        "TransitGatewayId",
    ),
    (
        "CKV_STG_NET_3",
        "IPv6 default route through an egress-only gateway",
        add(
            "V6",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "DbRouteTable2"},
                    "DestinationIpv6CidrBlock": "::/0",
                    "EgressOnlyInternetGatewayId": "eigw-1",
                },
            },
        ),
        "failed",
        "EgressOnlyInternetGatewayId",
    ),
    (
        "CKV_STG_NET_3",
        "default route over peering",
        add(
            "PeerAll",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": {"Ref": "DbRouteTable1"},
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "VpcPeeringConnectionId": "pcx-1",
                },
            },
        ),
        "failed",
        "default route",
    ),
    (
        "CKV_STG_NET_3",
        "public IPs written as a string",
        lambda t: props(t, "DbSubnet2").__setitem__("MapPublicIpOnLaunch", "true"),
        "failed",
        "MapPublicIpOnLaunch",
    ),
    (
        "CKV_STG_NET_3",
        "VPN routes propagated into a database table",
        add(
            "Vpn",
            {
                "Type": "AWS::EC2::VPNGatewayRoutePropagation",
                "Properties": {"RouteTableIds": [{"Ref": "DbRouteTable3"}], "VpnGatewayId": "vgw-1"},
            },
        ),
        "failed",
        "propagates",
    ),
    (
        "CKV_STG_NET_3",
        "a subnet the template does not define",
        lambda t: props(t, "DbSubnetGroup")["SubnetIds"].append("subnet-0123456789abcdef0"),
        "not-evaluated",
        "not a subnet of the template",
    ),
    (
        "CKV_STG_NET_3",
        "association to an imported route table",
        lambda t: props(t, "DbRouteTableAssociation1").__setitem__("RouteTableId", IMPORT),
        "not-evaluated",
        "Fn::ImportValue",
    ),
    (
        "CKV_STG_NET_3",
        "internet route into a literal route table id",
        add(
            "Lit",
            {
                "Type": "AWS::EC2::Route",
                "Properties": {
                    "RouteTableId": "rtb-0123456789abcdef0",
                    "DestinationCidrBlock": "0.0.0.0/0",
                    "GatewayId": "igw-1",
                },
            },
        ),
        "not-evaluated",
        "may be a database subnet's",
    ),
    (
        "CKV_STG_NET_3",
        "subnet on the main route table of an imported VPC",
        both(
            lambda t: [t["Resources"].pop(k) for k in ("DbRouteTableAssociation1",)],
            lambda t: props(t, "DbSubnet1").__setitem__("VpcId", IMPORT),
        ),
        "not-evaluated",
        "main route table",
    ),
    # CKV_STG_NET_5: three literal zones of us-east-1
    ("CKV_STG_NET_5", "zone ids", zone_ids, "passed", "use1-az1"),
    (
        "CKV_STG_NET_5",
        "a zone of another region",
        lambda t: props(t, "DbSubnet3").__setitem__("AvailabilityZone", "us-west-2c"),
        "failed",
        "us-west-2c",
    ),
    (
        "CKV_STG_NET_5",
        "two subnets in one zone",
        lambda t: props(t, "DbSubnet3").__setitem__("AvailabilityZone", "us-east-1a"),
        "failed",
        "only 2",
    ),
    (
        "CKV_STG_NET_5",
        "a subnet without a zone",
        lambda t: props(t, "DbSubnet3").pop("AvailabilityZone"),
        "failed",
        "sets no AvailabilityZone",
    ),
    (
        "CKV_STG_NET_5",
        "names and ids mixed",
        both(
            lambda t: props(t, "DbSubnet3").pop("AvailabilityZone"),
            lambda t: props(t, "DbSubnet3").__setitem__("AvailabilityZoneId", "use1-az6"),
        ),
        "not-evaluated",
        "cannot be compared",
    ),
    (
        "CKV_STG_NET_5",
        "zone from a parameter",
        lambda t: props(t, "DbSubnet2").__setitem__("AvailabilityZone", free_parameter(t, "Zone")),
        "not-evaluated",
        "parameter Zone",
    ),
    # CKV_STG_RDS_4: windows set, long enough, apart
    ("CKV_STG_RDS_4", "no maintenance window", set_props(DB, PreferredMaintenanceWindow=None), "failed", "random"),
    (
        "CKV_STG_RDS_4",
        "20-minute backup window",
        set_props(DB, PreferredBackupWindow="05:00-05:20"),
        "failed",
        "30 minutes",
    ),
    (
        "CKV_STG_RDS_4",
        "backup across midnight into Monday maintenance",
        set_props(DB, PreferredBackupWindow="23:45-00:45", PreferredMaintenanceWindow="mon:00:00-mon:01:00"),
        "failed",
        "overlap",
    ),
    (
        "CKV_STG_RDS_4",
        "window from another stack",
        set_props(DB, PreferredMaintenanceWindow=IMPORT),
        "not-evaluated",
        "Fn::ImportValue",
    ),
    (
        "CKV_STG_RDS_4",
        "cluster member",
        set_props(DB, DBClusterIdentifier="cluster-staging-main"),
        "not-applicable",
        "cluster",
    ),
    # CKV_STG_RDS_15: credentials managed, or one Secrets Manager reference
    (
        "CKV_STG_RDS_15",
        "managed, written as a string",
        set_props(DB, ManageMasterUserPassword="true"),
        "passed",
        "RDS-managed",
    ),
    (
        "CKV_STG_RDS_15",
        "managed, secret under the AWS managed key",
        set_props(DB, MasterUserSecret={"KmsKeyId": "alias/aws/secretsmanager"}),
        "failed",
        "alias/aws/secretsmanager",
    ),
    (
        "CKV_STG_RDS_15",
        "managed, secret without a key",
        set_props(DB, MasterUserSecret=None),
        "failed",
        "AWS managed default key",
    ),
    (
        "CKV_STG_RDS_15",
        "managed flag from another stack",
        set_props(DB, ManageMasterUserPassword=IMPORT),
        "not-evaluated",
        "Fn::ImportValue",
    ),
    (
        "CKV_STG_RDS_15",
        "password from a NoEcho parameter",
        set_props(
            DB,
            ManageMasterUserPassword=None,
            MasterUserSecret=None,
            MasterUserPassword=lambda t: free_parameter(t, "DbPassword"),
        ),
        "failed",
        "parameter DbPassword",
    ),
    (
        "CKV_STG_RDS_15",
        "password from an SSM SecureString",
        set_props(
            DB,
            ManageMasterUserPassword=None,
            MasterUserSecret=None,
            MasterUserPassword="{{resolve:ssm-secure:/db/password:1}}",
        ),
        "failed",
        "ssm-secure",
    ),
    (
        "CKV_STG_RDS_15",
        "password from a secret of the template, by name",
        both(
            add("Secret", SECRET),
            set_props(
                DB,
                ManageMasterUserPassword=None,
                MasterUserSecret=None,
                MasterUserPassword="{{resolve:secretsmanager:secret-db-staging-main:SecretString:password}}",
            ),
        ),
        "passed",
        "secret Secret of the template",
    ),
    (
        "CKV_STG_RDS_15",
        "password from another stack's secret",
        set_props(
            DB,
            ManageMasterUserPassword=None,
            MasterUserSecret=None,
            MasterUserPassword="{{resolve:secretsmanager:shared-secret:SecretString:password}}",
        ),
        "not-evaluated",
        "rotated cannot be verified",
    ),
    (
        "CKV_STG_RDS_15",
        "password joined from a Secrets Manager reference (CDK)",
        both(
            add("Secret", SECRET),
            set_props(
                DB,
                ManageMasterUserPassword=None,
                MasterUserSecret=None,
                MasterUserPassword={
                    "Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Secret"}, ":SecretString:password::}}"]]
                },
            ),
        ),
        "passed",
        "secret Secret of the template",
    ),
    (
        "CKV_STG_RDS_15",
        "plaintext prefix before a reference",
        set_props(
            DB,
            ManageMasterUserPassword=None,
            MasterUserSecret=None,
            MasterUserPassword="x{{resolve:secretsmanager:db-secret:SecretString:password}}",
        ),
        "failed",
        "not one",
    ),
    (
        "CKV_STG_RDS_15",
        "restored snapshot keeps its password",
        set_props(DB, ManageMasterUserPassword=None, MasterUserSecret=None, DBSnapshotIdentifier="snap-1"),
        "failed",
        "snapshot",
    ),
    (
        "CKV_STG_RDS_15",
        "read replica",
        set_props(
            DB,
            ManageMasterUserPassword=None,
            MasterUserSecret=None,
            SourceDBInstanceIdentifier="rds-staging-main-source",
        ),
        "failed",
        "read replica",
    ),
    # CKV_STG_SM_1: a schedule with rules and a rotator
    (
        "CKV_STG_SM_1",
        "schedule on the secret itself, hosted rotation",
        set_props(
            "AWS::SecretsManager::RotationSchedule",
            SecretId={"Ref": "Secret"},
            RotationLambdaARN=None,
            HostedRotationLambda={"RotationType": "PostgreSQLSingleUser"},
        ),
        "passed",
        "rotated by",
    ),
    (
        "CKV_STG_SM_1",
        "schedule without rules",
        set_props("AWS::SecretsManager::RotationSchedule", RotationRules=None),
        "failed",
        "no RotationRules",
    ),
    (
        "CKV_STG_SM_1",
        "schedule without a rotator",
        set_props("AWS::SecretsManager::RotationSchedule", RotationLambdaARN=None),
        "failed",
        "nothing rotates",
    ),
    (
        "CKV_STG_SM_1",
        "schedule of another secret",
        both(
            add("Other", {"Type": "AWS::SecretsManager::Secret", "Properties": {}}),
            set_props("AWS::SecretsManager::RotationSchedule", SecretId={"Ref": "Other"}),
        ),
        "failed",
        "no AWS::SecretsManager",
    ),
    (
        "CKV_STG_SM_1",
        "rotation period from a parameter",
        set_props(
            "AWS::SecretsManager::RotationSchedule",
            RotationRules=lambda t: {"AutomaticallyAfterDays": free_parameter(t, "Days", "Number")},
        ),
        "not-evaluated",
        "parameter Days",
    ),
    # CKV_STG_GEN_1: Retain in any spelling the template allows
    (
        "CKV_STG_GEN_1",
        "RetainExceptOnCreate on replacement",
        lambda t: t["Resources"]["Key"].__setitem__("UpdateReplacePolicy", "RetainExceptOnCreate"),
        "failed",
        "RetainExceptOnCreate",
    ),
    (
        "CKV_STG_GEN_1",
        "Retain behind an undecided Fn::If",
        both(
            lambda t: t.__setitem__("Transform", "AWS::LanguageExtensions"),
            lambda t: t.__setitem__("Conditions", {"Keep": {"Fn::Equals": [free_parameter(t, "Mode"), "keep"]}}),
            lambda t: t["Resources"]["Key"].__setitem__("DeletionPolicy", {"Fn::If": ["Keep", "Retain", "Delete"]}),
        ),
        "not-evaluated",
        "parameter Mode",
    ),
]

GEN_1_IF = both(
    lambda t: t.__setitem__("Transform", "AWS::LanguageExtensions"),
    lambda t: t.__setitem__("Parameters", {"Mode": {"Type": "String", "AllowedValues": ["keep", "drop"]}}),
    lambda t: t.__setitem__("Conditions", {"Keep": {"Fn::Equals": [{"Ref": "Mode"}, "keep"]}}),
    lambda t: t["Resources"]["Key"].__setitem__("DeletionPolicy", {"Fn::If": ["Keep", "Retain", "Delete"]}),
)
TAGGED = "AWS::KMS::Key"


def _tags(**values: Any) -> Edit:
    return set_props(TAGGED, Tags=[{"Key": k, "Value": v} for k, v in values.items()])


CASES += [
    # CKV_STG_NAME_1: names, spelled out where the template determines them
    (
        "CKV_STG_NAME_1",
        "log group named after the instance's Ref",
        add(
            "Logs",
            {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Join": ["", ["/aws/rds/instance/", {"Ref": "Db"}, "/postgresql"]]}
                },
            },
        ),
        "passed",
        "/aws/rds/instance/rds-staging-main/postgresql",
    ),
    ("CKV_STG_NAME_1", "topic without a name", set_props("AWS::SNS::Topic", TopicName=None), "failed", "no TopicName"),
    (
        "CKV_STG_NAME_1",
        "upper-case name",
        set_props("AWS::SNS::Topic", TopicName="SNS-staging-main"),
        "failed",
        "SNS-staging",
    ),
    (
        "CKV_STG_NAME_1",
        "name from the stack name",
        set_props("AWS::SNS::Topic", TopicName={"Fn::Sub": "sns-${AWS::StackName}"}),
        "not-evaluated",
        "AWS::StackName",
    ),
    (
        "CKV_STG_NAME_1",
        "unnamed helper role",
        add("Role", {"Type": "AWS::IAM::Role", "Properties": {}}),
        "not-applicable",
        "generates",
    ),
    # CKV_STG_OUT_1: each connection detail exported under a suffixed name
    (
        "CKV_STG_OUT_1",
        "endpoint exported without the suffix",
        lambda t: t["Outputs"]["DatabaseEndpointAddress"]["Export"].__setitem__("Name", "export-endpoint"),
        "failed",
        "endpoint address",
    ),
    (
        "CKV_STG_OUT_1",
        "endpoint output not exported",
        lambda t: t["Outputs"]["DatabaseEndpointAddress"].pop("Export"),
        "failed",
        "endpoint address",
    ),
    (
        "CKV_STG_OUT_1",
        "security group output of another group",
        both(
            add("OtherSg", {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "x"}}),
            lambda t: t["Outputs"]["DatabaseSecurityGroupId"].__setitem__(
                "Value", {"Fn::GetAtt": ["OtherSg", "GroupId"]}
            ),
        ),
        "failed",
        "security group id",
    ),
    (
        "CKV_STG_OUT_1",
        "endpoint replaced by an imported value",
        lambda t: t["Outputs"]["DatabaseEndpointAddress"].__setitem__("Value", IMPORT),
        "not-evaluated",
        "unless",
    ),
    # CKV_STG_TAG_1: taggable per the schemas, literal values
    ("CKV_STG_TAG_1", "wrong case", _tags(Environment="Staging", CostCenter="engineering"), "failed", "'staging'"),
    (
        "CKV_STG_TAG_1",
        "duplicate key, second wrong",
        set_props(
            TAGGED,
            Tags=[
                {"Key": "Environment", "Value": "staging"},
                {"Key": "CostCenter", "Value": "engineering"},
                {"Key": "CostCenter", "Value": "marketing"},
            ],
        ),
        "failed",
        "marketing",
    ),
    (
        "CKV_STG_TAG_1",
        "tag key from a parameter",
        set_props(
            TAGGED,
            Tags=lambda t: [
                {"Key": "Environment", "Value": "staging"},
                {"Key": free_parameter(t, "Key"), "Value": "engineering"},
            ],
        ),
        "not-evaluated",
        "parameter Key",
    ),
    ("CKV_STG_TAG_1", "tags from another stack", set_props(TAGGED, Tags=IMPORT), "not-evaluated", "Fn::ImportValue"),
    (
        "CKV_STG_TAG_1",
        "taggable type the old list missed",
        add(
            "Param",
            {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "x", "Tags": {"Environment": "staging"}},
            },
        ),
        "failed",
        "CostCenter",
    ),
    # CKV_STG_IAM_1: every document shape
    (
        "CKV_STG_IAM_1",
        "question-mark wildcard",
        lambda t: props(t, "Policy")["PolicyDocument"]["Statement"][0].__setitem__("Action", "s3:GetObjec?"),
        "failed",
        "s3:GetObjec?",
    ),
    (
        "CKV_STG_IAM_1",
        "document as a Fn::Join-built JSON string",
        set_props(
            "AWS::IAM::ManagedPolicy",
            PolicyDocument={
                "Fn::Join": [
                    "",
                    ['{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"', {"Ref": "AWS::AccountId"}, '"}]}'],
                ]
            },
        ),
        "failed",
        "s3:*",
    ),
    (
        "CKV_STG_IAM_1",
        "effect from a parameter on a wildcard",
        lambda t: props(t, "Policy")["PolicyDocument"]["Statement"][0].update(
            Effect=free_parameter(t, "Effect"), Action="*"
        ),
        "not-evaluated",
        "if its Effect",
    ),
    (
        "CKV_STG_IAM_1",
        "document from another stack",
        set_props("AWS::IAM::ManagedPolicy", PolicyDocument=IMPORT),
        "not-evaluated",
        "Fn::ImportValue",
    ),
]

RESOURCE_CASES: list[tuple[str, str, dict[str, Any], str, str]] = [
    (
        "CKV_STG_IAM_1",
        "KMS key policy with kms:*",
        {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": {
                    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}]
                }
            },
        },
        "failed",
        "kms:*",
    ),
    (
        "CKV_STG_IAM_1",
        "trust policy with NotAction",
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "NotAction": "iam:PassRole"}
                    ]
                }
            },
        },
        "failed",
        "NotAction",
    ),
    (
        "CKV_STG_IAM_1",
        "inline role policy with *",
        {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Policies": [
                    {
                        "PolicyName": "p",
                        "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
                    }
                ]
            },
        },
        "failed",
        "Policies[0].PolicyDocument",
    ),
    (
        "CKV_STG_IAM_1",
        "logs resource policy as a JSON string",
        {
            "Type": "AWS::Logs::ResourcePolicy",
            "Properties": {
                "PolicyName": "p",
                "PolicyDocument": json.dumps({"Statement": [{"Effect": "Allow", "Action": "logs:*"}]}),
            },
        },
        "failed",
        "logs:*",
    ),
    (
        "CKV_STG_IAM_1",
        "lambda permission for every action",
        {
            "Type": "AWS::Lambda::Permission",
            "Properties": {"Action": "lambda:*", "FunctionName": "f", "Principal": "s3.amazonaws.com"},
        },
        "failed",
        "lambda:*",
    ),
    (
        "CKV_STG_IAM_1",
        "deny with a wildcard",
        {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {"PolicyDocument": {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}},
        },
        "passed",
        "named",
    ),
    (
        "CKV_STG_IAM_1",
        "endpoint policy open to every action (a type the old hand list missed)",
        {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "ServiceName": "com.amazonaws.us-east-1.s3",
                "VpcId": "vpc-1",
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
                },
            },
        },
        "failed",
        "PolicyDocument statement #0: *",
    ),
    (
        "CKV_STG_IAM_1",
        "type the schemas do not know",
        {"Type": "AWS::Made::Up", "Properties": {}},
        "not-evaluated",
        "schemas",
    ),
    (
        "CKV_STG_IAM_1",
        "type without policies",
        {"Type": "AWS::SNS::Topic", "Properties": {}},
        "not-applicable",
        "no policy",
    ),
    (
        "CKV_STG_TAG_1",
        "custom resource",
        {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn"}},
        "not-applicable",
        "custom resource",
    ),
    (
        "CKV_STG_TAG_1",
        "type the schemas do not know",
        {"Type": "AWS::Made::Up", "Properties": {}},
        "not-evaluated",
        "schemas",
    ),
    # CKV_STG_IAM_2: a VPC endpoint without a policy gets AWS's allow-everyone default
    (
        "CKV_STG_IAM_2",
        "interface endpoint without a policy",
        {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Interface", "ServiceName": "x"}},
        "failed",
        "default policy",
    ),
    (
        "CKV_STG_IAM_2",
        "endpoint type chosen at deploy time, no policy",
        {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": {"Ref": "Kind"}, "ServiceName": "x"}},
        "not-evaluated",
        "Kind",
    ),
    (
        "CKV_STG_IAM_2",
        "Gateway Load Balancer endpoint (takes no policy)",
        {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "GatewayLoadBalancer"}},
        "passed",
        "",
    ),
    # CKV_STG_NET_1: a cluster names its groups VpcSecurityGroupIds (an instance VPCSecurityGroups)
    (
        "CKV_STG_NET_1",
        "cluster on the VPC default group",
        {"Type": "AWS::RDS::DBCluster", "Properties": {"Engine": "aurora-postgresql"}},
        "failed",
        "the cluster names no VpcSecurityGroupIds",
    ),
    (
        "CKV_STG_NET_1",
        "cluster in a group the template does not define",
        {"Type": "AWS::RDS::DBCluster", "Properties": {"VpcSecurityGroupIds": ["sg-0123456789abcdef0"]}},
        "not-evaluated",
        "not defined in the template",
    ),
    # CKV_STG_NET_1: an RDS proxy endpoint is a door into the database too
    (
        "CKV_STG_NET_1",
        "proxy endpoint on the VPC default group",
        {"Type": "AWS::RDS::DBProxyEndpoint", "Properties": {"DBProxyName": "p", "VpcSubnetIds": ["subnet-1"]}},
        "failed",
        "default group",
    ),
    (
        "CKV_STG_NET_1",
        "proxy endpoint in a group the template does not define",
        {"Type": "AWS::RDS::DBProxyEndpoint", "Properties": {"VpcSecurityGroupIds": ["sg-0123456789abcdef0"]}},
        "not-evaluated",
        "not defined in the template",
    ),
]


# The resource each policy judges in CASES (the fixture's, or the one a case adds under that name).
SUBJECTS = {
    "CKV_STG_CW_4": "Db",
    "CKV_STG_NET_3": "DbSubnetGroup",
    "CKV_STG_NET_5": "DbSubnetGroup",
    "CKV_STG_RDS_4": "Db",
    "CKV_STG_RDS_15": "Db",
    "CKV_STG_SM_1": "Secret",
    "CKV_STG_GEN_1": "Key",
    "CKV_STG_NAME_1": "Topic",
    "CKV_STG_OUT_1": "Db",
    "CKV_STG_TAG_1": "Key",
    "CKV_STG_IAM_1": "Policy",
}
ADDED_SUBJECTS = {
    "log group named after the instance's Ref": "Logs",
    "unnamed helper role": "Role",
    "taggable type the old list missed": "Param",
    # CKV_STG_NET_3: the network model reports a path on the resource that opens it
    "NAT gateway route to a narrow range": "Nat",
    "transit gateway route": "Tgw",
    "IPv6 default route through an egress-only gateway": "V6",
    "default route over peering": "PeerAll",
    "public IPs written as a string": "DbSubnet2",
    "VPN routes propagated into a database table": "Vpn",
    "association to an imported route table": "DbRouteTableAssociation1",
    "internet route into a literal route table id": "Lit",
    "subnet on the main route table of an imported VPC": "DbSubnet1",
}


@pytest.mark.parametrize(("policy_id", "case", "edit", "status", "word"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_sees_through_the_disguise(policy_id: str, case: str, edit: Edit, status: str, word: str) -> None:
    template = base(policy_id)
    edit(template)
    verdict = judge(policy_id, template, ADDED_SUBJECTS.get(case, SUBJECTS[policy_id]))
    assert (verdict.status, word in verdict.reason) == (status, True), verdict


@pytest.mark.parametrize(
    ("policy_id", "case", "resource", "status", "word"), RESOURCE_CASES, ids=[f"{c[0]}:{c[1]}" for c in RESOURCE_CASES]
)
def test_rule_judges_each_resource_shape(
    policy_id: str, case: str, resource: dict[str, Any], status: str, word: str
) -> None:
    template = {"Resources": {"Subject": resource}}
    verdict = judge(policy_id, template, "Subject")
    assert (verdict.status, word in verdict.reason) == (status, True), verdict


@pytest.mark.parametrize(("mode", "status"), [("keep", "failed"), ("drop", "passed")])
def test_retain_is_judged_in_every_world(mode: str, status: str) -> None:
    """With AllowedValues the gate writes one world per value: the Retain world fails, the other passes."""
    template = base("CKV_STG_GEN_1")
    GEN_1_IF(template)
    verdict = judge("CKV_STG_GEN_1", template, "Key", world={"parameters": {"Mode": mode}, "conditions": {}})
    assert verdict.status == status, verdict


def _two_keys(log_group_key: Any, *, database: bool = True) -> Template:
    key_policy = {"KeyPolicy": {"Statement": []}, "EnableKeyRotation": True}
    resources: dict[str, Any] = {
        "StackKey": {"Type": "AWS::KMS::Key", "Properties": key_policy},
        "SecondKey": {"Type": "AWS::KMS::Key", "Properties": key_policy},
        "SecondAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/second", "TargetKeyId": {"Ref": "SecondKey"}},
        },
        "StackAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": "alias/stack", "TargetKeyId": {"Ref": "StackKey"}},
        },
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": log_group_key}},
    }
    if database:
        resources["Db"] = {
            "Type": DB,
            "Properties": {"StorageEncrypted": True, "KmsKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]}},
        }
    return {"Resources": resources}


@pytest.mark.parametrize(
    ("case", "template", "status", "word"),
    [
        ("the database's key", _two_keys({"Fn::GetAtt": ["StackKey", "Arn"]}), "passed", ""),
        ("the database's key by its alias", _two_keys("alias/stack"), "passed", ""),
        ("a second key", _two_keys({"Fn::GetAtt": ["SecondKey", "Arn"]}), "failed", "not the stack's key StackKey"),
        (
            "a second key by its alias ARN",
            _two_keys({"Fn::Sub": "arn:aws:kms:${AWS::Region}:${AWS::AccountId}:alias/second"}),
            "failed",
            "uses key SecondKey",
        ),
        (
            "two keys and no database",
            _two_keys({"Fn::GetAtt": ["SecondKey", "Arn"]}, database=False),
            "not-evaluated",
            "no single one encrypts the database",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_stack_key_is_the_database_key_when_a_template_has_several(
    case: str, template: Template, status: str, word: str
) -> None:
    verdict = judge("CKV_STG_KMS_2", template, "Logs")
    assert (verdict.status, word in verdict.reason) == (status, True), (case, verdict)
