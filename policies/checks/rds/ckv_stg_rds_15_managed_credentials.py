"""CKV_STG_RDS_15: master credentials live in Secrets Manager, encrypted with the stack's key and rotated.

Python because the compliant shapes are alternatives across properties (RDS-managed password
with the stack's key, or a Secrets Manager dynamic reference to a generated secret of the
template), a plaintext value has to be told apart from a dynamic reference inside
Fn::Join/Fn::Sub, and other properties decide whether those credentials are the ones the
database runs with at all (a restore or replica keeps its source's, IAM master authentication
has no password to manage).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds
from policies.lib import stg_secrets_manager as sm
from policies.lib.cfn_references import dynamic_references

METADATA = {
    "id": "CKV_STG_RDS_15",
    "name": "RDS master credentials are kept and rotated in Secrets Manager, never in the template",
    "category": "SECRETS",
    "severity": "CRITICAL",
    "rationale": (
        "The spec moves the database credentials to Secrets Manager with automatic rotation. With "
        "ManageMasterUserPassword RDS generates the password, stores it in a secret encrypted with "
        "MasterUserSecret.KmsKeyId (the stack's key, which Secrets Manager must be allowed to use) and rotates it "
        "every 7 days without a Lambda; the password never appears in the template. A MasterUserPassword is only "
        "acceptable as a {{resolve:secretsmanager:...}} dynamic reference to a secret of the template that "
        "generates a password RDS accepts (no / \" or @, 12 to 128 characters; rotation is CKV_STG_SM_1's); a "
        "literal, a parameter or an SSM parameter is a plaintext credential. A master user RDS reserves or that is "
        "not a PostgreSQL identifier cannot be created. An instance restored from a snapshot or backups, or created "
        "as a read replica, keeps its source's master user and password, and IAM master authentication "
        "(MasterUserAuthenticationType iam-db-auth) leaves no password for Secrets Manager to keep and rotate."
    ),
    "requirements": ["REQ-SEC-01", "REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Use credentials=rds.Credentials.from_username(user, encryption_key=key) with "
        "manage_master_user_password=True on a new rds.DatabaseInstance (ManageMasterUserPassword: true, "
        "MasterUserSecret.KmsKeyId the stack's key, MasterUsername a PostgreSQL identifier such as dbadmin, no "
        "MasterUserPassword, no snapshot or source instance, MasterUserAuthenticationType absent or password)."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": [
            "ManageMasterUserPassword",
            "MasterUserPassword",
            "MasterUsername",
            "MasterUserSecret.KmsKeyId",
            "MasterUserAuthenticationType",
            "DBSnapshotIdentifier",
            "DBClusterSnapshotIdentifier",
            "SourceDBInstanceIdentifier",
            "SourceDBClusterIdentifier",
            "SourceDbiResourceId",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceRegion",
            "RestoreTime",
            "UseLatestRestorableTime",
            "DBClusterIdentifier",
        ],
        "AWS::KMS::Key": ["Enabled", "KeySpec", "KeyUsage", "Origin", "MultiRegion", "KeyPolicy"],
        "AWS::SecretsManager::Secret": [
            "GenerateSecretString.ExcludeCharacters",
            "GenerateSecretString.PasswordLength",
            "GenerateSecretString.GenerateStringKey",
        ],
    },
}

SECRET_TYPES = (sm.SECRET, sm.ATTACHMENT)
# RDS for PostgreSQL: 1 to 63 letters, digits or underscores, starting with a letter, not a name RDS or
# PostgreSQL reserves (RDS's own administrative users, PostgreSQL's pg_ role prefix and its role keywords).
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
RESERVED_USERS = frozenset({"rdsadmin", "rdsrepladmin", "rdstopmgr", "rds_superuser", "public", "none", "current_user",
                            "session_user", "user", "all"})  # fmt: skip


def _master_username(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    name = ctx.value(logical_id, "MasterUsername")
    if name is cfn.NO_VALUE:
        return lib.failed("MasterUsername is not set: RDS cannot create the master user whose secret it would manage")
    if not isinstance(name, str):
        return lib.unknown_in(name, "MasterUsername") or lib.not_evaluated(
            f"MasterUsername {lib.describe(name)} is not determined by the template"
        )
    if not _IDENTIFIER.fullmatch(name):
        return lib.failed(f"MasterUsername {name!r} is not 1-63 letters, digits or _ starting with a letter")
    if name.lower() in RESERVED_USERS or name.lower().startswith("pg_"):
        return lib.failed(
            f"MasterUsername {name!r} is a name RDS for PostgreSQL reserves: the instance cannot be created"
        )
    return lib.passed()


def _managed_password(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    """ManageMasterUserPassword is true: no password in the template, the secret under the stack's key."""
    if ctx.value(logical_id, "MasterUserPassword") is not cfn.NO_VALUE:
        return lib.failed("MasterUserPassword is set although ManageMasterUserPassword is true")
    key = kms.judge_setting(
        ctx,
        ctx.value(logical_id, "MasterUserSecret.KmsKeyId"),
        where="MasterUserSecret.KmsKeyId",
        purpose="the RDS-managed master secret",
        service="secretsmanager",
    )
    verdict = lib.worst([_master_username(ctx, logical_id), key])
    if verdict.status != lib.PASSED:
        return verdict
    return lib.passed("RDS-managed password, its secret encrypted with the stack's key")


