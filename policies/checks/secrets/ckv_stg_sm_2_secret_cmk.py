"""CKV_STG_SM_2: Secrets Manager secrets are encrypted with the stack's customer-managed key, in this Region only.

Python (it was a YAML check that KmsKeyId exists and is not alias/aws/*) because whether the
secret is encrypted with the stack's key is decided by the key the setting resolves to (an
alias or ARN of another account names another key), by that key (Secrets Manager must be
allowed to use it, and it must be enabled and symmetric), and by the secret's replicas, which
live in other Regions where no key of this stack exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_SM_2",
    "name": "Secrets Manager secrets are encrypted with the stack's customer-managed KMS key and not replicated",
    "category": "ENCRYPTION",
    "severity": "HIGH",
    "rationale": (
        "Database credentials must be encrypted with the stack's key, whose policy the team writes and reviews, "
        "not the account-wide aws/secretsmanager key or another account's key (an alias ARN of another account "
        "names that account's key, whatever its alias name). The key must work for Secrets Manager: enabled, "
        "symmetric, single-Region, and a key policy that lets this account call kms:GenerateDataKey and "
        "kms:Decrypt through secretsmanager. ReplicaRegions copies the secret to other Regions, where it is "
        "encrypted with keys this stack does not define and read under policies nobody here reviews."
    ),
    "requirements": ["REQ-SEC-03", "REQ-TECH-05"],
    "remediation": (
        "Pass encryption_key=<the stack's kms.Key> to the secret (KmsKeyId) and no replica_regions; keep the key's "
        "policy allowing the account kms:GenerateDataKey and kms:Decrypt with kms:ViaService "
        "secretsmanager.<region>.amazonaws.com."
    ),
    "resource_types": ["AWS::SecretsManager::Secret"],
    "judges": {
        "AWS::SecretsManager::Secret": ["KmsKeyId", "ReplicaRegions"],
        "AWS::KMS::Key": ["Enabled", "KeySpec", "KeyUsage", "Origin", "MultiRegion", "KeyPolicy"],
        "AWS::KMS::Alias": ["AliasName", "TargetKeyId"],
    },
}


def _replicas(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    replicas = ctx.value(logical_id, "ReplicaRegions")
    if replicas is cfn.NO_VALUE or replicas == []:
        return lib.passed()
    if not isinstance(replicas, list):
        return lib.unknown_in(replicas, "ReplicaRegions") or lib.failed(f"ReplicaRegions is {lib.describe(replicas)}")
    regions = [r.get("Region") if isinstance(r, dict) else r for r in replicas]
    return lib.failed(
        f"ReplicaRegions copies the secret to {', '.join(lib.describe(r) for r in regions)}: there it is encrypted "
        "with a key this stack does not define and governed by that key's policy"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    key = kms.judge_setting(
        ctx,
        ctx.value(logical_id, "KmsKeyId"),
        where="KmsKeyId",
        purpose="the secret value",
        service="secretsmanager",
    )
    return lib.worst([key, _replicas(ctx, logical_id)])


check = lib.make_check(METADATA, rule)
