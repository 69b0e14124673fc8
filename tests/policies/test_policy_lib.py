"""Unit tests of policies/lib (pure helpers the Python rules use); no checkov needed."""

from __future__ import annotations

import ast
import importlib
import sys

import pytest

from harness.catalog import CHECKS_DIR, POLICIES_DIR

# policies/lib is not a package of this project (checkov loads it by path); import it the same way.
sys.path.insert(0, str(POLICIES_DIR / "lib"))
lib = importlib.import_module("stg_policy_lib")


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("rds-staging-main", "main"),
        ("sg-db-staging-pr-42", "pr-42"),
        ("/aws/rds/instance/rds-staging-main/postgresql", "main"),
        ("alias/kms-staging-main", "main"),
        ("rds-staging", None),
        ("rds-dev-main", None),
        ("RDS-staging-main", None),
        ("mydb", None),
        (None, None),
    ],
)
def test_name_suffix(name, suffix) -> None:
    assert lib.name_suffix(name) == suffix


def test_stack_suffix_is_the_majority_and_ties_are_suspect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STG_ENVIRONMENT_SUFFIX", raising=False)

    def template(*names: str) -> dict[str, object]:
        return {
            "Resources": {
                f"R{i}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": n}} for i, n in enumerate(names)
            }
        }

    assert lib.stack_suffix(template("a-staging-main", "b-staging-main", "c-staging-x")) == "main"
    assert lib.stack_suffix(template("a-staging-main", "b-staging-x")) is None
    monkeypatch.setenv("STG_ENVIRONMENT_SUFFIX", "x")
    assert lib.stack_suffix(template("a-staging-main", "b-staging-main")) == "x"


@pytest.mark.parametrize(
    ("cidr", "allowed"),
    [
        ("10.1.0.0/24", True),
        ("10.1.1.17/32", True),
        ("10.1.0.0/16", False),
        ("0.0.0.0/0", False),
        ("10.0.0.0/16", False),
        ("bogus", False),
    ],
)
def test_cidr_within_app_subnets(cidr: str, allowed: bool) -> None:
    assert lib.cidr_within(cidr, ("10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24")) is allowed


def test_wildcard_allow_actions() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:*"]},
            {"Effect": "Allow", "Action": "s3:Get*"},
            {"Effect": "Allow", "NotAction": "iam:*"},
            {"Effect": "Deny", "Action": "*"},
        ]
    }
    assert lib.wildcard_allow_actions(document) == ["kms:*", "s3:Get*", "NotAction iam:*"]
    assert lib.wildcard_allow_actions({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}) == []


def test_ref_helpers() -> None:
    assert lib.ref_target({"Ref": "Db"}) == "Db"
    assert lib.ref_target({"Fn::GetAtt": ["Key", "Arn"]}) == "Key"
    assert lib.ref_target({"Fn::GetAtt": "Key.Arn"}) == "Key"
    assert lib.getatt({"Fn::GetAtt": ["Db", "Endpoint.Address"]}) == ("Db", "Endpoint.Address")
    assert lib.references({"Fn::Join": ["", ["a", {"Ref": "Db"}]]}, "Db")
    assert lib.tags_of({"Tags": [{"Key": "A", "Value": "1"}]}) == {"A": "1"}
    assert lib.tags_of({"Tags": {"A": "1"}}) == {"A": "1"}
    assert lib.tags_of({}) is None


def test_naming_rule_covers_every_named_type() -> None:
    """CKV_STG_NAME_1's METADATA lists its types literally; keep it equal to lib.NAMED_TYPES."""
    path = CHECKS_DIR / "stack" / "ckv_stg_name_1_naming_convention.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    metadata = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "METADATA" for t in node.targets)
    )
    assert metadata["resource_types"] == sorted(lib.NAMED_TYPES)


def test_current_template_path_outside_checkov_is_none() -> None:
    assert lib.current_template_path() is None
