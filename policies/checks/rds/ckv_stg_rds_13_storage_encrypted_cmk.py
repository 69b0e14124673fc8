"""CKV_STG_RDS_13: storage is encrypted with the stack's customer-managed KMS key.

Python because "the key is an AWS::KMS::Key of this template" is a cross-resource fact: the
rule resolves KmsKeyId's Ref/GetAtt against the template's resources.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import re  # noqa: E402

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_RDS_13",
    "name": "RDS DB instances encrypt storage with the stack's customer-managed KMS key",
    "category": "ENCRYPTION",
    "severity": "CRITICAL",
    "rationale": (
        "Cardholder data at rest must be encrypted (PCI DSS 3.5.1). StorageEncrypted alone uses the account's "
        "aws/rds key, whose policy nobody here controls; the design uses one customer-managed key per stack "
        "(reviewed key policy, yearly rotation, crypto-shredding on teardown). The spec's 'AWS managed KMS "
        "keys' is read as 'keys managed in AWS KMS'; see infra/domains/encryption.py."
    ),
    "requirements": ["REQ-SEC-03", "REQ-CON-04", "REQ-TECH-05"],
    "remediation": (
        "Set storage_encrypted=True and storage_encryption_key=<the stack's kms.Key> on rds.DatabaseInstance "
        "(StorageEncrypted: true, KmsKeyId: {Fn::GetAtt: [Key, Arn]})."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
}

_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")


def key_is_customer_managed(template: lib.Template, key: object) -> bool:
    """True if key points at an AWS::KMS::Key of the template, or is a literal key ARN."""
    target = lib.ref_target(key)
    if target is not None:
        return lib.resource(template, target).get("Type") == "AWS::KMS::Key"
    return isinstance(key, str) and bool(_KEY_ARN.fullmatch(key))


def rule(template: lib.Template, logical_id: str) -> bool | None:
    props = lib.properties(template, logical_id)
    return lib.is_true(props.get("StorageEncrypted")) and key_is_customer_managed(template, props.get("KmsKeyId"))


check = lib.make_check(METADATA, rule)
