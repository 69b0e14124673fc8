"""Behaviour over syntax: which property, set to which value, alone defeats what a policy promises.

Each :class:`Row` names a policy, a resource type, a property path (or a resource attribute such
as ``DeletionPolicy``) and a value that, set on that resource of the real staging template and
nothing else changed, makes the policy FAIL. ``tests/policies/test_behaviour.py`` applies every
row and checks that the policies in scope declare (``METADATA["judges"]``) exactly the
properties the rows cover: the table is the evidence the registry (``policies/registry/``)
cites for "judged by".

Three bases, all built from the synthesized staging template and all passing every policy:
``staging`` (as synthesized), ``alias`` (the database names the stack's key by its alias name),
``secret`` (the master password from a generated secret of the template, rotated by a function
of the template, attached to the database, with an account-only resource policy).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Template = dict[str, Any]


class _Removed:
    """The property is deleted (a sentinel that survives copying)."""

    def __repr__(self) -> str:
        return "(removed)"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Removed:
        return self


REMOVE = _Removed()
OTHER_ACCOUNT = "111122223333"
FOREIGN_KEY = f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DB = "AWS::RDS::DBInstance"
KEY = "AWS::KMS::Key"
ALIAS = "AWS::KMS::Alias"
GROUP = "AWS::RDS::DBParameterGroup"
SECRET = "AWS::SecretsManager::Secret"
SCHEDULE = "AWS::SecretsManager::RotationSchedule"
ATTACHMENT = "AWS::SecretsManager::SecretTargetAttachment"
RESOURCE_POLICY = "AWS::SecretsManager::ResourcePolicy"


@dataclass(frozen=True)
class Row:
    policy: str
    resource_type: str
    path: str  # dotted path into Properties ("Parameters.<name>" keeps the name whole), or an attribute
    value: Any  # REMOVE, a value, or a callable(template) -> value
    base: str = "staging"
    word: str = ""  # what the reason must name (default: the last segment of the path)
    attribute: bool = False  # DeletionPolicy / UpdateReplacePolicy
    where: tuple[str, str] = ("", "")  # (property, value) choosing the resource (default: the first of its type)

    @property
    def keys(self) -> tuple[str, ...]:
        if self.path.startswith("Parameters."):
            return ("Parameters", self.path.removeprefix("Parameters."))
        return tuple(self.path.split("."))

    @property
    def expected_word(self) -> str:
        return self.word or self.keys[-1]

    def shown(self, template: Template) -> str:
        value = self.value(template) if callable(self.value) else self.value
        return "(removed)" if value is REMOVE else repr(value)


def _first(template: Template, kind: str, where: tuple[str, str] = ("", "")) -> str:
    key, wanted = where
    return str(
        next(
            lid
            for lid, r in sorted(template["Resources"].items())
            if r["Type"] == kind and (not key or r.get("Properties", {}).get(key) == wanted)
        )
    )


def props(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][_first(template, kind)].setdefault("Properties", {})
    return found


def apply(row: Row, template: Template) -> Template:
    """``template`` with the row's one change."""
    changed = copy.deepcopy(template)
    value = row.value(changed) if callable(row.value) else copy.deepcopy(row.value)
    resource = changed["Resources"][_first(changed, row.resource_type, row.where)]
    target = resource if row.attribute else resource.setdefault("Properties", {})
    *parents, leaf = row.keys
    for key in parents:
        target = target.setdefault(key, {})
    if value is REMOVE:
        target.pop(leaf, None)
    else:
        target[leaf] = value
    return changed


# ------------------------------------------------------------------------------------------------ bases


def _alias_name(template: Template) -> str:
    return str(props(template, ALIAS)["AliasName"])


def alias_base(template: Template) -> Template:
    based = copy.deepcopy(template)
    db = props(based, DB)
    for path in ("KmsKeyId", "PerformanceInsightsKMSKeyId"):
        db[path] = _alias_name(based)
    db["MasterUserSecret"] = {"KmsKeyId": _alias_name(based)}
    return based


