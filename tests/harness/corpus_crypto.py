"""Encryption, secrets and the database's own settings: disguises where one property changes what others mean.

Each case edits the real synthesized template so that every property a naive policy reads
still holds its compliant value, while another property (of the same resource, of the key it
names, of the group it uses) defeats the behaviour the policy promises: a disabled or
multi-Region key, a key policy that denies RDS, an alias ARN of another account, an instance
restored from a snapshot or created as a replica, a parameter group of another engine family.
The 23 cases before the secrets section passed the gate (exit 0) before the policies judged
the property; the 4 secret cases failed it only because CKV_STG_KMS_2 had no reviewed rule for
a rotation schedule's keys (not evaluated), which this change reviewed. ``COMPLIANT`` are rewrites of the same stack that must keep passing: the same key
by Ref, by alias or alias ARN, numbers and booleans as strings, reordered keys and lists.

Cases locate what they edit by type and shape (``harness.verdict.mutations`` helpers), never by a
hard-coded logical id, so the corpus follows the stack as it evolves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.verdict.mutations import db_instance, properties_of, resources_of
from tests.harness.evasions import FAILED, Evasion, Rewrite

Template = dict[str, Any]
F = FAILED


def _id(t: Template, kind: str) -> str:
    return next(lid for lid, _ in resources_of(t, kind))


def _key(t: Template) -> dict[str, Any]:
    return properties_of(t, "AWS::KMS::Key")


def _key_arn(t: Template) -> dict[str, Any]:
    return {"Fn::GetAtt": [_id(t, "AWS::KMS::Key"), "Arn"]}


def _alias_name(t: Template) -> str:
    return str(properties_of(t, "AWS::KMS::Alias")["AliasName"])


def _db_resource(t: Template) -> dict[str, Any]:
    return dict(t["Resources"][_id(t, "AWS::RDS::DBInstance")])


def _group(t: Template) -> dict[str, Any]:
    return properties_of(t, "AWS::RDS::DBParameterGroup")


# ------------------------------------------------------------------------------------------------ keys


def _key_disabled(t: Template) -> None:
    _key(t)["Enabled"] = False


def _key_multi_region(t: Template) -> None:
    _key(t)["MultiRegion"] = True


def _key_rotates_every_seven_years(t: Template) -> None:
    _key(t)["RotationPeriodInDays"] = 2560


def _key_policy_denies_rds(t: Template) -> None:
    _key(t)["KeyPolicy"]["Statement"].append(
        {"Sid": "NoGrants", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:CreateGrant", "Resource": "*"}
    )


def _key_without_rds_use(t: Template) -> None:
    # The statement that lets the account use the key through RDS and Secrets Manager, narrowed to logs.
    for statement in _key(t)["KeyPolicy"]["Statement"]:
        via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
        if via is not None:
            statement["Condition"]["StringEquals"]["kms:ViaService"] = "logs.us-east-1.amazonaws.com"


def _key_default_policy(t: Template) -> None:
    _key(t).pop("KeyPolicy")  # KMS's default policy: the account root may call kms:*


def _alias_arn_of_another_account(t: Template) -> None:
    arn = f"arn:aws:kms:us-east-1:111122223333:{_alias_name(t)}"
    db_instance(t)["PerformanceInsightsKMSKeyId"] = arn
    db_instance(t)["MasterUserSecret"]["KmsKeyId"] = arn


def _key_asymmetric(t: Template) -> None:
    _key(t)["KeySpec"] = "RSA_4096"


def _key_material_imported(t: Template) -> None:
    _key(t)["Origin"] = "EXTERNAL"


# ------------------------------------------------------------------------------------------------ instance


def _restored_from_snapshot(t: Template) -> None:
    db_instance(t)["DBSnapshotIdentifier"] = "arn:aws:rds:us-east-1:111122223333:snapshot:payments-dev-final"


def _restored_from_replicated_backups(t: Template) -> None:
    db_instance(t)["SourceDBInstanceAutomatedBackupsArn"] = (
        "arn:aws:rds:us-east-1:111122223333:auto-backup:ab-payments-dev"
    )
    db_instance(t)["UseLatestRestorableTime"] = True


def _reserved_master_user(t: Template) -> None:
    db_instance(t)["MasterUsername"] = "rdsadmin"


def _backups_on_an_outpost(t: Template) -> None:
    db_instance(t)["BackupTarget"] = "outposts"


def _point_in_time_restore(t: Template) -> None:
    db_instance(t)["SourceDbiResourceId"] = "db-ABCDEFGHIJKLMNOPQRSTUVWXY0"
    db_instance(t)["UseLatestRestorableTime"] = True


def _major_upgrades_allowed(t: Template) -> None:
    db_instance(t)["AllowMajorVersionUpgrade"] = True


def _extended_support_off(t: Template) -> None:
    db_instance(t)["EngineLifecycleSupport"] = "open-source-rds-extended-support-disabled"


def _multi_az_pinned_to_a_zone(t: Template) -> None:
    db_instance(t)["AvailabilityZone"] = "us-east-1a"


def _expired_certificate_authority(t: Template) -> None:
    db_instance(t)["CACertificateIdentifier"] = "rds-ca-2019"


def _automated_backups_deleted(t: Template) -> None:
    db_instance(t)["DeleteAutomatedBackups"] = True


def _deleted_without_snapshot(t: Template) -> None:
    db = t["Resources"][_id(t, "AWS::RDS::DBInstance")]
    db["DeletionPolicy"] = "Delete"
    db["UpdateReplacePolicy"] = "Delete"


def _master_user_authenticates_with_iam(t: Template) -> None:
    db_instance(t)["MasterUserAuthenticationType"] = "iam-db-auth"


# ------------------------------------------------------------------------------------------------ parameter group


def _group_of_another_family(t: Template) -> None:
    _group(t)["Family"] = "postgres14"


def _default_group_by_name(t: Template) -> None:
    # The engine's default group by name; the template's group still exists and the instance
    # still depends on it, so every "is there a group" reading is satisfied.
    db = t["Resources"][_id(t, "AWS::RDS::DBInstance")]
    db["Properties"]["DBParameterGroupName"] = "default.postgres13"
    db["DependsOn"] = [*db.get("DependsOn", []), _id(t, "AWS::RDS::DBParameterGroup")]


# ------------------------------------------------------------------------------------------------ secrets


def _secret_for_the_database(t: Template, **generate: Any) -> None:
    """The master password from a secret of the template, rotated by a function of the template."""
    key = _key_arn(t)
    function = _id(t, "AWS::Lambda::Function")
    t["Resources"]["MasterSecret"] = {"Type": "AWS::SecretsManager::Secret", "Properties": {
        "Name": "secret-db-staging-main", "KmsKeyId": key, "Tags": _tags(t),
        "GenerateSecretString": {"SecretStringTemplate": '{"username": "dbadmin"}', "GenerateStringKey": "password",
                                 **generate}}}  # fmt: skip
    t["Resources"]["MasterSecretRotation"] = {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {
        "SecretId": {"Ref": "MasterSecret"}, "RotationLambdaARN": {"Fn::GetAtt": [function, "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": 30}}}  # fmt: skip
    db = db_instance(t)
    db.pop("ManageMasterUserPassword")
    db.pop("MasterUserSecret")
    db["MasterUserPassword"] = {"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "MasterSecret"},
                                                  ":SecretString:password}}"]]}  # fmt: skip


def _generated_password_rds_rejects(t: Template) -> None:
    _secret_for_the_database(t, ExcludeCharacters="", PasswordLength=16)


def _tags(t: Template) -> list[dict[str, str]]:
    return [dict(tag) for tag in _key(t)["Tags"]]


def _secret_string_joined(t: Template) -> None:
    # Split so no piece is a "name": "value" pair, and joined with a symbol so no tool folds it.
    pieces = ['{"username": "app", "pass', 'word": "', "Tr0ub4dor&3", {"Ref": "AWS::Region"}, '"}']
    t["Resources"]["AppSecret"] = {"Type": "AWS::SecretsManager::Secret", "Properties": {
        "KmsKeyId": _key_arn(t), "Tags": _tags(t), "SecretString": {"Fn::Join": ["", pieces]}}}  # fmt: skip
    t["Resources"]["AppSecretRotation"] = {"Type": "AWS::SecretsManager::RotationSchedule", "Properties": {
        "SecretId": {"Ref": "AppSecret"},
        "RotationLambdaARN": {"Fn::GetAtt": [_id(t, "AWS::Lambda::Function"), "Arn"]},
        "RotationRules": {"AutomaticallyAfterDays": 30}}}  # fmt: skip


def _secret_replicated_elsewhere(t: Template) -> None:
    _secret_for_the_database(t, ExcludeCharacters="/@\"' \\")
    t["Resources"]["MasterSecret"]["Properties"]["ReplicaRegions"] = [{"Region": "eu-west-1", "KmsKeyId": _key_arn(t)}]


def _rotation_by_a_foreign_function(t: Template) -> None:
    _secret_for_the_database(t, ExcludeCharacters="/@\"' \\")
    t["Resources"]["MasterSecretRotation"]["Properties"]["RotationLambdaARN"] = (
        "arn:aws:lambda:us-east-1:111122223333:function:rotate-anything"
    )


def _e(name: str, disguise: str, policies: set[str], apply: Callable[[Template], None]) -> Evasion:
    return Evasion(
        name=f"crypto-{name}",
        category="behaviour",
        disguise=disguise,
        expected=frozenset((policy, F) for policy in policies),
        apply=apply,
    )


CASES: tuple[Evasion, ...] = (
    _e(
        "key-disabled",
        "the stack's key is created disabled (Enabled: false)",
        {"CKV_STG_KMS_2", "CKV_STG_RDS_13"},
        _key_disabled,
    ),
    _e(
        "key-multi-region",
        "the stack's key is a multi-Region primary",
        {"CKV_STG_KMS_2", "CKV_STG_RDS_13"},
        _key_multi_region,
    ),
    _e("key-rotation-period", "rotation on, every 2560 days", {"CKV_STG_KMS_1"}, _key_rotates_every_seven_years),
    _e(
        "key-policy-denies-grants",
        "a Deny of kms:CreateGrant in the key policy: RDS cannot use the key",
        {"CKV_STG_KMS_2", "CKV_STG_RDS_13"},
        _key_policy_denies_rds,
    ),
    _e(
        "key-policy-not-for-rds",
        "the key policy lets the account use the key only through CloudWatch Logs",
        {"CKV_STG_KMS_2", "CKV_STG_RDS_13"},
        _key_without_rds_use,
    ),
    _e(
        "key-default-policy",
        "no KeyPolicy: KMS's default grants the account root kms:*",
        {"CKV_STG_IAM_1"},
        _key_default_policy,
    ),
    _e(
        "alias-arn-other-account",
        "the stack alias's name, in an alias ARN of another account",
        {"CKV_STG_KMS_2", "CKV_STG_RDS_13"},
        _alias_arn_of_another_account,
    ),
    _e(
        "restored-from-snapshot",
        "restored from another account's snapshot: encryption and engine are the snapshot's",
        {"CKV_STG_RDS_13", "CKV_STG_RDS_7"},
        _restored_from_snapshot,
    ),
    _e(
        "restored-from-replicated-backups",
        "restored from another account's replicated automated backups",
        {"CKV_STG_RDS_13", "CKV_STG_RDS_15"},
        _restored_from_replicated_backups,
    ),
    _e("key-asymmetric", "the stack's key is an RSA key", {"CKV_STG_KMS_1", "CKV_STG_KMS_2"}, _key_asymmetric),
    _e(
        "key-material-imported",
        "the stack's key holds imported key material (Origin EXTERNAL)",
        {"CKV_STG_KMS_1", "CKV_STG_KMS_2"},
        _key_material_imported,
    ),
    _e(
        "master-user-reserved",
        "the master user is RDS's own reserved rdsadmin",
        {"CKV_STG_RDS_15"},
        _reserved_master_user,
    ),
    _e(
        "backups-on-outposts",
        "BackupTarget outposts: backups leave the region's storage",
        {"CKV_STG_RDS_2"},
        _backups_on_an_outpost,
    ),
    _e(
        "point-in-time-restore",
        "restored to the latest restorable time of another instance",
        {"CKV_STG_RDS_13", "CKV_STG_RDS_15"},
        _point_in_time_restore,
    ),
    _e(
        "major-upgrades-allowed",
        "EngineVersion 13.23 with AllowMajorVersionUpgrade: true",
        {"CKV_STG_RDS_7"},
        _major_upgrades_allowed,
    ),
    _e(
        "extended-support-off",
        "PostgreSQL 13 without RDS Extended Support: RDS cannot create it",
        {"CKV_STG_RDS_7"},
        _extended_support_off,
    ),
    _e(
        "multi-az-in-one-zone",
        "MultiAZ true and an AvailabilityZone (RDS refuses both)",
        {"CKV_STG_RDS_6"},
        _multi_az_pinned_to_a_zone,
    ),
    _e(
        "expired-ca",
        "TLS with the rds-ca-2019 certificate authority, expired in 2024",
        {"CKV_STG_PG_3"},
        _expired_certificate_authority,
    ),
    _e("backups-deleted-with-instance", "DeleteAutomatedBackups: true", {"CKV_STG_RDS_2"}, _automated_backups_deleted),
    _e(
        "deleted-without-snapshot",
        "DeletionPolicy and UpdateReplacePolicy Delete",
        {"CKV_STG_RDS_1"},
        _deleted_without_snapshot,
    ),
    _e(
        "master-user-iam-auth",
        "the master user authenticates with IAM: no managed secret",
        {"CKV_STG_RDS_15"},
        _master_user_authenticates_with_iam,
    ),
    _e(
        "group-family-mismatch",
        "the parameter group is of family postgres14, the engine 13.23",
        {"CKV_STG_RDS_16", "CKV_STG_PG_1"},
        _group_of_another_family,
    ),
    _e(
        "default-group-by-name",
        "the engine's default group by name, the template's group a dependency only",
        {"CKV_STG_RDS_16", "CKV_STG_PG_1"},
        _default_group_by_name,
    ),
    _e(
        "generated-password-rds-rejects",
        'a generated master password that may contain / @ " (RDS refuses them)',
        {"CKV_STG_RDS_15"},
        _generated_password_rds_rejects,
    ),
    _e(
        "secret-string-joined",
        "a literal secret value assembled with Fn::Join",
        {"CKV_STG_SEC_1"},
        _secret_string_joined,
    ),
    _e(
        "secret-replica-region",
        "the master secret replicated to eu-west-1 under the stack's us-east-1 key",
        {"CKV_STG_SM_2"},
        _secret_replicated_elsewhere,
    ),
    _e(
        "rotation-foreign-function",
        "the secret rotated by another account's function",
        {"CKV_STG_SM_1"},
        _rotation_by_a_foreign_function,
    ),
)


# ------------------------------------------------------------------------------------------------ compliant rewrites


def _keys_by_other_forms(t: Template) -> None:
    key = _id(t, "AWS::KMS::Key")
    alias = _id(t, "AWS::KMS::Alias")
    db = db_instance(t)
    db["KmsKeyId"] = {"Ref": key}
    db["PerformanceInsightsKMSKeyId"] = {"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:"
                                                    + _alias_name(t)}  # fmt: skip
    db["MasterUserSecret"] = {"KmsKeyId": {"Ref": alias}}
    for _, group in resources_of(t, "AWS::Logs::LogGroup"):
        group["Properties"]["KmsKeyId"] = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":kms:us-east-1:",
                                                             {"Ref": "AWS::AccountId"}, ":", _alias_name(t)]]}  # fmt: skip


def _strings_for_numbers_and_booleans(t: Template) -> None:
    db = db_instance(t)
    for name in ("DeletionProtection", "MultiAZ", "StorageEncrypted", "AutoMinorVersionUpgrade",
                 "ManageMasterUserPassword", "AllowMajorVersionUpgrade", "PubliclyAccessible"):  # fmt: skip
        db[name] = str(db[name]).lower()
    db["BackupRetentionPeriod"] = "7"
    db["MonitoringInterval"] = "60"
    _key(t)["EnableKeyRotation"] = "true"
    group = _group(t)["Parameters"]
    group["shared_buffers"] = 32768
    group["max_connections"] = 200
    group["rds.force_ssl"] = 1


def _reordered(t: Template) -> None:
    def reverse(mapping: dict[str, Any]) -> dict[str, Any]:
        return dict(reversed(list(mapping.items())))

    t["Resources"] = reverse(t["Resources"])
    for resource in t["Resources"].values():
        if isinstance(resource.get("Properties"), dict):
            resource["Properties"] = reverse(resource["Properties"])
            if isinstance(resource["Properties"].get("Tags"), list):
                resource["Properties"]["Tags"].reverse()
    db = db_instance(t)
    db["EnableCloudwatchLogsExports"].reverse()
    _group(t)["Parameters"] = reverse(_group(t)["Parameters"])
    _key(t)["KeyPolicy"]["Statement"].reverse()


def _group_by_name(t: Template) -> None:
    db = t["Resources"][_id(t, "AWS::RDS::DBInstance")]
    name = str(_group(t)["DBParameterGroupName"])
    head, tail = name.split("-", 1)
    db["Properties"]["DBParameterGroupName"] = {"Fn::Join": ["-", [head, tail]]}
    db["DependsOn"] = [*db.get("DependsOn", []), _id(t, "AWS::RDS::DBParameterGroup")]


COMPLIANT: tuple[Rewrite, ...] = (
    Rewrite(
        name="keys-by-ref-alias-and-alias-arn",
        change="the stack key by Ref, alias, alias ARN (Fn::Sub, Fn::Join)",
        apply=_keys_by_other_forms,
    ),
    Rewrite(
        name="strings-for-scalars",
        change='"true", "7", "60" as strings; 32768, 200, 1 as numbers',
        apply=_strings_for_numbers_and_booleans,
    ),
    Rewrite(
        name="reordered",
        change="resources, properties, tags, log exports, parameters and statements reversed",
        apply=_reordered,
    ),
    Rewrite(
        name="group-by-joined-name", change="the parameter group by its name, built with Fn::Join", apply=_group_by_name
    ),
)
