"""Deny by default (policies/registry): what no one reviewed is NOT EVALUATED, whatever it does.

Each case adds something no policy knows: a resource type that opens a path, ships data to
another account or changes the database after deployment; a property that changes what the
others mean; an attribute that reads a range nobody reviewed; a template or resource key that
runs code. Before the registry every one of these was "not applicable" to every policy, and
most passed the gate with exit 0.
"""

from __future__ import annotations

from typing import Any

from harness.verdict.mutations import db_instance, db_security_group
from tests.harness.evasions import NOT_EVALUATED, Evasion, Template, _add, _db_id, _e, _first, _parameter

TYPE = ("gate:unreviewed-type", NOT_EVALUATED)
PROPERTY = ("gate:unreviewed-property", NOT_EVALUATED)
ATTRIBUTE = ("gate:unreviewed-attribute", NOT_EVALUATED)
KEY = ("gate:unreviewed-key", NOT_EVALUATED)
TAGS = [{"Key": "Environment", "Value": "staging"}, {"Key": "CostCenter", "Value": "engineering"}]


def _log_group(t: Template, suffix: str) -> str:
    return str(
        next(
            lid
            for lid, r in t["Resources"].items()
            if r["Type"] == "AWS::Logs::LogGroup" and str(r["Properties"].get("LogGroupName", "")).endswith(suffix)
        )
    )


def _logs_to_another_account(t: Template) -> None:
    _add(t, "ShipLogs", {"Type": "AWS::Logs::SubscriptionFilter", "Properties": {
        "LogGroupName": {"Ref": _log_group(t, "/postgresql")}, "FilterPattern": "",
        "DestinationArn": "arn:aws:logs:us-east-1:999988887777:destination:collector"}})  # fmt: skip


def _backups_to_another_account(t: Template) -> None:
    _add(t, "Vault", {"Type": "AWS::Backup::BackupVault", "Properties": {
        "BackupVaultName": "vault-staging-main", "BackupVaultTags": {"Environment": "staging", "CostCenter": "engineering"}}})  # fmt: skip
    _add(t, "Plan", {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {
        "BackupPlanName": "plan-staging-main", "BackupPlanRule": [{
            "RuleName": "daily", "TargetBackupVault": {"Ref": "Vault"},
            "CopyActions": [{"DestinationBackupVaultArn": "arn:aws:backup:us-east-1:999988887777:backup-vault:x"}]}]}}})  # fmt: skip
    _add(t, "Selection", {"Type": "AWS::Backup::BackupSelection", "Properties": {
        "BackupPlanId": {"Ref": "Plan"}, "BackupSelection": {
            "SelectionName": "db", "IamRoleArn": "arn:aws:iam::111122223333:role/backup",
            "Resources": [{"Fn::Sub": f"arn:aws:rds:us-east-1:${{AWS::AccountId}}:db:${{{_db_id(t)}}}"}]}}})  # fmt: skip


def _opened_after_deployment(t: Template) -> None:
    _add(t, "Opener", {"Type": "AWS::Scheduler::Schedule", "Properties": {
        "ScheduleExpression": "rate(1 day)", "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:rds:modifyDBInstance",
                   "RoleArn": "arn:aws:iam::111122223333:role/scheduler",
                   "Input": {"Fn::Sub": f'{{"DbInstanceIdentifier":"${{{_db_id(t)}}}","PubliclyAccessible":true}}'}}}})  # fmt: skip


def _automation_on_the_database(t: Template) -> None:
    _add(t, "Runbook", {"Type": "AWS::SSM::Association", "Properties": {
        "Name": "AWS-DisableDeletionProtection",  # hypothetical document name: what it does is not in the template
        "Parameters": {"DBInstanceIdentifier": [{"Ref": _db_id(t)}]}}})  # fmt: skip


def _peering_to_a_third_vpc(t: Template) -> None:
    vpc = _first(t, "AWS::EC2::VPC")
    _add(t, "Peer", {"Type": "AWS::EC2::TransitGatewayAttachment", "Properties": {
        "TransitGatewayId": "tgw-0123456789abcdef0", "VpcId": {"Ref": vpc},
        "SubnetIds": [{"Ref": lid} for lid, r in t["Resources"].items() if r["Type"] == "AWS::EC2::Subnet"][:1],
        "Tags": TAGS}})  # fmt: skip


def _kerberos_login(t: Template) -> None:
    db_instance(t)["Domain"] = "d-0123456789"
    db_instance(t)["DomainIAMRoleName"] = "rds-directory-access"


def _option_group(t: Template) -> None:
    db_instance(t)["OptionGroupName"] = "og-payments-with-extras"


def _ingress_from_another_accounts_group(t: Template) -> None:
    rules = db_security_group(t)["SecurityGroupIngress"]
    rules[0] = {**rules[0], "SourceSecurityGroupOwnerId": "999988887777"}