def secret_base(template: Template) -> Template:
    based = alias_base(template)
    resources = based["Resources"]
    tags = copy.deepcopy(props(based, KEY)["Tags"])
    function = _first(based, "AWS::Lambda::Function")
    resources["MasterSecret"] = {"Type": SECRET, "Properties": {
        "Name": "secret-db-staging-main", "KmsKeyId": _alias_name(based), "Tags": tags,
        "GenerateSecretString": {"SecretStringTemplate": '{"username": "dbadmin"}', "GenerateStringKey": "password",
                                 "ExcludeCharacters": "/@\"' \\", "PasswordLength": 32}}}  # fmt: skip
    resources["MasterSecretAttachment"] = {"Type": ATTACHMENT, "Properties": {
        "SecretId": {"Ref": "MasterSecret"}, "TargetId": {"Ref": _first(based, DB)}, "TargetType": DB}}  # fmt: skip
    resources["MasterSecretRotation"] = {"Type": SCHEDULE, "Properties": {
        "SecretId": {"Ref": "MasterSecretAttachment"}, "RotationLambdaARN": {"Fn::GetAtt": [function, "Arn"]},
        "RotationRules": {"ScheduleExpression": "rate(30 days)"}}}  # fmt: skip
    resources["MasterSecretPolicy"] = {"Type": RESOURCE_POLICY, "Properties": {
        "SecretId": {"Ref": "MasterSecret"}, "BlockPublicPolicy": True,
        "ResourcePolicy": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}}]}}}  # fmt: skip
    db = props(based, DB)
    db.pop("ManageMasterUserPassword")
    db.pop("MasterUserSecret")
    db["MasterUserPassword"] = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "MasterSecret"},
                                                  ":SecretString:password}}"]]}  # fmt: skip
    return based


BASES: dict[str, Callable[[Template], Template]] = {
    "staging": copy.deepcopy,
    "alias": alias_base,
    "secret": secret_base,
}


# ------------------------------------------------------------------------------------------------ values


def _admin_only_key_policy(template: Template) -> dict[str, Any]:
    """The stack key's policy without its use statements: the account may administer the key, not use it."""
    policy: dict[str, Any] = copy.deepcopy(props(template, KEY)["KeyPolicy"])
    policy["Statement"] = [s for s in policy["Statement"] if "kms:CreateGrant" not in s["Action"]]
    return policy


def _key_policy_with(statement: dict[str, Any]) -> Callable[[Template], dict[str, Any]]:
    def value(template: Template) -> dict[str, Any]:
        policy: dict[str, Any] = copy.deepcopy(props(template, KEY)["KeyPolicy"])
        policy["Statement"].append(statement)
        return policy

    return value


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any = "arn:aws:s3:::bucket/*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: Any, action: str = "sts:AssumeRole") -> dict[str, Any]:
    return _document({"Effect": "Allow", "Principal": principal, "Action": action})


SNAPSHOT = f"arn:aws:rds:us-east-1:{OTHER_ACCOUNT}:snapshot:payments-dev-final"
SOURCE_DB = f"arn:aws:rds:us-west-2:{OTHER_ACCOUNT}:db:payments-dev"
AUTO_BACKUP = f"arn:aws:rds:us-east-1:{OTHER_ACCOUNT}:auto-backup:ab-payments-dev"
CLUSTER = f"arn:aws:rds:us-east-1:{OTHER_ACCOUNT}:cluster:payments-dev"
CLUSTER_SNAPSHOT = f"arn:aws:rds:us-east-1:{OTHER_ACCOUNT}:cluster-snapshot:payments-dev"
ORIGINS: tuple[tuple[str, Any], ...] = (
    ("DBSnapshotIdentifier", SNAPSHOT),
    ("DBClusterSnapshotIdentifier", CLUSTER_SNAPSHOT),
    ("SourceDBInstanceIdentifier", SOURCE_DB),
    ("SourceDBClusterIdentifier", CLUSTER),
    ("SourceDbiResourceId", "db-ABCDEFGHIJKLMNOPQRSTUVWXY0"),
    ("SourceDBInstanceAutomatedBackupsArn", AUTO_BACKUP),
    ("SourceRegion", "us-west-2"),
    ("RestoreTime", "2026-11-30T23:45:00Z"),
    ("UseLatestRestorableTime", True),
)
REPLICA_ORIGINS = ORIGINS[2:4]
KEY_SETTINGS: tuple[tuple[str, Any], ...] = (
    ("Enabled", False),
    ("KeySpec", "RSA_2048"),
    ("KeyUsage", "SIGN_VERIFY"),
    ("Origin", "EXTERNAL"),
    ("MultiRegion", True),
)


