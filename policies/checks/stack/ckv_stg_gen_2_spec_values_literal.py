"""CKV_STG_GEN_2: the values the spec fixes are literals in the template, not deploy-time inputs.

Python because it must read the template *as written*: the gate's world files substitute
every parameter value, so a rule reading them (or checkov's own rendering, which substitutes
a parameter's Default) cannot tell a literal from a parameter. ``ctx.raw`` is the original.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_alarms
from policies.lib import stg_policy_lib as lib
from policies.lib.cfn_references import contains_dynamic_reference

METADATA = {
    "id": "CKV_STG_GEN_2",
    "name": "Values the spec fixes are literals in the template, not parameters or conditions",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": (
        "The spec fixes the engine and version, the instance class, Multi-AZ, deletion protection, backups, "
        "the maintenance window, enhanced monitoring, the parameter group values, the alarm thresholds, the VPC "
        "range and the required tags. A parameter, a condition or an import in their place hands the decision to "
        "whoever deploys the stack, outside review: even when today's allowed values all comply, the reviewed "
        "template no longer says what runs. The gate judges every allowed value too (other policies); this "
        "policy requires that there is nothing left to choose."
    ),
    "requirements": ["REQ-DB-01", "REQ-DB-02", "REQ-PARAM-02", "REQ-PARAM-03", "REQ-MON-02", "REQ-CON-06"],
    "remediation": (
        "Write the value in infra/ (from cdk.json context, validated at synthesis) so the template carries it "
        "literally; never a CfnParameter, CfnCondition or Fn::ImportValue for these properties."
    ),
    "resource_types": ["*"],
}

# Per type, the properties whose value the spec fixes (dotted paths into Properties), and the
# properties that decide whether those values mean what they say (the key a setting names and
# whether that key works, where the instance's data and settings come from, the group it runs with):
# a choice left to deploy time in either is outside review. tests/policies/test_behaviour.py keeps
# this list a superset of what the encryption, secrets, RDS and parameter policies declare they judge
# (credentials themselves are CKV_STG_RDS_15's and CKV_STG_SEC_1's: a dynamic reference is right there).
SPEC_FIXED: Mapping[str, tuple[str, ...]] = {
    "AWS::RDS::DBInstance": (
        "Engine",
        "EngineVersion",
        "DBInstanceClass",
        "MultiAZ",
        "DeletionProtection",
        "BackupRetentionPeriod",
        "PreferredBackupWindow",
        "PreferredMaintenanceWindow",
        "AutoMinorVersionUpgrade",
        "MonitoringInterval",
        "StorageEncrypted",
        "KmsKeyId",
        "DBParameterGroupName",
        "PubliclyAccessible",
        "ManageMasterUserPassword",
        "AllowMajorVersionUpgrade",
        "EngineLifecycleSupport",
        "DeleteAutomatedBackups",
        "BackupTarget",
        "AvailabilityZone",
        "ProcessorFeatures",
        "CACertificateIdentifier",
        "PerformanceInsightsKMSKeyId",
        "EnablePerformanceInsights",
        "MasterUserSecret",
        "MasterUsername",
        "MasterUserAuthenticationType",
        "AutomaticBackupReplicationKmsKeyId",
        "AutomaticBackupReplicationRegion",
        "DBClusterIdentifier",
        "DBSnapshotIdentifier",
        "DBClusterSnapshotIdentifier",
        "SourceDBInstanceIdentifier",
        "SourceDBClusterIdentifier",
        "SourceDbiResourceId",
        "SourceDBInstanceAutomatedBackupsArn",
        "SourceRegion",
        "RestoreTime",
        "UseLatestRestorableTime",
        "EnableCloudwatchLogsExports",
        "DBInstanceIdentifier",
    ),
    "AWS::RDS::DBParameterGroup": ("Family", "Parameters", "DBParameterGroupName"),
    "AWS::CloudWatch::Alarm": stg_alarms.JUDGED,  # every property that decides the alarm (CKV_STG_CW_1/2)
    "AWS::EC2::VPC": ("CidrBlock",),
    "AWS::EC2::SecurityGroup": ("SecurityGroupIngress",),
    "AWS::EC2::SecurityGroupIngress": ("CidrIp", "CidrIpv6", "SourcePrefixListId", "SourceSecurityGroupId"),
    "AWS::KMS::Key": (
        "EnableKeyRotation",
        "KeyPolicy",
        "RotationPeriodInDays",
        "Enabled",
        "KeySpec",
        "KeyUsage",
        "Origin",
        "MultiRegion",
    ),
    "AWS::KMS::Alias": ("AliasName", "TargetKeyId"),
    "AWS::SecretsManager::Secret": ("KmsKeyId", "ReplicaRegions", "GenerateSecretString"),
    "AWS::SecretsManager::RotationSchedule": ("SecretId", "RotationRules", "RotationLambdaARN", "HostedRotationLambda"),
    "AWS::SecretsManager::SecretTargetAttachment": ("SecretId", "TargetId", "TargetType"),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy", "SecretId"),
    "AWS::IAM::Role": ("Policies", "ManagedPolicyArns", "AssumeRolePolicyDocument"),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::EC2::VPCEndpoint": ("PolicyDocument", "VpcEndpointType"),
    "AWS::Logs::LogGroup": ("KmsKeyId", "LogGroupName", "RetentionInDays"),
    "AWS::EC2::FlowLog": (
        "ResourceId",
        "ResourceType",
        "TrafficType",
        "LogDestinationType",
        "LogDestination",
        "LogGroupName",
        "DeliverLogsPermissionArn",
    ),
    "AWS::SNS::Topic": ("KmsMasterKeyId",),
}
REQUIRED_TAG_KEYS = tuple(lib.REQUIRED_TAGS)


def _deploy_time(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """How a raw value leaves the choice to deploy time (a parameter, a condition, an import), else None."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if len(item) == 1:
                ((function, argument),) = item.items()
                if function == "Ref" and argument in parameters:
                    return f"parameter {argument}"
                if function in ("Fn::If", "Fn::ImportValue", "Fn::Transform"):
                    return function
                if function == "Fn::Sub":
                    text = argument[0] if isinstance(argument, list) and argument else argument
                    used = [p for p in parameters if isinstance(text, str) and "${" + p + "}" in text]
                    if used:
                        return f"parameter {used[0]} in Fn::Sub"
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and contains_dynamic_reference(item):
            return "a dynamic reference"
    return None


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    kind = ctx.type_of(logical_id)
    raw = lib.resource(ctx.raw, logical_id)
    if not raw:
        return lib.not_evaluated("the resource is not in the template as written (the gate's world file lost track)")
    parameters = ctx.raw.get("Parameters") if isinstance(ctx.raw.get("Parameters"), Mapping) else {}
    found = []
    if raw.get("Condition") is not None and kind in SPEC_FIXED:
        found.append(f"the resource exists only under Condition {raw['Condition']}")
    for path in SPEC_FIXED.get(kind, ()):
        value = ctx.raw_property(logical_id, path)
        if value is cfn.NO_VALUE:
            continue
        how = _deploy_time(value, parameters)
        if how is not None:
            found.append(f"{path} is chosen at deploy time ({how})")
    tags = lib.properties(ctx.raw, logical_id).get("Tags")
    for tag in tags if isinstance(tags, list) else []:
        how = _deploy_time(tag.get("Value"), parameters) if isinstance(tag, Mapping) else None
        if how is not None and tag.get("Key") in REQUIRED_TAG_KEYS:
            found.append(f"tag {tag['Key']} is chosen at deploy time ({how})")
    if found:
        return lib.failed("; ".join(found))
    if kind not in SPEC_FIXED and not tags:
        return lib.not_applicable(f"the spec fixes no property of {kind}")
    return lib.passed()


check = lib.make_check(METADATA, rule)
