"""CKV_STG_SM_1: every Secrets Manager secret has a rotation schedule.

Python because the schedule is a separate resource that may reference the secret directly or
through an AWS::SecretsManager::SecretTargetAttachment (what CDK emits for RDS secrets): a
two-hop relation checkov's YAML connections cannot express.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_SM_1",
    "name": "Secrets Manager secrets rotate automatically",
    "category": "SECRETS",
    "severity": "HIGH",
    "rationale": (
        "The spec requires automatic secret rotation. A secret without an AWS::SecretsManager::RotationSchedule "
        "(with RotationRules) keeps the same credential until someone remembers to change it."
    ),
    "requirements": ["REQ-SEC-02", "REQ-TECH-04"],
    "remediation": (
        "Prefer RDS-managed master passwords (no secret resource at all). Otherwise call "
        "secret.add_rotation_schedule(...) or instance.add_rotation_single_user(...)."
    ),
    "resource_types": ["AWS::SecretsManager::Secret"],
}


def rule(template: lib.Template, logical_id: str) -> bool | None:
    attachments = {
        att_id
        for att_id, props in lib.of_type(template, "AWS::SecretsManager::SecretTargetAttachment")
        if lib.ref_target(props.get("SecretId")) == logical_id
    }
    for _, props in lib.of_type(template, "AWS::SecretsManager::RotationSchedule"):
        target = lib.ref_target(props.get("SecretId"))
        if (target == logical_id or target in attachments) and props.get("RotationRules"):
            return True
    return False


check = lib.make_check(METADATA, rule)