def _key_rows(policy: str, base: str) -> list[Row]:
    """The stack key's own settings, and its policy, judged where a policy uses the key."""
    rows = [Row(policy, KEY, name, value, base) for name, value in KEY_SETTINGS]
    rows.append(Row(policy, KEY, "KeyPolicy", _admin_only_key_policy, base))
    return rows


def _alias_rows(policy: str, base: str) -> list[Row]:
    return [
        Row(policy, ALIAS, "AliasName", "alias/kms-staging-other", base, word="alias/kms-staging-main"),
        Row(policy, ALIAS, "TargetKeyId", FOREIGN_KEY, base, word="alias/kms-staging-main"),
    ]


def _origin_rows(policy: str, origins: tuple[tuple[str, Any], ...] = ORIGINS) -> list[Row]:
    return [Row(policy, DB, name, value) for name, value in origins]


ALARM = "AWS::CloudWatch::Alarm"
FOREIGN_TOPIC = f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:sns-alarms-staging-main"


def _alarm_rows(policy: str, metric: str, *, wrong: dict[str, Any]) -> list[Row]:
    """Each property that decides whether the alarm on ``metric`` fires for this instance and tells someone."""

    def row(path: str, value: Any, word: str = "") -> Row:
        return Row(policy, ALARM, path, value, word=word, where=("MetricName", metric))

    def dimensions(*extra: dict[str, Any], value: Any = None) -> Callable[[Template], list[Any]]:
        def build(template: Template) -> list[Any]:
            database = {"Ref": _first(template, DB)} if value is None else value
            return [{"Name": "DBInstanceIdentifier", "Value": database}, *extra]

        return build

    return [
        row("Namespace", "AWS/EC2", word="AWS/EC2"),
        row("MetricName", "ReadLatency", word=f"no {metric} alarm"),
        row("Metrics", [{"Id": "m1", "Expression": "SEARCH('{AWS/RDS} CPUUtilization', 'Average', 300)"}]),
        row("Dimensions", dimensions({"Name": "Role", "Value": "WRITER"})),
        row("Dimensions", dimensions(value="rds-staging-other"), word=f"no {metric} alarm"),
        row("Dimensions", dimensions(value="RDS-STAGING-MAIN"), word=f"no {metric} alarm"),
        row("Unit", wrong["Unit"]),
        row("Statistic", wrong["Statistic"]),
        row("ExtendedStatistic", wrong["ExtendedStatistic"]),
        row("Period", 30),
        row("EvaluationPeriods", 0),
        row("EvaluationPeriods", 48, word="spec bounds it"),
        row("DatapointsToAlarm", 5),
        row("Threshold", wrong["Threshold"]),
        row("ComparisonOperator", wrong["ComparisonOperator"]),
        row("ComparisonOperator", wrong["ComparisonOperatorOrEqual"]),
        row("TreatMissingData", REMOVE),
        row("ActionsEnabled", "false"),
        row("AlarmActions", [FOREIGN_TOPIC]),
        row("AlarmActions", [{"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:sns-other"}]),
        row("AlarmActions", REMOVE),
    ]


LOG_GROUP = "AWS::Logs::LogGroup"
FLOW_LOG = "AWS::EC2::FlowLog"
POSTGRESQL_GROUP = ("LogGroupName", "/aws/rds/instance/rds-staging-main/postgresql")
FLOW_GROUP = ("LogGroupName", "/aws/vpc/flowlogs-staging-main")
FOREIGN_GROUP = f"arn:aws:logs:us-east-1:{OTHER_ACCOUNT}:log-group:flowlogs"


def _other_vpc(template: Template) -> dict[str, Any]:
    """A second VPC of the template, whose Ref the flow log names instead."""
    template["Resources"]["OtherVpc"] = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}
    return {"Ref": "OtherVpc"}


DENY_CREATE_GRANT = {"Sid": "NoGrants", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant",
                     "Resource": "*"}  # fmt: skip

