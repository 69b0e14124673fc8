"""CKV_STG_IAM_1: no Allow statement grants a wildcard action, or a key or secret on every resource.

Python because actions sit in lists inside lists of statements, in whichever properties the
resource type keeps policy documents (read from CloudFormation's schemas,
``policies/lib/cfn_types.json`` ``policy_properties``: PolicyDocument, Policies.*.PolicyDocument,
KeyPolicy, AssumeRolePolicyDocument, ResourcePolicy, endpoint and bucket policies...), documents
may be JSON strings or Fn::Join/Fn::Sub-built strings, and "contains a * or ?" must be tested
per action string. The built-in CKV_AWS_63 stops after the first statement and ignores KMS key
policies. What a resource grants is also decided where no document is written: a KMS key
without KeyPolicy gets KMS's default policy (the account root may call kms:*), and a role,
user or group gets the documents of the managed policies its ManagedPolicyArns name. A
document, statement, effect or action the template does not determine is not evaluated.
"""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_IAM_1",
    "name": "IAM and resource policies grant no wildcard actions, and no key or secret access on every resource",
    "category": "IAM",
    "severity": "HIGH",
    "rationale": (
        "Least privilege (spec; PCI DSS 7.2; NIST AC-6) means naming every action a principal needs. "
        "'*', 'svc:*' or 'svc:Get*' in an Allow grants actions nobody reviewed, including ones AWS adds later. "
        "NotAction in an Allow is a wildcard too, and so is '?'. Deny statements may use wildcards. A KMS key "
        "without a KeyPolicy gets KMS's default, which allows the account root kms:*. An identity policy that "
        "allows reading secrets or using keys (secretsmanager:GetSecretValue, kms:Decrypt, ...) on Resource '*' "
        "(or NotResource) reaches every secret and key of the account, not the stack's. A managed policy a role "
        "attaches by ARN grants what its document says: an AWS managed policy this policy has not reviewed, or a "
        "customer managed policy outside the template, cannot be verified. A policy document or action the "
        "template does not determine (a parameter, an import) cannot be verified and fails."
    ),
    "requirements": ["REQ-SEC-04", "REQ-CON-03"],
    "remediation": (
        "List the exact actions in every Allow statement (for KMS key policies too: no kms:*, and always a "
        "KeyPolicy); name the stack's secrets and keys as Resource of identity policies; attach managed policies "
        "the stack defines (iam.ManagedPolicy) instead of AWS managed ones, or add a reviewed one to "
        "REVIEWED_AWS_MANAGED in policies/checks/encryption/ckv_stg_iam_1_no_wildcard_actions.py."
    ),
    # Every type: which properties hold policy documents comes from CloudFormation's schemas.
    "resource_types": ["*"],
    "judges": {
        "AWS::KMS::Key": ["KeyPolicy"],
        "AWS::IAM::Role": ["Policies", "ManagedPolicyArns", "AssumeRolePolicyDocument"],
        "AWS::IAM::ManagedPolicy": ["PolicyDocument"],
        "AWS::EC2::VPCEndpoint": ["PolicyDocument"],
        "AWS::SecretsManager::ResourcePolicy": ["ResourcePolicy"],
    },
}

# Permission resources that grant one action through an ``Action`` property (no document).
ACTION_PROPERTY_TYPES = frozenset({"AWS::Lambda::Permission"})
# Resources whose missing policy document is not "nothing granted" but a default one.
DEFAULT_DOCUMENTS = {"AWS::KMS::Key": "KeyPolicy", "AWS::KMS::ReplicaKey": "KeyPolicy"}
# Types whose documents are identity policies (their Resource names what the principal reaches).
IDENTITY_DOCUMENT_TYPES = frozenset(
    {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy",
     "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy"}
)  # fmt: skip
# Actions that read a secret or use a key: on Resource "*" they reach every secret and key of the account.
SENSITIVE_ACTIONS = ("secretsmanager:GetSecretValue", "kms:Decrypt", "kms:ReEncryptFrom", "kms:CreateGrant",
                     "kms:GenerateDataKey", "ssm:GetParameter")  # fmt: skip
# AWS managed policies whose documents this policy has reviewed (aws-cdk-lib attaches the first to its own
# custom-resource handlers). Their statements name every action: none is a wildcard.
REVIEWED_AWS_MANAGED = frozenset(
    {"service-role/AWSLambdaBasicExecutionRole", "service-role/AmazonRDSEnhancedMonitoringRole"}
)
# AWS managed policies known to grant wildcards (their documents allow '*', 'svc:*' or NotAction).
WILDCARD_AWS_MANAGED = frozenset({"AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "SecretsManagerReadWrite",
                                  "AWSKeyManagementServicePowerUser", "ReadOnlyAccess", "AmazonRDSFullAccess"})  # fmt: skip
_AWS_MANAGED = "arn:aws:iam::aws:policy/"


