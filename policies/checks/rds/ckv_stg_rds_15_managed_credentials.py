"""CKV_STG_RDS_15: master credentials live in Secrets Manager, encrypted and rotated.

Python because the compliant shapes are alternatives across properties (RDS-managed password
with its own KMS key, or a Secrets Manager dynamic reference) and a plaintext value has to be
told apart from a dynamic reference inside Fn::Join/Fn::Sub.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_15",
    "name": "RDS master credentials are kept and rotated in Secrets Manager, never in the template",
    "category": "SECRETS",
    "severity": "CRITICAL",
    "rationale": (
        "The spec moves the database credentials to Secrets Manager with automatic rotation. With "
        "ManageMasterUserPassword RDS generates the password, stores it in a secret encrypted with "
        "MasterUserSecret.KmsKeyId and rotates it (every 7 days) without a Lambda; the password never appears "
        "in the template. A MasterUserPassword is only acceptable as a {{resolve:secretsmanager:...}} dynamic "
        "reference to a secret of the template (whose rotation CKV_STG_SM_1 checks; another stack's secret "
        "cannot be verified); a literal, a parameter or an SSM parameter "
        "is a plaintext credential. Restoring a snapshot without ManageMasterUserPassword keeps the snapshot's "
        "unmanaged password. Read replicas and cluster members take their credentials from the source."
    ),
    "requirements": ["REQ-SEC-01", "REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Use credentials=rds.Credentials.from_username(user, encryption_key=key) with "
        "manage_master_user_password=True (ManageMasterUserPassword: true, MasterUserSecret.KmsKeyId set, no "
        "MasterUserPassword)."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}

# Instances whose master credentials belong to another resource: the policy judges that one.
_CREDENTIALS_ELSEWHERE = {
    "SourceDBInstanceIdentifier": "a read replica uses its source's credentials",
    "SourceDBClusterIdentifier": "a replica of a DB cluster uses the cluster's credentials",
    "DBClusterIdentifier": "a cluster member uses the cluster's credentials",
}
_KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::Alias", "AWS::KMS::ReplicaKey")
SECRET_TYPES = ("AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment")


def _secret_key(key: object) -> lib.Verdict:
    """The key of the RDS-managed secret: absent or AWS managed fails, a customer key passes."""
    if key is cfn.NO_VALUE:
        return lib.failed("MasterUserSecret.KmsKeyId is not set: the secret is encrypted with aws/secretsmanager")
    if isinstance(key, cfn.Unknown):
        return lib.not_evaluated(f"MasterUserSecret.KmsKeyId: {key.reason}")
    if lib.points_at(key, *_KEY_TYPES) is None and not isinstance(key, str | cfn.Text):
        return lib.failed(f"MasterUserSecret.KmsKeyId {lib.describe(key)} is not a KMS key")
    if "alias/aws/" in str(key):
        return lib.failed(f"MasterUserSecret.KmsKeyId {key} is an AWS managed key")
    return lib.passed(f"RDS-managed password, secret encrypted with {key}")


def _managed_password(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    """ManageMasterUserPassword is true: no password in the template, the secret under a customer key."""
    if ctx.value(logical_id, "MasterUserPassword") is not cfn.NO_VALUE:
        return lib.failed("MasterUserPassword is set although ManageMasterUserPassword is true")
    return _secret_key(ctx.value(logical_id, "MasterUserSecret.KmsKeyId"))


def _given_password(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    """A MasterUserPassword: only a whole {{resolve:secretsmanager:...}} reference keeps it out of the template."""
    written = lib.properties(ctx.template, logical_id).get("MasterUserPassword")
    if isinstance(written, Mapping) and isinstance(written.get("Ref"), str):
        parameters = ctx.template.get("Parameters")
        if isinstance(parameters, Mapping) and written["Ref"] in parameters:
            return lib.failed(f"MasterUserPassword comes from parameter {written['Ref']}: a plaintext credential")
    text = lib.secret_text(ctx, logical_id, "MasterUserPassword")
    if isinstance(text, cfn.Unknown):
        return lib.not_evaluated(f"MasterUserPassword: {text.reason}")
    if text is None:
        return lib.not_evaluated("MasterUserPassword is not determined by the template")
    if lib.is_secrets_manager_reference(text):
        return _referenced_secret(ctx, logical_id, text)
    services = sorted({service for service, _ in lib.dynamic_references(text)})
    if services:
        return lib.failed(
            f"MasterUserPassword uses {{{{resolve:{'/'.join(services)}:...}}}}, not one Secrets Manager reference"
        )
    return lib.failed("MasterUserPassword is written in the template (plaintext)")


def _referenced_secret(ctx: lib.Context, logical_id: str, text: str) -> lib.Verdict:
    """A Secrets Manager reference passes when it names a secret of the template (CKV_STG_SM_1 judges its rotation)."""
    value = ctx.value(logical_id, "MasterUserPassword")
    symbols = value.symbols if isinstance(value, cfn.Text) else ()
    if any(s.resource_type in SECRET_TYPES and s.origin == "this" for s in symbols):
        return lib.passed(f"MasterUserPassword is a reference to a secret of the template: {text}")
    secret_id = lib.dynamic_references(text)[0][1].split(":SecretString", 1)[0]
    names = {ctx.value(secret, "Name") for secret in ctx.of_type(SECRET_TYPES[0])}
    if secret_id in names:
        return lib.passed(f"MasterUserPassword is a reference to secret {secret_id} of the template")
    return lib.not_evaluated(
        f"MasterUserPassword references secret {secret_id}, which the template does not define: "
        "whether it is rotated cannot be verified"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    managed = ctx.value(logical_id, "ManageMasterUserPassword")
    if lib.truth(managed) is True:
        return _managed_password(ctx, logical_id)
    if managed is not cfn.NO_VALUE and lib.truth(managed) is None:
        return lib.not_evaluated(f"ManageMasterUserPassword: {lib.undetermined(managed) or lib.describe(managed)}")
    if ctx.value(logical_id, "MasterUserPassword") is not cfn.NO_VALUE:
        return _given_password(ctx, logical_id)
    for prop, why in _CREDENTIALS_ELSEWHERE.items():
        if ctx.value(logical_id, prop) is not cfn.NO_VALUE:
            return lib.not_applicable(f"{prop} is set: {why}")
    snapshot = ctx.value(logical_id, "DBSnapshotIdentifier")
    if snapshot is not cfn.NO_VALUE:
        return lib.failed(
            f"restored from snapshot {lib.describe(snapshot)} without ManageMasterUserPassword: "
            "the snapshot's master password stays unmanaged"
        )
    return lib.failed("neither ManageMasterUserPassword nor a Secrets Manager MasterUserPassword")


check = lib.make_check(METADATA, rule)