ROWS: tuple[Row, ...] = (
    # CKV_STG_KMS_1: the key rotates at least yearly
    Row("CKV_STG_KMS_1", KEY, "EnableKeyRotation", False),
    Row("CKV_STG_KMS_1", KEY, "RotationPeriodInDays", 400),
    Row("CKV_STG_KMS_1", KEY, "Enabled", False),
    Row("CKV_STG_KMS_1", KEY, "KeySpec", "HMAC_256"),
    Row("CKV_STG_KMS_1", KEY, "Origin", "EXTERNAL"),
    # CKV_STG_KMS_2: every at-rest setting names the stack's key, and the key works for it
    Row("CKV_STG_KMS_2", DB, "StorageEncrypted", False),
    Row("CKV_STG_KMS_2", DB, "KmsKeyId", "alias/aws/rds"),
    Row("CKV_STG_KMS_2", DB, "PerformanceInsightsKMSKeyId", FOREIGN_KEY),
    Row("CKV_STG_KMS_2", DB, "MasterUserSecret.KmsKeyId", "alias/aws/secretsmanager"),
    Row("CKV_STG_KMS_2", DB, "AutomaticBackupReplicationRegion", "us-west-2"),
    *_origin_rows("CKV_STG_KMS_2"),
    *_key_rows("CKV_STG_KMS_2", "staging"),
    Row("CKV_STG_KMS_2", KEY, "KeyPolicy", _key_policy_with(DENY_CREATE_GRANT), word="denies kms:CreateGrant"),
    *_alias_rows("CKV_STG_KMS_2", "alias"),
    Row("CKV_STG_KMS_2", "AWS::Logs::LogGroup", "KmsKeyId", "alias/aws/logs"),
    Row("CKV_STG_KMS_2", "AWS::SNS::Topic", "KmsMasterKeyId", "alias/aws/sns"),
    Row("CKV_STG_KMS_2", SECRET, "KmsKeyId", "alias/aws/secretsmanager", "secret"),
    Row("CKV_STG_KMS_2", SECRET, "ReplicaRegions", [{"Region": "eu-west-1"}], "secret"),
    Row("CKV_STG_KMS_2", SCHEDULE, "HostedRotationLambda.KmsKeyArn", FOREIGN_KEY, "secret"),
    # CKV_STG_RDS_13: storage encrypted with the stack's key, usable by RDS
    Row("CKV_STG_RDS_13", DB, "StorageEncrypted", "false"),
    Row("CKV_STG_RDS_13", DB, "KmsKeyId", f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:alias/kms-staging-main"),
    *_origin_rows("CKV_STG_RDS_13"),
    *_key_rows("CKV_STG_RDS_13", "staging"),
    *_alias_rows("CKV_STG_RDS_13", "alias"),
    # CKV_STG_RDS_15: credentials RDS keeps in Secrets Manager under the stack's key
    Row("CKV_STG_RDS_15", DB, "ManageMasterUserPassword", False),
    Row("CKV_STG_RDS_15", DB, "MasterUserPassword", "Tr0ub4dor&3horse"),
    Row("CKV_STG_RDS_15", DB, "MasterUsername", "rdsadmin"),
    Row("CKV_STG_RDS_15", DB, "MasterUserSecret.KmsKeyId", "alias/aws/secretsmanager"),
    Row("CKV_STG_RDS_15", DB, "MasterUserAuthenticationType", "iam-db-auth"),
    Row("CKV_STG_RDS_15", DB, "DBClusterIdentifier", "payments-cluster"),
    *_origin_rows("CKV_STG_RDS_15"),
    *_key_rows("CKV_STG_RDS_15", "staging"),
    Row("CKV_STG_RDS_15", SECRET, "GenerateSecretString.ExcludeCharacters", "", "secret", word="RDS refuses"),
    Row("CKV_STG_RDS_15", SECRET, "GenerateSecretString.PasswordLength", 8, "secret", word="8-character"),
    Row("CKV_STG_RDS_15", SECRET, "GenerateSecretString.GenerateStringKey", "pwd", "secret", word="under 'pwd'"),
    # CKV_STG_SM_1: the secret is rotated, often enough, by a function of the stack
    Row("CKV_STG_SM_1", SCHEDULE, "SecretId", "secret-db-staging-other", "secret", word="no AWS::SecretsManager"),
    Row("CKV_STG_SM_1", SCHEDULE, "RotationRules", REMOVE, "secret"),
    Row("CKV_STG_SM_1", SCHEDULE, "RotationRules.ScheduleExpression", "cron(0 0 31 2 ? *)", "secret"),
    Row("CKV_STG_SM_1", SCHEDULE, "RotationRules.AutomaticallyAfterDays", 365, "secret", word="365 days"),
    Row(
        "CKV_STG_SM_1",
        SCHEDULE,
        "RotationLambdaARN",
        f"arn:aws:lambda:us-east-1:{OTHER_ACCOUNT}:function:rotate",
        "secret",
    ),
    Row("CKV_STG_SM_1", SCHEDULE, "HostedRotationLambda.RotationType", "MySQLSingleUser", "secret"),
    Row("CKV_STG_SM_1", ATTACHMENT, "SecretId", "secret-db-staging-other", "secret", word="no AWS::SecretsManager"),
    # CKV_STG_SM_2: the secret under the stack's key, in this Region
    Row("CKV_STG_SM_2", SECRET, "KmsKeyId", f"arn:aws:kms:us-east-1:{OTHER_ACCOUNT}:alias/kms-staging-main", "secret"),
    Row("CKV_STG_SM_2", SECRET, "ReplicaRegions", [{"Region": "eu-west-1"}], "secret"),
    *_key_rows("CKV_STG_SM_2", "secret"),
    *_alias_rows("CKV_STG_SM_2", "secret"),
    # CKV_STG_SEC_1: no secret material in the template
    Row("CKV_STG_SEC_1", SECRET, "SecretString", '{"password": "Tr0ub4dor&3horse"}', "secret"),
    Row("CKV_STG_SEC_1", DB, "MasterUserPassword", "Tr0ub4dor&3horse"),
    Row("CKV_STG_SEC_1", DB, "TdeCredentialPassword", "Tr0ub4dor&3horse"),
    Row("CKV_STG_SEC_1", DB, "Tags", [{"Key": "db_password", "Value": "Tr0ub4dor&3horse"}]),
    # CKV_STG_IAM_1: no wildcard actions, no key or secret access on every resource
    Row("CKV_STG_IAM_1", KEY, "KeyPolicy", REMOVE),
    Row(
        "CKV_STG_IAM_1",
        "AWS::IAM::Role",
        "Policies",
        [{"PolicyName": "Keys", "PolicyDocument": _document(_allow("kms:*"))}],
        word="kms:*",
    ),
    Row("CKV_STG_IAM_1", "AWS::IAM::Role", "ManagedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]),
    Row(
        "CKV_STG_IAM_1",
        "AWS::IAM::Role",
        "AssumeRolePolicyDocument",
        _trust({"Service": "lambda.amazonaws.com"}, "sts:*"),
        word="sts:*",
    ),
    Row(
        "CKV_STG_IAM_1",
        "AWS::IAM::ManagedPolicy",
        "PolicyDocument",
        _document(_allow("secretsmanager:GetSecretValue", "*")),
        word="every resource",
    ),
    Row(
        "CKV_STG_IAM_1",
        "AWS::EC2::VPCEndpoint",
        "PolicyDocument",
        _document(_allow("secretsmanager:*", "*", Principal="*")),
        word="secretsmanager:*",
    ),
    Row(
        "CKV_STG_IAM_1",
        RESOURCE_POLICY,
        "ResourcePolicy",
        _document(_allow("secretsmanager:*", "*", Principal={"AWS": "arn:aws:iam::123456789012:root"})),
        "secret",
        word="secretsmanager:*",
    ),
    # CKV_STG_IAM_2: who the key and secret policies let in
    Row(
        "CKV_STG_IAM_2",
        KEY,
        "KeyPolicy",
        _key_policy_with(_allow("kms:Decrypt", "*", Principal={"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"})),
        word=OTHER_ACCOUNT,
    ),
    Row(
        "CKV_STG_IAM_2",
        RESOURCE_POLICY,
        "ResourcePolicy",
        _document(_allow("secretsmanager:GetSecretValue", "*", Principal="*")),
        "secret",
        word="principal '*'",
    ),
    Row("CKV_STG_IAM_2", "AWS::EC2::VPCEndpoint", "PolicyDocument", REMOVE),
    Row(
        "CKV_STG_IAM_2",
        "AWS::IAM::Role",
        "AssumeRolePolicyDocument",
        _trust({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}),
        word=OTHER_ACCOUNT,
    ),
    # CKV_STG_RDS_1: deletion protection, and a final snapshot once it is lifted
    Row("CKV_STG_RDS_1", DB, "DeletionProtection", False),
    Row("CKV_STG_RDS_1", DB, "DeletionPolicy", "Delete", attribute=True),
    Row("CKV_STG_RDS_1", DB, "UpdateReplacePolicy", "Delete", attribute=True),
    *_origin_rows("CKV_STG_RDS_1", REPLICA_ORIGINS),
    # CKV_STG_RDS_2: 7 days of automated backups, in the Region, kept after deletion
    Row("CKV_STG_RDS_2", DB, "BackupRetentionPeriod", 1),
    Row("CKV_STG_RDS_2", DB, "BackupRetentionPeriod", "36", word="at most 35"),
    Row("CKV_STG_RDS_2", DB, "DeleteAutomatedBackups", True),
    Row("CKV_STG_RDS_2", DB, "BackupTarget", "outposts"),
    Row("CKV_STG_RDS_2", DB, "DBClusterIdentifier", "payments-cluster"),
    *_origin_rows("CKV_STG_RDS_2", REPLICA_ORIGINS),
    # CKV_STG_RDS_3 / RDS_4: the windows
    Row("CKV_STG_RDS_3", DB, "PreferredMaintenanceWindow", "mon:08:00-mon:10:00"),
    Row("CKV_STG_RDS_4", DB, "PreferredBackupWindow", "08:30-09:30", word="overlap"),
    Row("CKV_STG_RDS_4", DB, "PreferredMaintenanceWindow", "sun:05:00-sun:06:00", word="overlap"),
    # CKV_STG_RDS_5 / RDS_6 / RDS_7 / RDS_8: the instance's class, placement, engine and upgrades
    Row("CKV_STG_RDS_5", DB, "DBInstanceClass", "db.m5.large"),
    Row("CKV_STG_RDS_5", DB, "ProcessorFeatures", [{"Name": "coreCount", "Value": "1"}]),
    Row("CKV_STG_RDS_6", DB, "MultiAZ", "false"),
    Row("CKV_STG_RDS_6", DB, "AvailabilityZone", "us-east-1a"),
    Row("CKV_STG_RDS_6", DB, "DBClusterIdentifier", "payments-cluster"),
    Row("CKV_STG_RDS_7", DB, "Engine", "mysql"),
    Row("CKV_STG_RDS_7", DB, "EngineVersion", "13.7"),
    Row("CKV_STG_RDS_7", DB, "AllowMajorVersionUpgrade", True),
    Row("CKV_STG_RDS_7", DB, "EngineLifecycleSupport", "open-source-rds-extended-support-disabled"),
    *_origin_rows("CKV_STG_RDS_7"),
    Row("CKV_STG_RDS_8", DB, "AutoMinorVersionUpgrade", False),
    # CKV_STG_RDS_16 and CKV_STG_PG_*: the parameter group the instance really runs with
    *(
        row
        for policy in ("CKV_STG_RDS_16", "CKV_STG_PG_1", "CKV_STG_PG_2", "CKV_STG_PG_3", "CKV_STG_PG_4")
        for row in (
            Row(policy, DB, "DBParameterGroupName", "default.postgres13"),
            Row(policy, DB, "Engine", "mysql", word="engine"),
            Row(policy, DB, "EngineVersion", "14.10", word="postgres14"),
            Row(policy, GROUP, "Family", "postgres14"),
        )
    ),
    Row(
        "CKV_STG_PG_1",
        GROUP,
        "Parameters.max_connections",
        "LEAST({DBInstanceClassMemory/9531392},5000)",
        word="formula",
    ),
    Row("CKV_STG_PG_1", GROUP, "Parameters.max_connections", "500"),
    Row("CKV_STG_PG_2", GROUP, "Parameters.shared_buffers", "256MB", word="refuses units"),
    Row("CKV_STG_PG_2", GROUP, "Parameters.shared_buffers", 262144, word="2048 MiB"),
    Row("CKV_STG_PG_3", GROUP, "Parameters.rds.force_ssl", "0"),
    Row("CKV_STG_PG_3", DB, "CACertificateIdentifier", "rds-ca-2019"),
    Row("CKV_STG_PG_4", GROUP, "Parameters.log_connections", 0),
    Row("CKV_STG_PG_4", GROUP, "Parameters.log_disconnections", "0"),
    # CKV_STG_CW_1 / CW_2: the alarms fire on this instance, in the metric's unit and direction, and notify
    *_alarm_rows(
        "CKV_STG_CW_1",
        "CPUUtilization",
        wrong={
            "Unit": "Count",
            "Statistic": "Minimum",
            "ExtendedStatistic": "p10",
            "Threshold": 0.8,
            "ComparisonOperator": "LessThanThreshold",
            "ComparisonOperatorOrEqual": "GreaterThanOrEqualToThreshold",
        },
    ),
    *_alarm_rows(
        "CKV_STG_CW_2",
        "FreeStorageSpace",
        wrong={
            "Unit": "Gigabytes",
            "Statistic": "Maximum",
            "ExtendedStatistic": "p90",
            "Threshold": 10,
            "ComparisonOperator": "GreaterThanThreshold",
            "ComparisonOperatorOrEqual": "LessThanOrEqualToThreshold",
        },
    ),
    # CKV_STG_CW_3: every alarm reaches a topic of this stack
    Row("CKV_STG_CW_3", ALARM, "ActionsEnabled", False),
    Row("CKV_STG_CW_3", ALARM, "AlarmActions", [FOREIGN_TOPIC]),
    Row("CKV_STG_CW_3", ALARM, "AlarmActions", REMOVE),
    # CKV_STG_RDS_10: both logs leave the instance into the groups RDS writes to, kept and encrypted
    Row("CKV_STG_RDS_10", DB, "EnableCloudwatchLogsExports", ["postgresql"], word="upgrade"),
    Row("CKV_STG_RDS_10", DB, "DBInstanceIdentifier", "rds-staging-other", word="rds-staging-other/postgresql"),
    Row(
        "CKV_STG_RDS_10",
        LOG_GROUP,
        "LogGroupName",
        "/aws/rds/instance/RDS-STAGING-MAIN/postgresql",
        where=POSTGRESQL_GROUP,
        word="no log group",
    ),
    Row("CKV_STG_RDS_10", LOG_GROUP, "RetentionInDays", 30, where=POSTGRESQL_GROUP),
    Row("CKV_STG_RDS_10", LOG_GROUP, "KmsKeyId", REMOVE, where=POSTGRESQL_GROUP),
    # CKV_STG_NET_2: all of this VPC's traffic, into a kept, encrypted group of the stack
    Row("CKV_STG_NET_2", FLOW_LOG, "ResourceId", _other_vpc, word="no AWS::EC2::FlowLog"),
    Row("CKV_STG_NET_2", FLOW_LOG, "ResourceType", "Subnet", word="no AWS::EC2::FlowLog"),
    Row("CKV_STG_NET_2", FLOW_LOG, "TrafficType", "REJECT"),
    Row("CKV_STG_NET_2", FLOW_LOG, "LogDestinationType", "s3"),
    Row("CKV_STG_NET_2", FLOW_LOG, "LogDestination", FOREIGN_GROUP, word="not a log group of this stack"),
    Row("CKV_STG_NET_2", FLOW_LOG, "LogGroupName", "/aws/vpc/flowlogs-other", word="not a log group of this stack"),
    Row("CKV_STG_NET_2", FLOW_LOG, "DeliverLogsPermissionArn", f"arn:aws:iam::{OTHER_ACCOUNT}:role/flowlogs"),
    Row("CKV_STG_NET_2", LOG_GROUP, "RetentionInDays", 7, where=FLOW_GROUP),
    Row("CKV_STG_NET_2", LOG_GROUP, "KmsKeyId", FOREIGN_KEY, where=FLOW_GROUP),
)