def _documents(ctx: lib.Context, logical_id: str, paths: list[str]) -> list[tuple[str, Any]] | lib.Verdict:
    """(where, resolved document) of every policy document of the resource."""
    props = ctx.props(logical_id)
    if not isinstance(props, Mapping):
        return lib.not_evaluated(f"Properties: {lib.undetermined(props) or lib.describe(props)}")
    documents = [found for path in paths for found in lib.values_at(props, path)]
    if ctx.type_of(logical_id) in ACTION_PROPERTY_TYPES:
        documents.append(("Action", {"Statement": {"Effect": "Allow", "Action": props.get("Action")}}))
    return documents


def _default_document(ctx: lib.Context, logical_id: str) -> lib.Verdict | None:
    prop = DEFAULT_DOCUMENTS.get(ctx.type_of(logical_id))
    if prop is None or ctx.value(logical_id, prop) is not cfn.NO_VALUE:
        return None
    return lib.failed(f"{prop} is not set: KMS applies its default key policy, which allows the account root kms:*")


def _every_resource(document: Any, where: str) -> list[str]:
    """Sensitive actions an identity policy's Allow statements grant on Resource '*' or with NotResource."""
    found = iam.statements(document)
    problems = []
    for index, statement in enumerate(found if isinstance(found, list) else []):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        everything = "NotResource" in statement or "*" in iam.as_list(statement.get("Resource", []))
        if not everything or statement.get("Condition") not in (None, cfn.NO_VALUE):
            continue
        actions = [a for a in iam.as_list(statement.get("Action", [])) if isinstance(a, str)]
        hits = [s for s in SENSITIVE_ACTIONS if any(fnmatch.fnmatchcase(s.lower(), a.lower()) for a in actions)]
        if hits:
            label = iam.statement_label(statement, where, index)
            problems.append(f"{label} allows {', '.join(hits)} on every resource of the account")
    return problems


def _managed_policies(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    arns = ctx.value(logical_id, "ManagedPolicyArns")
    verdicts = []
    for arn in arns if isinstance(arns, list) else ([] if arns is cfn.NO_VALUE else [arns]):
        found = lib.symbol(arn)
        if found is not None and found.resource_type == "AWS::IAM::ManagedPolicy" and found.origin == "this":
            continue  # judged as a resource of its own
        text = str(arn) if isinstance(arn, str | cfn.Text) else None
        name = text.replace("arn:${AWS::Partition}:", "arn:aws:", 1) if text else None
        if name is not None and name.startswith(_AWS_MANAGED):
            policy = name.removeprefix(_AWS_MANAGED)
            if policy in REVIEWED_AWS_MANAGED:
                continue
            if policy.rsplit("/", 1)[-1] in WILDCARD_AWS_MANAGED:
                verdicts.append(
                    lib.failed(f"ManagedPolicyArns attaches {policy}, an AWS managed policy with wildcard actions")
                )
                continue
            verdicts.append(
                lib.not_evaluated(f"ManagedPolicyArns attaches AWS managed policy {policy}, which no one here reviewed")
            )
            continue
        verdicts.append(
            lib.unknown_in(arn, "ManagedPolicyArns")
            or lib.not_evaluated(f"ManagedPolicyArns attaches {lib.describe(arn)}, a policy outside the template")
        )
    return lib.worst(verdicts)


def _without_documents(resource_type: str) -> lib.Verdict:
    if lib.known_type(resource_type) or resource_type.startswith("Custom::"):
        return lib.not_applicable(f"{resource_type} holds no policy document (CloudFormation schema)")
    return lib.not_evaluated(f"{resource_type} is not in CloudFormation's resource schemas: its policies are unknown")


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    resource_type = ctx.type_of(logical_id)
    paths = list(lib.type_facts(resource_type).get("policy_properties", []))
    if not paths and resource_type not in ACTION_PROPERTY_TYPES:
        return _without_documents(resource_type)
    documents = _documents(ctx, logical_id, paths)
    if isinstance(documents, lib.Verdict):
        return documents
    grants = [iam.wildcard_grants(document, where=where) for where, document in documents]
    wildcards = [w for g in grants for w in g.wildcards]
    everywhere = [
        problem
        for where, document in documents
        if resource_type in IDENTITY_DOCUMENT_TYPES and where.startswith(("PolicyDocument", "Policies"))
        for problem in _every_resource(document, where)
    ]
    undetermined = [u for g in grants for u in g.undetermined]
    verdicts = [_default_document(ctx, logical_id) or lib.passed()]
    if resource_type in iam.IDENTITY_TYPES:
        verdicts.append(_managed_policies(ctx, logical_id))
    if wildcards:
        verdicts.append(lib.failed("Allow with wildcard actions: " + "; ".join(wildcards)))
    if everywhere:
        verdicts.append(lib.failed("Allow on every resource: " + "; ".join(everywhere)))
    if undetermined and not wildcards:
        verdicts.append(lib.not_evaluated("; ".join(undetermined)))
    verdict = lib.worst(verdicts)
    if verdict.status != lib.PASSED:
        return verdict
    if not documents:
        return lib.passed(f"sets none of {', '.join(paths)}")
    return lib.passed(f"every allowed action named in {', '.join(where for where, _ in documents)}")


check = lib.make_check(METADATA, rule)
