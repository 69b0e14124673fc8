"""CKV_STG_GEN_1: no resource has a Retain DeletionPolicy or UpdateReplacePolicy.

Python reading the raw template because checkov hands checks only Type/Properties/Metadata:
a YAML policy on DeletionPolicy sees nothing and passes everything.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_GEN_1",
    "name": "Resources are destroyable: no Retain DeletionPolicy or UpdateReplacePolicy",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": (
        "The spec requires all resources to be destroyable (no Retain unless explicitly required; nothing is). "
        "Retained keys, log groups or databases outlive the stack, keep costing money and keep data nobody "
        "tracks. CDK defaults kms.Key and logs.LogGroup to Retain. Snapshot on the DB instance is allowed: it "
        "deletes the instance and keeps one encrypted final snapshot."
    ),
    "requirements": ["REQ-CON-09"],
    "remediation": (
        "Set removal_policy=RemovalPolicy.DESTROY (or SNAPSHOT for the database) on every construct; the "
        "ForbidRetainPolicies aspect (infra/aspects) fails synthesis on Retain."
    ),
    "resource_types": ["*"],
}

RETAINING = frozenset({"Retain", "RetainExceptOnCreate"})


def rule(template: lib.Template, logical_id: str) -> bool | None:
    res = lib.resource(template, logical_id)
    return res.get("DeletionPolicy") not in RETAINING and res.get("UpdateReplacePolicy") not in RETAINING


check = lib.make_check(METADATA, rule)
