"""CKV_STG_OUT_1: the stack exports the database connection details.

Python reading the raw template because Outputs are not resources: checkov never shows them
to a check. The rule runs once per RDS instance and looks for outputs whose *values* are the
instance's endpoint, port and secret, the security group and VPC it sits in and its KMS key,
each exported under a name carrying the environment suffix.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

from collections.abc import Callable  # noqa: E402

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_OUT_1",
    "name": "The stack exports the database endpoint, port, secret ARN, security group, VPC and KMS key with suffixed export names",
    "category": "CONVENTION",
    "severity": "MEDIUM",
    "rationale": (
        "The spec requires stack-level CloudFormation outputs for the connection details. Applications and the "
        "migration tooling import them; an export name without the environment suffix collides between "
        "copies of the stack in one account."
    ),
    "requirements": ["REQ-CON-08", "REQ-TECH-09"],
    "remediation": (
        "CfnOutput(value=..., export_name=namer.name('export-...')) for DatabaseEndpointAddress, DatabasePort, "
        "DatabaseSecretArn, DatabaseSecurityGroupId, VpcId and KmsKeyArn (infra/stacks/staging_database.py)."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
}


def _expected(template: lib.Template, db: str) -> dict[str, Callable[[object], bool]]:
    """What each required output must point at: predicates over an output's Value."""
    props = lib.properties(template, db)
    security_groups = {t for t in (lib.ref_target(sg) for sg in lib.as_list(props.get("VPCSecurityGroups"))) if t}
    secrets = {
        sid
        for sid, _ in lib.of_type(
            template, "AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment"
        )
    }
    key = lib.ref_target(props.get("KmsKeyId"))

    def getatt_is(value: object, logical_ids: set[str], attributes: set[str]) -> bool:
        pair = lib.getatt(value)
        return pair is not None and pair[0] in logical_ids and pair[1] in attributes

    def ref_is(value: object, logical_ids: set[str]) -> bool:
        return isinstance(value, dict) and "Ref" in value and value["Ref"] in logical_ids

    vpcs = {vid for vid, _ in lib.of_type(template, "AWS::EC2::VPC")}
    return {
        "endpoint address": lambda v: getatt_is(v, {db}, {"Endpoint.Address"}),
        "port": lambda v: getatt_is(v, {db}, {"Endpoint.Port"}),
        "secret ARN": lambda v: getatt_is(v, {db}, {"MasterUserSecret.SecretArn"}) or ref_is(v, secrets),
        "security group id": lambda v: getatt_is(v, security_groups, {"GroupId"}) or ref_is(v, security_groups),
        "VPC id": lambda v: ref_is(v, vpcs),
        "KMS key ARN": lambda v: getatt_is(v, {key} if key else set(), {"Arn"}),
    }


def rule(template: lib.Template, logical_id: str) -> bool | None:
    outputs = [o for o in (template.get("Outputs") or {}).values() if isinstance(o, dict)]
    suffix = lib.stack_suffix(template)
    for predicate in _expected(template, logical_id).values():
        matches = [o for o in outputs if predicate(o.get("Value"))]
        if not any(lib.follows_convention((o.get("Export") or {}).get("Name"), suffix) for o in matches):
            return False
    return True


check = lib.make_check(METADATA, rule)
