"""CKV_STG_RDS_13: storage is encrypted with the stack's customer-managed KMS key.

Python because "the key is an AWS::KMS::Key of this template" is a cross-resource fact: the
shared resolver follows KmsKeyId through parameters, conditions, Refs, GetAtts and aliases.
A literal key ARN is not the stack's key (nobody here reviewed its policy), and an instance
of a DB cluster is judged on its cluster. CKV_STG_KMS_2 extends this to every resource type.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

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
    "resource_types": ["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    if (
        ctx.type_of(logical_id) == "AWS::RDS::DBInstance"
        and ctx.value(logical_id, "DBClusterIdentifier") is not cfn.NO_VALUE
    ):
        return lib.not_applicable("an instance of a DB cluster stores its data in the cluster's volume (judged there)")
    encrypted = ctx.value(logical_id, "StorageEncrypted")
    if lib.truth(encrypted) is not True:
        return lib.unknown_in(encrypted, "StorageEncrypted") or lib.failed(
            f"StorageEncrypted is {lib.describe(encrypted)}: the database's storage is not encrypted"
        )
    key = ctx.value(logical_id, "KmsKeyId")
    if key is cfn.NO_VALUE:
        return lib.failed("KmsKeyId is not set: storage uses the AWS managed key aws/rds")
    decided = lib.is_stack_key(ctx, key)
    if decided is None:
        return lib.unknown_in(key, "KmsKeyId") or lib.not_evaluated("KmsKeyId is not determined by the template")
    return (
        lib.passed()
        if decided
        else lib.failed(f"KmsKeyId is {lib.describe(key)}, not the stack's customer-managed key")
    )


check = lib.make_check(METADATA, rule)
