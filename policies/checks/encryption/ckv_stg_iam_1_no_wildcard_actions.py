"""CKV_STG_IAM_1: no Allow statement grants a wildcard action, in any policy document.

Python because actions sit in lists inside lists of statements, in several property names
(PolicyDocument, Policies[].PolicyDocument, KeyPolicy, AssumeRolePolicyDocument,
ResourcePolicy...), documents may be JSON strings or Fn::Join/Fn::Sub-built strings, and
"contains a * or ?" must be tested per action string. The built-in CKV_AWS_63 stops after the
first statement and ignores KMS key policies. A document, statement, effect or action the
template does not determine is not evaluated.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_IAM_1",
    "name": "IAM and resource policies grant no wildcard actions",
    "category": "IAM",
    "severity": "HIGH",
    "rationale": (
        "Least privilege (spec; PCI DSS 7.2; NIST AC-6) means naming every action a principal needs. "
        "'*', 'svc:*' or 'svc:Get*' in an Allow grants actions nobody reviewed, including ones AWS adds later. "
        "NotAction in an Allow is a wildcard too, and so is '?'. Deny statements may use wildcards. A policy "
        "document or action the template does not determine (a parameter, an import) cannot be verified and fails."
    ),
    "requirements": ["REQ-SEC-04", "REQ-CON-03"],
    "remediation": "List the exact actions in every Allow statement (for KMS key policies too: no kms:*).",
    # Every type in DOCUMENTS (a literal: the catalog reads METADATA without importing).
    "resource_types": [
        "AWS::IAM::Group",
        "AWS::IAM::GroupPolicy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::Role",
        "AWS::IAM::RolePolicy",
        "AWS::IAM::User",
        "AWS::IAM::UserPolicy",
        "AWS::KMS::Key",
        "AWS::KMS::ReplicaKey",
        "AWS::Lambda::Permission",
        "AWS::Logs::ResourcePolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::SecretsManager::ResourcePolicy",
    ],
}


# Where each type keeps its policy documents: property names, and "Policies" for inline lists.
DOCUMENTS: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Group": ("Policies",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "Policies"),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::IAM::User": ("Policies",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::KMS::ReplicaKey": ("KeyPolicy",),
    "AWS::Logs::ResourcePolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
}


def _documents(props: Mapping[str, Any], resource_type: str) -> list[tuple[str, Any]] | lib.Verdict:
    """(where, resolved document) of every policy document of the resource."""
    found: list[tuple[str, Any]] = []
    for prop in DOCUMENTS[resource_type]:
        value = props.get(prop, cfn.NO_VALUE)
        if value is cfn.NO_VALUE:
            continue
        if prop != "Policies":
            found.append((prop, value))
            continue
        if not isinstance(value, list):
            return lib.not_evaluated(f"Policies: {lib.undetermined(value) or lib.describe(value)}")
        for index, inline in enumerate(value):
            if not isinstance(inline, Mapping):
                return lib.not_evaluated(f"Policies[{index}]: {lib.undetermined(inline) or lib.describe(inline)}")
            name = inline.get("PolicyName")
            found.append((f"Policies[{name if isinstance(name, str) else index}]", inline.get("PolicyDocument")))
    return found


def _lambda_permission(props: Mapping[str, Any]) -> lib.Verdict:
    """AWS::Lambda::Permission grants one Action (no statements)."""
    action = props.get("Action", cfn.NO_VALUE)
    if isinstance(action, str):
        grants = lib.wildcard_grants({"Statement": {"Effect": "Allow", "Action": action}}, where="Action")
        return lib.failed(f"wildcard Action {action}") if grants.wildcards else lib.passed(f"Action {action}")
    return lib.not_evaluated(f"Action: {lib.undetermined(action) or lib.describe(action)}")


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    resource_type = ctx.type_of(logical_id)
    props = ctx.props(logical_id)
    if not isinstance(props, Mapping):
        return lib.not_evaluated(f"Properties: {lib.undetermined(props) or lib.describe(props)}")
    if resource_type == "AWS::Lambda::Permission":
        return _lambda_permission(props)
    documents = _documents(props, resource_type)
    if isinstance(documents, lib.Verdict):
        return documents
    wildcards: list[str] = []
    undetermined: list[str] = []
    for where, document in documents:
        grants = lib.wildcard_grants(document, where=where)
        wildcards += grants.wildcards
        undetermined += grants.undetermined
    if wildcards:
        return lib.failed("Allow with wildcard actions: " + "; ".join(wildcards))
    if undetermined:
        return lib.not_evaluated("; ".join(undetermined))
    return lib.passed(f"{len(documents)} document(s), every allowed action named")


check = lib.make_check(METADATA, rule)
