"""CKV_STG_RDS_13: storage is encrypted with the stack's customer-managed KMS key, and that key works for RDS.

Python because "the key is an AWS::KMS::Key of this template" is a cross-resource fact: the
shared resolver follows KmsKeyId through parameters, conditions, Refs, GetAtts, aliases and
alias or key ARNs (``policies/lib/stg_kms.py``), and the key itself decides whether RDS can
encrypt with it (enabled, symmetric, single-Region, a key policy that lets RDS use it). An
instance restored or replicated from a source outside the template takes its encryption from
that source (``policies/lib/stg_rds.py``); an instance of a DB cluster is judged on its cluster.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_RDS_13",
    "name": "RDS DB instances encrypt storage with the stack's customer-managed KMS key, usable by RDS",
    "category": "ENCRYPTION",
    "severity": "CRITICAL",
    "rationale": (
        "Cardholder data at rest must be encrypted (PCI DSS 3.5.1). StorageEncrypted alone uses the account's "
        "aws/rds key, whose policy nobody here controls; the design uses one customer-managed key per stack "
        "(reviewed key policy, yearly rotation, crypto-shredding on teardown). The spec's 'AWS managed KMS "
        "keys' is read as 'keys managed in AWS KMS'; see infra/domains/encryption.py. What decides it: "
        "StorageEncrypted and KmsKeyId; the key KmsKeyId names (through an alias or ARN of this account and "
        "Region only) and its Enabled, KeySpec, KeyUsage, Origin, MultiRegion and key policy (RDS must be allowed "
        "kms:CreateGrant and kms:DescribeKey for this account, and not denied); and DBSnapshotIdentifier, "
        "SourceDBInstanceIdentifier and the other restore properties, with which the encryption and key are the "
        "source's, not the template's."
    ),
    "requirements": ["REQ-SEC-03", "REQ-CON-04", "REQ-TECH-05"],
    "remediation": (
        "Set storage_encrypted=True and storage_encryption_key=<the stack's kms.Key> on a new rds.DatabaseInstance "
        "(StorageEncrypted: true, KmsKeyId: {Fn::GetAtt: [Key, Arn]}; no snapshot or source instance); keep the "
        "key enabled, symmetric and single-Region, its policy allowing the account kms:CreateGrant and "
        "kms:DescribeKey through rds."
    ),
    "resource_types": ["AWS::RDS::DBInstance", "AWS::RDS::DBCluster"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": [
            "StorageEncrypted",
            "KmsKeyId",
            "DBSnapshotIdentifier",
            "DBClusterSnapshotIdentifier",
            "SourceDBInstanceIdentifier",
            "SourceDBClusterIdentifier",
            "SourceDbiResourceId",
            "SourceDBInstanceAutomatedBackupsArn",
            "SourceRegion",
            "RestoreTime",
            "UseLatestRestorableTime",
        ],
        "AWS::KMS::Key": ["Enabled", "KeySpec", "KeyUsage", "Origin", "MultiRegion", "KeyPolicy"],
        "AWS::KMS::Alias": ["AliasName", "TargetKeyId"],
    },
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    if ctx.type_of(logical_id) == rds.INSTANCE:
        if ctx.value(logical_id, "DBClusterIdentifier") is not cfn.NO_VALUE:
            return lib.not_applicable(
                "an instance of a DB cluster stores its data in the cluster's volume (judged there)"
            )
        inherited = rds.inherited(ctx, logical_id, "whether and with which key the storage is encrypted")
        if inherited is not None:
            return inherited
    encrypted = ctx.value(logical_id, "StorageEncrypted")
    if lib.truth(encrypted) is not True:
        return lib.unknown_in(encrypted, "StorageEncrypted") or lib.failed(
            f"StorageEncrypted is {lib.describe(encrypted)}: the database's storage is not encrypted"
        )
    return kms.judge_setting(
        ctx, ctx.value(logical_id, "KmsKeyId"), where="KmsKeyId", purpose="the database's storage", service="rds"
    )


check = lib.make_check(METADATA, rule)
