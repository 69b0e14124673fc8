"""A second red-team pass (issue 20's stop): disguises the gate already fails, kept so it keeps failing them.

Each was written against the staging template as an attacker or a hurried engineer would, then
run through the gate with the others in one ``--assembly`` run; every one failed with the rule
named here. They guard classes the other corpus modules touch only from another side: trust and
key grants to another account by principal or by condition, a setting behind a Region
condition, a second (public) instance that is a read replica, a backup window inside the
maintenance window, an AWS-managed administrator policy, and an anywhere CIDR assembled by an
intrinsic in a stand-alone rule.

Cases locate what they edit by type and shape, never by a hard-coded logical id.
"""

from __future__ import annotations

from harness.verdict.mutations import db_instance, db_security_group, properties_of, resources_of
from tests.harness.evasions import FAILED, Evasion, Template, _db_id, _e

CATEGORY = "held-out-style (second pass)"
OTHER = "999999999999"


def _role_trusts_another_account(t: Template) -> None:
    trust = properties_of(t, "AWS::IAM::Role")["AssumeRolePolicyDocument"]
    trust["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sts:AssumeRole"}
    )


def _key_decrypt_by_caller_account(t: Template) -> None:
    properties_of(t, "AWS::KMS::Key")["KeyPolicy"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": OTHER}}}
    )  # fmt: skip


def _deletion_protection_by_region(t: Template) -> None:
    t.setdefault("Conditions", {})["InWest"] = {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-west-2"]}
    db_instance(t)["DeletionProtection"] = {"Fn::If": ["InWest", False, True]}


def _public_read_replica(t: Template) -> None:
    t["Resources"]["ReportingReplica"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {"SourceDBInstanceIdentifier": {"Ref": _db_id(t)}, "DBInstanceClass": "db.t3.micro",
                       "PubliclyAccessible": True},
    }  # fmt: skip


def _backup_window_inside_maintenance(t: Template) -> None:
    db_instance(t)["PreferredBackupWindow"] = "08:30-09:00"  # the maintenance window is sun:08:00-sun:10:00


def _administrator_policy(t: Template) -> None:
    for _, role in resources_of(t, "AWS::IAM::Role"):
        role["Properties"].setdefault("ManagedPolicyArns", []).append("arn:aws:iam::aws:policy/AdministratorAccess")


def _anywhere_joined_in_a_standalone_rule(t: Template) -> None:
    group = db_security_group(t)
    group_id = next(lid for lid, r in t["Resources"].items() if r.get("Properties") is group)
    t["Resources"]["JoinedRule"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {"GroupId": {"Ref": group_id}, "CidrIp": {"Fn::Join": ["", ["0.0.0.0", "/0"]]},
                       "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "Description": "reporting"},
    }  # fmt: skip


def _topic_subscribable_by_anyone(t: Template) -> None:
    properties_of(t, "AWS::SNS::TopicPolicy")["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sns:Subscribe", "Resource": "*"}
    )


CASES: tuple[Evasion, ...] = (
    _e("role-trusts-another-account", CATEGORY, "a role's trust policy adds another account's root",
       {("CKV_STG_IAM_2", FAILED)}, _role_trusts_another_account),
    _e("key-decrypt-for-a-caller-account", CATEGORY, "Principal * on kms:Decrypt, narrowed only by kms:CallerAccount "
       "of another account", {("CKV_STG_IAM_2", FAILED)}, _key_decrypt_by_caller_account),
    _e("deletion-protection-by-region", CATEGORY, "DeletionProtection false behind a condition on AWS::Region",
       {("CKV_STG_GEN_2", FAILED)}, _deletion_protection_by_region),
    _e("public-read-replica", CATEGORY, "a second instance, a publicly accessible read replica of the database",
       {("CKV_STG_RDS_18", FAILED), ("CKV_STG_RDS_2", FAILED)}, _public_read_replica),
    _e("backup-window-in-maintenance", CATEGORY, "the backup window inside the maintenance window",
       {("CKV_STG_RDS_4", FAILED)}, _backup_window_inside_maintenance),
    _e("administrator-managed-policy", CATEGORY, "AWS's AdministratorAccess attached to the stack's roles",
       {("CKV_STG_IAM_1", FAILED)}, _administrator_policy),
    _e("anywhere-joined-standalone-rule", CATEGORY, "0.0.0.0/0 assembled with Fn::Join in a stand-alone ingress "
       "rule with a description", {("CKV_STG_NET_1", FAILED)}, _anywhere_joined_in_a_standalone_rule),
    _e("topic-subscribable-by-anyone", CATEGORY, "the alarm topic's policy lets every principal subscribe",
       {("CKV_STG_IAM_2", FAILED)}, _topic_subscribable_by_anyone),
)  # fmt: skip
