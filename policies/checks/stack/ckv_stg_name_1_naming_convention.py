"""CKV_STG_NAME_1: physical names follow <resource-type>-<environment>-<suffix>.

Python because the suffix is a deploy-time value (cdk.json environmentSuffix): the rule infers
it from all the template's names and export names (the most common one, or
STG_ENVIRONMENT_SUFFIX when the gate pins it) and fails every name that does not carry it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

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
        "named. Log groups and aliases pass when one '/'-separated segment follows it."
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


def rule(template: lib.Template, logical_id: str) -> bool | None:
    resource_type = lib.resource(template, logical_id).get("Type")
    name = lib.properties(template, logical_id).get(lib.NAMED_TYPES.get(str(resource_type), ""))
    if name is None and resource_type in lib.NAME_PROPERTY_OPTIONAL:
        return None  # unnamed helper resource: CloudFormation generates a unique name
    return lib.follows_convention(name, lib.stack_suffix(template))


check = lib.make_check(METADATA, rule)
