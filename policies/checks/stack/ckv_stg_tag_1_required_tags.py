"""CKV_STG_TAG_1: every taggable resource carries Environment=staging and CostCenter=engineering.

Python because "taggable" is a property of the resource type (a list kept here) and tags come
in two shapes (list of Key/Value, or a map). Runs on every resource type (*): a type in
the list must carry the tags; any other resource that has a Tags property must carry them too.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_TAG_1",
    "name": "Taggable resources carry the tags Environment=staging and CostCenter=engineering",
    "category": "CONVENTION",
    "severity": "MEDIUM",
    "rationale": (
        "The spec requires Environment=staging and CostCenter=engineering on all resources: cost allocation, "
        "ownership, and IAM/SCP conditions keyed on tags. CDK's Tags skip raw CfnResources of helper "
        "constructs, so the synthesized template is checked, not the intent."
    ),
    "requirements": ["REQ-SEC-05", "REQ-CON-07"],
    "remediation": (
        'Tags.of(app).add("Environment", "staging") and Tags.of(app).add("CostCenter", "engineering") (done in '
        "infra/app_builder.py), plus infra/aspects TagRawCfnResources for raw helper resources."
    ),
    "resource_types": ["*"],
}

# CloudFormation types that accept Tags (the ones this stack and its migration can emit).
TAGGABLE_TYPES = frozenset(
    {
        "AWS::Backup::BackupPlan",
        "AWS::Backup::BackupVault",
        "AWS::CloudWatch::Alarm",
        "AWS::DMS::Endpoint",
        "AWS::DMS::ReplicationInstance",
        "AWS::DMS::ReplicationSubnetGroup",
        "AWS::DMS::ReplicationTask",
        "AWS::EC2::EIP",
        "AWS::EC2::FlowLog",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::NetworkAcl",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::Subnet",
        "AWS::EC2::TransitGateway",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCPeeringConnection",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::KMS::Key",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBClusterParameterGroup",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBSubnetGroup",
        "AWS::RDS::OptionGroup",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
        "AWS::SecretsManager::Secret",
    }
)


def rule(template: lib.Template, logical_id: str) -> bool | None:
    props = lib.properties(template, logical_id)
    tags = lib.tags_of(props)
    if lib.resource(template, logical_id).get("Type") not in TAGGABLE_TYPES and tags is None:
        return None  # not taggable: no record
    tags = tags or {}
    return all(tags.get(key) == value for key, value in lib.REQUIRED_TAGS.items())


check = lib.make_check(METADATA, rule)
