"""CKV_STG_IAM_1: no Allow statement grants a wildcard action, in any policy document.

Python because actions sit in lists inside lists of statements, in several property names
(PolicyDocument, Policies[].PolicyDocument, KeyPolicy, AssumeRolePolicyDocument,
ResourcePolicy), and "contains a *" must be tested per action string. The built-in
CKV_AWS_63 stops after the first statement and ignores KMS key policies.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_IAM_1",
    "name": "IAM and resource policies grant no wildcard actions",
    "category": "IAM",
    "severity": "HIGH",
    "rationale": (
        "Least privilege (spec; PCI DSS 7.2; NIST AC-6) means naming every action a principal needs. "
        "'*', 'svc:*' or 'svc:Get*' in an Allow grants actions nobody reviewed, including ones AWS adds later. "
        "NotAction in an Allow is a wildcard too. Deny statements may use wildcards."
    ),
    "requirements": ["REQ-SEC-04", "REQ-CON-03"],
    "remediation": "List the exact actions in every Allow statement (for KMS key policies too: no kms:*).",
    "resource_types": [
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::IAM::Role",
        "AWS::IAM::User",
        "AWS::IAM::Group",
        "AWS::KMS::Key",
        "AWS::SNS::TopicPolicy",
        "AWS::SQS::QueuePolicy",
        "AWS::S3::BucketPolicy",
        "AWS::SecretsManager::ResourcePolicy",
    ],
}


def rule(template: lib.Template, logical_id: str) -> bool | None:
    props = lib.properties(template, logical_id)
    return not any(lib.wildcard_allow_actions(document) for document in lib.policy_documents(props))


check = lib.make_check(METADATA, rule)
