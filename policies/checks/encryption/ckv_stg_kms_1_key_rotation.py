"""CKV_STG_KMS_1: every KMS key of the stack rotates its key material at least yearly.

Python (it was a YAML check of EnableKeyRotation alone) because whether KMS rotates a key is
decided by more than that flag: the rotation period, and whether the key can be rotated at
all (a disabled key, an asymmetric or HMAC key, imported key material are never rotated by KMS).
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_KMS_1",
    "name": "KMS keys rotate their key material at least every year",
    "category": "ENCRYPTION",
    "severity": "HIGH",
    "rationale": (
        "Yearly rotation of the key that encrypts the database, its secret, logs and alarm topic limits the data "
        "protected by one key version (PCI DSS 3.7.4 cryptoperiods). KMS rotates a key only when EnableKeyRotation "
        "is true, at RotationPeriodInDays (default 365; more is less than yearly), and only while the key is "
        "enabled, symmetric (KeySpec SYMMETRIC_DEFAULT) and holds key material KMS generated (Origin AWS_KMS): "
        "KMS never rotates a disabled, asymmetric, HMAC or imported-material key. A replica key rotates with its "
        "primary in another Region, which this template does not describe."
    ),
    "requirements": ["REQ-SEC-03", "REQ-TECH-05"],
    "remediation": (
        "kms.Key(enable_key_rotation=True) with the defaults for enabled, key_spec, key_usage and no "
        "rotation_period longer than Duration.days(365) (EnableKeyRotation: true; no Enabled: false, KeySpec, "
        "Origin: EXTERNAL or RotationPeriodInDays above 365)."
    ),
    "resource_types": ["AWS::KMS::Key", "AWS::KMS::ReplicaKey"],
    "requires": ["AWS::KMS::Key"],
    "judges": {
        "AWS::KMS::Key": ["EnableKeyRotation", "RotationPeriodInDays", "Enabled", "KeySpec", "Origin"],
    },
}

# KMS: RotationPeriodInDays takes 90 to 2560; the policy asks for at least yearly rotation.
PERIOD = (90, 365)
# (property, its value when absent, why any other value stops KMS from rotating the key)
CAN_ROTATE = (
    ("Enabled", True, "KMS does not rotate a disabled key"),
    ("KeySpec", "SYMMETRIC_DEFAULT", "KMS rotates only symmetric encryption keys, never asymmetric or HMAC keys"),
    ("Origin", "AWS_KMS", "KMS cannot rotate imported key material automatically"),
)


def _rotation(ctx: lib.Context, key: str) -> lib.Verdict:
    enabled = ctx.value(key, "EnableKeyRotation")
    if lib.truth(enabled) is True:
        return lib.passed()
    return lib.unknown_in(enabled, "EnableKeyRotation") or lib.failed(
        f"EnableKeyRotation is {lib.describe(enabled)}: KMS never rotates the key material"
    )


def _period(ctx: lib.Context, key: str) -> lib.Verdict:
    period = ctx.value(key, "RotationPeriodInDays")
    if period is cfn.NO_VALUE:
        return lib.passed()
    days = lib.as_number(period)
    if days is None:
        return lib.unknown_in(period, "RotationPeriodInDays") or lib.failed(
            f"RotationPeriodInDays is {lib.describe(period)}, not a number of days"
        )
    low, high = PERIOD
    if days > high:
        return lib.failed(f"RotationPeriodInDays is {lib.describe(period)}: the key rotates less often than yearly")
    if days < low:
        return lib.failed(f"RotationPeriodInDays is {lib.describe(period)}: KMS accepts {low} to 2560 days")
    return lib.passed()


def _can_rotate(ctx: lib.Context, key: str) -> list[lib.Verdict]:
    verdicts = []
    for name, default, why in CAN_ROTATE:
        value = ctx.value(key, name)
        if value is cfn.NO_VALUE:
            continue
        differs = lib.truth(value) is not default if isinstance(default, bool) else value != default
        if lib.undetermined(value) is not None:
            verdicts.append(lib.unknown_in(value, name) or lib.not_evaluated(f"{name}: {lib.undetermined(value)}"))
        elif differs:
            verdicts.append(lib.failed(f"{name} is {lib.describe(value)}: {why}"))
    return verdicts


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    if ctx.type_of(logical_id) == "AWS::KMS::ReplicaKey":
        return lib.not_evaluated(
            f"a replica key rotates with its primary {lib.describe(ctx.value(logical_id, 'PrimaryKeyArn'))}, "
            "which this template does not describe"
        )
    return lib.worst([_rotation(ctx, logical_id), _period(ctx, logical_id), *_can_rotate(ctx, logical_id)])


check = lib.make_check(METADATA, rule)