def _given_password(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    """A MasterUserPassword: only a whole {{resolve:secretsmanager:...}} reference keeps it out of the template."""
    written = lib.properties(ctx.template, logical_id).get("MasterUserPassword")
    if isinstance(written, Mapping) and isinstance(written.get("Ref"), str):
        parameters = ctx.template.get("Parameters")
        if isinstance(parameters, Mapping) and written["Ref"] in parameters:
            return lib.failed(f"MasterUserPassword comes from parameter {written['Ref']}: a plaintext credential")
    text = sm.secret_text(ctx, logical_id, "MasterUserPassword")
    if isinstance(text, cfn.Unknown):
        return lib.not_evaluated(f"MasterUserPassword: {text.reason}")
    if text is None:
        return lib.not_evaluated("MasterUserPassword is not determined by the template")
    if sm.is_secrets_manager_reference(text):
        user, secret = _master_username(ctx, logical_id), _referenced_secret(ctx, logical_id, text)
        return secret if user.status == lib.PASSED else lib.worst([user, secret])
    services = sorted({service for service, _ in dynamic_references(text)})
    if services:
        return lib.failed(
            f"MasterUserPassword uses {{{{resolve:{'/'.join(services)}:...}}}}, not one Secrets Manager reference"
        )
    return lib.failed("MasterUserPassword is written in the template (plaintext)")


def _secret_of(ctx: lib.Context, logical_id: str, secret_id: str) -> str | None:
    """The logical id of the template's secret a reference names (by Ref, through an attachment, or by Name)."""
    value = ctx.value(logical_id, "MasterUserPassword")
    for found in value.symbols if isinstance(value, cfn.Text) else ():
        if found.origin == "this" and found.resource_type == sm.SECRET:
            return found.name
        if found.origin == "this" and found.resource_type == sm.ATTACHMENT:
            target = lib.symbol(ctx.value(found.name, "SecretId"))
            if target is not None and target.resource_type == sm.SECRET:
                return target.name
    return next((s for s in ctx.of_type(sm.SECRET) if ctx.value(s, "Name") == secret_id), None)


def _referenced_secret(ctx: lib.Context, logical_id: str, text: str) -> lib.Verdict:
    """A Secrets Manager reference passes when it names a secret of the template that generates a password RDS
    accepts (CKV_STG_SM_1 judges its rotation, CKV_STG_SM_2 its key)."""
    secret_id, json_key = sm.reference_parts(dynamic_references(text)[0][1])
    secret = _secret_of(ctx, logical_id, secret_id)
    if secret is None:
        return lib.not_evaluated(
            f"MasterUserPassword references secret {secret_id}, which the template does not define: "
            "whether it is generated and rotated cannot be verified"
        )
    verdict = sm.password_problems(ctx, secret, json_key)
    if verdict.status != lib.PASSED:
        return verdict
    return lib.passed(f"MasterUserPassword is a reference to secret {secret} of the template: {text}")


def _credentials_elsewhere(ctx: lib.Context, logical_id: str) -> lib.Verdict | None:
    """The master user and password are not this template's to manage."""
    inherited = rds.inherited(ctx, logical_id, "the master user and its password")
    if inherited is not None:
        return inherited
    cluster = rds.cluster_member(ctx, logical_id, "the master user and its password")
    if cluster is not None:
        return cluster
    kind = ctx.value(logical_id, "MasterUserAuthenticationType")
    if kind is cfn.NO_VALUE or kind == "password":
        return None
    return lib.unknown_in(kind, "MasterUserAuthenticationType") or lib.failed(
        f"MasterUserAuthenticationType is {lib.describe(kind)}: the master user has no password for Secrets Manager "
        "to keep and rotate"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    elsewhere = _credentials_elsewhere(ctx, logical_id)
    if elsewhere is not None:
        return elsewhere
    managed = ctx.value(logical_id, "ManageMasterUserPassword")
    if lib.truth(managed) is True:
        return _managed_password(ctx, logical_id)
    if managed is not cfn.NO_VALUE and lib.truth(managed) is None:
        return lib.not_evaluated(f"ManageMasterUserPassword: {lib.undetermined(managed) or lib.describe(managed)}")
    if ctx.value(logical_id, "MasterUserPassword") is not cfn.NO_VALUE:
        return _given_password(ctx, logical_id)
    return lib.failed("neither ManageMasterUserPassword nor a Secrets Manager MasterUserPassword")


check = lib.make_check(METADATA, rule)
