"""CKV_STG_OUT_1: the stack exports the database connection details.

Python reading the raw template because Outputs are not resources: checkov never shows them
to a check. The rule runs once per RDS instance and looks for outputs whose *values* are the
instance's endpoint, port and secret, the security group and VPC it sits in and its KMS key,
each exported under a name carrying the environment suffix. Values are resolved in the world
being judged (an output behind a false Condition does not exist); an output value or export
name the template does not determine is not evaluated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_kms as kms
from policies.lib import stg_policy_lib as lib

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
    "requires": ["AWS::RDS::DBInstance"],
}


SECURITY_GROUP = "AWS::EC2::SecurityGroup"
VPC = "AWS::EC2::VPC"
KEY = "AWS::KMS::Key"
SECRET_TYPES = ("AWS::SecretsManager::Secret", "AWS::SecretsManager::SecretTargetAttachment")
Predicate = Callable[[Any], bool]


def _symbols(value: Any, *types: str) -> list[cfn.Symbol]:
    found = [lib.points_at(v, *types) for v in (value if isinstance(value, list) else [value])]
    return [s for s in found if s is not None and s.origin == "this"]


def _secret(ctx: lib.Context, db: str) -> Predicate:
    """The instance's secret: its RDS-managed one, or a template secret its password or an attachment names."""
    secrets = {
        s.name for s in getattr(ctx.value(db, "MasterUserPassword"), "symbols", ()) if s.resource_type in SECRET_TYPES
    }
    for attachment in ctx.of_type("AWS::SecretsManager::SecretTargetAttachment"):
        if lib.names(ctx.value(attachment, "TargetId"), db):
            secrets.add(attachment)
            secrets.update(s.name for s in _symbols(ctx.value(attachment, "SecretId"), *SECRET_TYPES))
    return lambda v: (
        lib.names(v, db, attributes=("MasterUserSecret.SecretArn",)) or any(lib.names(v, s) for s in secrets)
    )


def _expected(ctx: lib.Context, db: str) -> tuple[dict[str, Predicate], list[str], list[str]]:
    """(what each required output's Value must be, what the instance leaves undetermined, what it lacks)."""
    open_ended: list[str] = []
    lacking: list[str] = []
    groups_value = ctx.value(db, "VPCSecurityGroups")
    groups = _symbols(groups_value, SECURITY_GROUP)
    if groups_value is cfn.NO_VALUE:
        lacking.append("the instance has no VPCSecurityGroups to export")
    elif cfn.unknowns(groups_value):
        open_ended.append(f"VPCSecurityGroups: {cfn.unknowns(groups_value)[0].reason}")
    vpcs = {v.name for g in groups for v in _symbols(ctx.value(g.name, "VpcId"), VPC)}
    subnet_group = lib.points_at(ctx.value(db, "DBSubnetGroupName"), "AWS::RDS::DBSubnetGroup")
    if subnet_group is not None:
        for subnet in _symbols(ctx.value(subnet_group.name, "SubnetIds"), "AWS::EC2::Subnet"):
            vpcs.update(v.name for v in _symbols(ctx.value(subnet.name, "VpcId"), VPC))
    if not vpcs:
        open_ended.append("which VPC of the template the instance sits in is not determined by the template")
    key = ctx.value(db, "KmsKeyId")
    # The key however the instance names it (Ref, Arn, an ARN built with Fn::Sub, an alias): the shared resolver.
    named = kms.named_key(ctx, key) if key is not cfn.NO_VALUE else None
    keys = [named] if isinstance(named, cfn.Symbol) and named.origin == "this" and named.resource_type == KEY else []
    if key is cfn.NO_VALUE:
        lacking.append("the instance has no KmsKeyId to export")
    elif isinstance(named, cfn.Unknown):
        open_ended.append(f"KmsKeyId: {named.reason}")
    elif not keys and lib.undetermined(key) is not None:
        open_ended.append(f"KmsKeyId: {lib.undetermined(key)}")
    expected: dict[str, Predicate] = {
        "endpoint address": lambda v: lib.names(v, db, attributes=("Endpoint.Address",)),
        "port": lambda v: lib.names(v, db, attributes=("Endpoint.Port",)),
        "secret ARN": _secret(ctx, db),
        "security group id": lambda v: any(lib.names(v, g.name, attributes=("", "GroupId")) for g in groups),
        "VPC id": lambda v: any(lib.names(v, vpc) for vpc in vpcs),
        "KMS key ARN": lambda v: (
            any(lib.names(v, k.name, attributes=("Arn",)) for k in keys) or (isinstance(key, str) and v == key)
        ),
    }
    return expected, open_ended, lacking


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    outputs = ctx.outputs()
    suffix = lib.stack_suffix(lib.stack_names(ctx))
    expected, open_ended, lacking = _expected(ctx, logical_id)
    undecided_values = [
        f"output {n}: {lib.undetermined(v)}" for n, (v, _) in outputs.items() if isinstance(v, cfn.Unknown)
    ]
    verdicts = [lib.not_evaluated(reason) for reason in open_ended] + [lib.failed(reason) for reason in lacking]
    exported: list[str] = []
    for label, predicate in expected.items():
        matches = {name: export for name, (value, export) in outputs.items() if predicate(value)}
        good = [n for n, export in matches.items() if lib.follows_convention(lib.name_text(ctx, export), suffix)]
        if good:
            exported.append(f"{label} ({good[0]})")
            continue
        undecided = [
            f"output {n}: Export.Name {lib.undetermined(e)}" for n, e in matches.items() if lib.undetermined(e)
        ]
        if undecided:
            verdicts.append(lib.not_evaluated("; ".join(undecided)))
        elif matches:
            names = ", ".join(f"{n} ({lib.describe(e)})" for n, e in matches.items())
            verdicts.append(
                lib.failed(
                    f"the {label} output is not exported under a name with the suffix ({suffix or 'none agreed'}): {names}"
                )
            )
        elif undecided_values:
            verdicts.append(lib.not_evaluated(f"no output is the {label}, unless: {'; '.join(undecided_values)}"))
        else:
            verdicts.append(lib.failed(f"no output exports the {label}"))
    verdict = lib.worst(verdicts)
    return lib.passed(", ".join(exported)) if verdict.status == lib.PASSED else verdict


check = lib.make_check(METADATA, rule)