def _code_from_a_layer(t: Template) -> None:
    function = next(r for r in t["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    function["Properties"]["Layers"] = ["arn:aws:lambda:us-east-1:999988887777:layer:patch:1"]


def _hidden_in_the_else_branch(t: Template) -> None:
    flag = _parameter(t, "Mode", AllowedValues=["a", "b"], Default="a")
    t.setdefault("Conditions", {})["IsA"] = {"Fn::Equals": [flag, "a"]}
    db_instance(t)["MultiAZ"] = {"Fn::If": ["IsA", True, {"Ref": "AWS::NoValue"}]}
    db_instance(t)["StorageThroughput"] = {"Fn::If": ["IsA", {"Ref": "AWS::NoValue"}, 125]}


def _rules_from_a_parameter(t: Template) -> None:
    rules = _parameter(t, "IngressRules", Type="CommaDelimitedList", Default="10.1.0.0/24")
    db_security_group(t)["SecurityGroupIngress"] = {"Fn::If": ["Never", [], rules]}
    t.setdefault("Conditions", {})["Never"] = {"Fn::Equals": ["a", "b"]}


def _vpc_range_as_a_source(t: Template) -> None:
    vpc = _first(t, "AWS::EC2::VPC")
    rules = db_security_group(t)["SecurityGroupIngress"]
    rules.append({**rules[0], "CidrIp": {"Fn::GetAtt": [vpc, "CidrBlock"]}})


def _ipv6_range_read_from_the_vpc(t: Template) -> None:
    vpc = _first(t, "AWS::EC2::VPC")
    t["Outputs"]["Range"] = {"Value": {"Fn::Select": [0, {"Fn::GetAtt": [vpc, "Ipv6CidrBlocks"]}]}}


def _instance_init_metadata(t: Template) -> None:
    t["Resources"][_db_id(t)]["Metadata"]["AWS::CloudFormation::Init"] = {
        "config": {"commands": {"open": {"command": "psql -c 'ALTER SYSTEM SET ssl = off'"}}}
    }


def _update_policy(t: Template) -> None:
    t["Resources"][_db_id(t)]["UpdatePolicy"] = {"EnableVersionUpgrade": True}


def _creation_policy(t: Template) -> None:
    t["Resources"][_db_id(t)]["CreationPolicy"] = {"ResourceSignal": {"Count": 1, "Timeout": "PT12H"}}


def _nested_unreviewed(t: Template) -> None:
    _add(t, "InnerStack", {"Type": "AWS::CloudFormation::Stack",
                           "Metadata": {"aws:asset:path": "Inner.nested.template.json"},
                           "Properties": {"TemplateURL": "https://bucket/inner.json"}})  # fmt: skip


def _nested_files(t: Template) -> dict[str, Any]:
    return {"Inner.nested.template.json": {"Resources": {"Share": {"Type": "AWS::RAM::ResourceShare", "Properties": {
        "Name": "subnets", "Principals": ["999988887777"],
        "ResourceArns": ["arn:aws:ec2:us-east-1:111122223333:subnet/subnet-0123456789abcdef0"]}}}}}  # fmt: skip


CATEGORY = "unreviewed"
CASES: tuple[Evasion, ...] = (
    _e("logs-shipped-to-another-account", CATEGORY, "a subscription filter sends the database's log to another "
       "account", {TYPE}, _logs_to_another_account),
    _e("backups-copied-to-another-account", CATEGORY, "an AWS Backup plan copies the database to another account's "
       "vault", {TYPE}, _backups_to_another_account),
    _e("database-opened-after-deployment", CATEGORY, "a daily EventBridge schedule makes the database public through "
       "the RDS API", {TYPE}, _opened_after_deployment),
    _e("automation-on-the-database", CATEGORY, "a Systems Manager association runs a document against the database",
       {TYPE}, _automation_on_the_database),
    _e("transit-gateway-into-the-vpc", CATEGORY, "a transit gateway attachment opens a path into the VPC",
       {TYPE, ("CKV_STG_NET_3", NOT_EVALUATED), ("CKV_STG_NET_3", "failed")}, _peering_to_a_third_vpc),
    _e("kerberos-login", CATEGORY, "Domain: a directory's users log in to the database beside the managed "
       "credentials", {PROPERTY}, _kerberos_login),
    _e("option-group", CATEGORY, "OptionGroupName: an option group no policy reads", {PROPERTY}, _option_group),
    _e("ingress-from-another-accounts-group", CATEGORY, "SourceSecurityGroupOwnerId: a group of another account",
       {PROPERTY, ("CKV_STG_NET_1", "failed")}, _ingress_from_another_accounts_group),
    _e("code-from-a-foreign-layer", CATEGORY, "a Lambda layer of another account adds code to the handler",
       {PROPERTY}, _code_from_a_layer),
    _e("property-in-the-else-branch", CATEGORY, "an unreviewed property only in the branch a parameter selects",
       {PROPERTY}, _hidden_in_the_else_branch),
    _e("structure-from-a-parameter", CATEGORY, "the database group's ingress rules given whole by a parameter, behind "
       "a condition", {PROPERTY}, _rules_from_a_parameter),
    _e("vpc-range-as-a-source", CATEGORY, "the VPC's own CidrBlock read with Fn::GetAtt as an ingress source",
       {ATTRIBUTE, ("CKV_STG_NET_1", NOT_EVALUATED), ("CKV_STG_NET_1", "failed")}, _vpc_range_as_a_source),
    _e("ipv6-range-read", CATEGORY, "an attribute no one reviewed, read inside an output", {ATTRIBUTE},
       _ipv6_range_read_from_the_vpc),
    _e("cloudformation-init-metadata", CATEGORY, "AWS::CloudFormation::Init metadata: commands run at deploy time",
       {KEY}, _instance_init_metadata),
    _e("update-policy", CATEGORY, "an UpdatePolicy changes how CloudFormation updates the database", {KEY},
       _update_policy),
    _e("creation-policy", CATEGORY, "a CreationPolicy waits on a signal from outside the template", {KEY},
       _creation_policy),
    _e("unreviewed-type-in-a-nested-stack", CATEGORY, "a RAM share of a subnet inside a nested stack", {TYPE},
       _nested_unreviewed, extra_files=_nested_files),
)  # fmt: skip
