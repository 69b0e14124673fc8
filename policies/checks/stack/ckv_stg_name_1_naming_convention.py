"""CKV_STG_NAME_1: physical names follow <resource-type>-<environment>-<suffix>.

Python because the suffix is a deploy-time value (cdk.json environmentSuffix): the rule infers
it from all the template's names and export names (the most common one, or
STG_ENVIRONMENT_SUFFIX when the gate pins it) and fails every name that does not carry it.
A name built from a Ref of another resource whose Ref is its name (a log group named after the
instance) is spelled out; a name the template does not determine (a parameter, the stack name)
is not evaluated.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NAME_1",
    "name": "Named resources follow the resource-type-environment-suffix naming convention",
    "category": "CONVENTION",
    "severity": "MEDIUM",
    "rationale": (
        "The spec requires every resource name to include the environment suffix and follow "
        "resource-type-environment-suffix, so several copies of the stack (per suffix) can live in one account "
        "without name collisions and every resource names its environment. The database, its parameter and "
        "subnet groups, security groups, KMS alias, log groups, SNS topic, alarms and dashboard must be named; "
        "other types (IAM roles and policies, Lambda functions, secrets...) must follow the convention when "
        "named. Log groups and aliases pass when one '/'-separated segment follows it. A name the template "
        "does not determine (a parameter without AllowedValues, the stack name) cannot be verified and fails."
    ),
    "requirements": ["REQ-TECH-09", "REQ-TECH-10"],
    "remediation": "Derive every physical name with infra.naming.ResourceNamer.name(...) (e.g. rds-staging-main).",
    # Every type in lib.NAMED_TYPES (a literal: the catalog reads METADATA without importing).
    "resource_types": [
        "AWS::Backup::BackupVault",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::DMS::Endpoint",
        "AWS::DMS::ReplicationInstance",
        "AWS::DMS::ReplicationSubnetGroup",
        "AWS::DMS::ReplicationTask",
        "AWS::EC2::SecurityGroup",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBClusterParameterGroup",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::OptionGroup",
        "AWS::SNS::Topic",
        "AWS::SecretsManager::Secret",
    ],
}


def _name(ctx: lib.Context, logical_id: str, prop: str) -> str | lib.Verdict:
    """The physical name as text, or the verdict when the template does not spell one out."""
    resource_type = ctx.type_of(logical_id)
    value = lib.physical_name(ctx, logical_id)
    if value is cfn.NO_VALUE:
        if resource_type in lib.NAME_PROPERTY_OPTIONAL:
            return lib.not_applicable(f"unnamed {resource_type}: CloudFormation generates a unique name")
        return lib.failed(f"no {prop}: CloudFormation generates a name without the environment suffix")
    name = lib.name_text(ctx, value)
    if name is not None:
        return name
    reason = lib.undetermined(value)
    if reason is None:
        return lib.failed(f"{prop} {lib.describe(value)} is not a name")
    return lib.not_evaluated(f"{prop}: {reason}")


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    prop = lib.NAMED_TYPES[ctx.type_of(logical_id)]
    name = _name(ctx, logical_id, prop)
    if isinstance(name, lib.Verdict):
        return name
    suffix = lib.stack_suffix(lib.stack_names(ctx))
    if suffix is None:
        return lib.failed(f"{prop} {name!r}: the template's names agree on no environment suffix")
    if not lib.follows_convention(name, suffix):
        return lib.failed(f"{prop} {name!r} does not follow <resource-type>-{lib.ENVIRONMENT}-{suffix}")
    return lib.passed(f"{prop} {name!r}")


check = lib.make_check(METADATA, rule)
