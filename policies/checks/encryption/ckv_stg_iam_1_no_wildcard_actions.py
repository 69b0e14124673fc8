"""CKV_STG_IAM_1: no Allow statement grants a wildcard action, in any policy document.

Python because actions sit in lists inside lists of statements, in whichever properties the
resource type keeps policy documents (read from CloudFormation's schemas,
``policies/lib/cfn_types.json`` ``policy_properties``: PolicyDocument, Policies.*.PolicyDocument,
KeyPolicy, AssumeRolePolicyDocument, ResourcePolicy, endpoint and bucket policies...), documents
may be JSON strings or Fn::Join/Fn::Sub-built strings, and "contains a * or ?" must be tested
per action string. The built-in CKV_AWS_63 stops after the
first statement and ignores KMS key policies. A document, statement, effect or action the
template does not determine is not evaluated.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

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
    # Every type: which properties hold policy documents comes from CloudFormation's schemas.
    "resource_types": ["*"],
}

# Permission resources that grant one action through an ``Action`` property (no document).
ACTION_PROPERTY_TYPES = frozenset({"AWS::Lambda::Permission"})


def _documents(ctx: lib.Context, logical_id: str, paths: list[str]) -> list[tuple[str, Any]] | lib.Verdict:
    """(where, resolved document) of every policy document of the resource."""
    props = ctx.props(logical_id)
    if not isinstance(props, Mapping):
        return lib.not_evaluated(f"Properties: {lib.undetermined(props) or lib.describe(props)}")
    documents = [found for path in paths for found in lib.values_at(props, path)]
    if ctx.type_of(logical_id) in ACTION_PROPERTY_TYPES:
        documents.append(("Action", {"Statement": {"Effect": "Allow", "Action": props.get("Action")}}))
    return documents


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
    grants = [lib.wildcard_grants(document, where=where) for where, document in documents]
    wildcards = [w for g in grants for w in g.wildcards]
    undetermined = [u for g in grants for u in g.undetermined]
    if wildcards:
        return lib.failed("Allow with wildcard actions: " + "; ".join(wildcards))
    if undetermined:
        return lib.not_evaluated("; ".join(undetermined))
    if not documents:
        return lib.passed(f"sets none of {', '.join(paths)}")
    return lib.passed(f"every allowed action named in {', '.join(where for where, _ in documents)}")


check = lib.make_check(METADATA, rule)
