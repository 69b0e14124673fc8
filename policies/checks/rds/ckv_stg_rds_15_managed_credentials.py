"""CKV_STG_RDS_15: master credentials live in Secrets Manager, encrypted and rotated.

Python because the compliant shapes are alternatives across properties (RDS-managed password
with its own KMS key, or a Secrets Manager dynamic reference) and a plaintext value has to be
told apart from a dynamic reference inside Fn::Join/Fn::Sub.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

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
        "reference to a secret (whose rotation CKV_STG_SM_1 checks); a literal or a parameter is a plaintext "
        "credential."
    ),
    "requirements": ["REQ-SEC-01", "REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Use credentials=rds.Credentials.from_username(user, encryption_key=key) with "
        "manage_master_user_password=True (ManageMasterUserPassword: true, MasterUserSecret.KmsKeyId set, no "
        "MasterUserPassword)."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
}

_INHERITS_CREDENTIALS = (
    "SourceDBInstanceIdentifier",
    "DBSnapshotIdentifier",
    "DBClusterIdentifier",
    "SourceDBClusterIdentifier",
)


def rule(template: lib.Template, logical_id: str) -> bool | None:
    props = lib.properties(template, logical_id)
    password = props.get("MasterUserPassword")
    if lib.is_true(props.get("ManageMasterUserPassword")):
        key = (props.get("MasterUserSecret") or {}).get("KmsKeyId")
        return password is None and key is not None and not lib.contains_string(key, "alias/aws/")
    if password is not None:
        return lib.contains_string(password, "{{resolve:secretsmanager:")
    if any(props.get(p) for p in _INHERITS_CREDENTIALS):
        return None  # replica / restore: credentials come from the source
    return False


check = lib.make_check(METADATA, rule)
