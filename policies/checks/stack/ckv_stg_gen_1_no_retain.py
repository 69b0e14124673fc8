"""CKV_STG_GEN_1: no resource has a Retain DeletionPolicy or UpdateReplacePolicy.

Python reading the template because checkov hands checks only Type/Properties/Metadata: a
YAML policy on DeletionPolicy sees nothing and passes everything. Under the
AWS::LanguageExtensions transform both attributes may be Fn::If or a Ref to a parameter:
they are resolved in the world being judged, and not evaluated where the template leaves
them open.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_GEN_1",
    "name": "Resources are destroyable: no Retain DeletionPolicy or UpdateReplacePolicy",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": (
        "The spec requires all resources to be destroyable (no Retain unless explicitly required; nothing is). "
        "Retained keys, log groups or databases outlive the stack, keep costing money and keep data nobody "
        "tracks. CDK defaults kms.Key and logs.LogGroup to Retain. Snapshot on the DB instance is allowed: it "
        "deletes the instance and keeps one encrypted final snapshot. A policy chosen at deploy time (a parameter "
        "without AllowedValues under AWS::LanguageExtensions) cannot be verified and fails."
    ),
    "requirements": ["REQ-CON-09"],
    "remediation": (
        "Set removal_policy=RemovalPolicy.DESTROY (or SNAPSHOT for the database) on every construct; the "
        "ForbidRetainPolicies aspect (infra/aspects) fails synthesis on Retain."
    ),
    "resource_types": ["*"],
}

RETAINING = frozenset({"Retain", "RetainExceptOnCreate"})
DESTROYING = frozenset({"Delete", "Snapshot"})
ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy")


def _judge(ctx: lib.Context, logical_id: str, attribute: str) -> lib.Verdict:
    value = ctx.attribute(logical_id, attribute)
    if value is cfn.NO_VALUE or value in DESTROYING:
        return lib.passed()
    if value in RETAINING:
        return lib.failed(f"{attribute} is {value}")
    reason = lib.undetermined(value)
    if reason is not None:
        return lib.not_evaluated(f"{attribute}: {reason}")
    return lib.failed(f"{attribute} {lib.describe(value)} is not one of {', '.join(sorted(DESTROYING))}")


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    verdict = lib.worst([_judge(ctx, logical_id, attribute) for attribute in ATTRIBUTES])
    if verdict.status != lib.PASSED:
        return verdict
    policies = [f"{a} {lib.describe(ctx.attribute(logical_id, a))}" for a in ATTRIBUTES]
    return lib.passed(", ".join(policies))


check = lib.make_check(METADATA, rule)
