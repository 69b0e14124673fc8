"""Unit tests of policies/lib/stg_policy_lib.py (what the Python rules build on); no checkov needed."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import CHECKS_DIR
from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_secrets
from policies.lib import stg_secrets_manager as sm
from policies.lib.cfn_references import dynamic_references


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
    assert lib.stack_suffix(["a-staging-main", "b-staging-main", "c-staging-x"]) == "main"
    assert lib.stack_suffix(["a-staging-main", "b-staging-x"]) is None
    assert lib.stack_suffix([]) is None
    monkeypatch.setenv("STG_ENVIRONMENT_SUFFIX", "x")
    assert lib.stack_suffix(["a-staging-main", "b-staging-main"]) == "x"


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


# ------------------------------------------------------------------------ resolved values


def _context(template: dict[str, Any], *, world: dict[str, Any] | None = None, raw: Any = None) -> lib.Context:
    if world is not None:
        template = {**template, "Metadata": {cfn.WORLD_METADATA_KEY: {"world": world, "environment": {}}}}
    return lib.Context(template, raw=raw)


DB = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceIdentifier": "rds-staging-main"}}


def test_names_matches_symbols_of_one_resource() -> None:
    ref = cfn.Symbol("ref", "Db", resource_type="AWS::RDS::DBInstance")
    att = cfn.Symbol("getatt", "Db", "Endpoint.Address", resource_type="AWS::RDS::DBInstance")
    assert lib.names(ref, "Db") and not lib.names(ref, "Other")
    assert lib.names(att, "Db", attributes=("Endpoint.Address",)) and not lib.names(att, "Db")
    assert not lib.names(cfn.Symbol("ref", "Db", origin="parent"), "Db")
    assert not lib.names("Db", "Db")


def test_parse_json_text_keeps_symbols_inside_strings() -> None:
    db = cfn.Symbol("ref", "Db", resource_type="AWS::RDS::DBInstance")
    text = cfn.Text(
        ('{"metrics": [["AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", "', db, '"]], "t": "x-', db, '"}')
    )
    parsed = lib.parse_json_text(text)
    assert parsed["metrics"][0][3] == db
    assert parsed["t"] == cfn.Text(("x-", db))
    assert lib.parse_json_text('{"a": 1}') == {"a": 1}
    assert isinstance(lib.parse_json_text("not json"), cfn.Unknown)
    assert isinstance(lib.parse_json_text(cfn.Text(('{"a": ', db, "}"))), cfn.Unknown)  # a symbol outside a string
    assert lib.parse_json_text({"a": 1}) == {"a": 1}


def test_undetermined_names_what_only_deploy_time_fixes() -> None:
    assert lib.undetermined("literal") is None
    assert lib.undetermined(cfn.Unknown("parameter P has no AllowedValues")) == "parameter P has no AllowedValues"
    assert "deploy time" in str(lib.undetermined(cfn.Symbol("pseudo", "AWS::StackName")))


def test_tags_of_both_shapes_and_what_is_open() -> None:
    assert lib.tags_of([{"Key": "A", "Value": "1"}]) == ({"A": ["1"]}, [])
    assert lib.tags_of({"A": "1"}) == ({"A": ["1"]}, [])
    assert lib.tags_of(cfn.NO_VALUE) == ({}, [])
    tags, open_ended = lib.tags_of([{"Key": cfn.Unknown("parameter K"), "Value": "x"}])
    assert tags == {} and "parameter K" in open_ended[0]
    assert "Tags: parameter T" in lib.tags_of(cfn.Unknown("parameter T"))[1][0]


def test_taggable_comes_from_the_resource_schemas() -> None:
    assert lib.taggable("AWS::KMS::Key") is True
    assert lib.taggable("AWS::KMS::Alias") is False
    assert lib.taggable("AWS::IAM::ManagedPolicy") is False
    assert lib.taggable("Custom::Anything") is None


def test_dynamic_references() -> None:
    assert sm.is_secrets_manager_reference("{{resolve:secretsmanager:arn:aws:secretsmanager:x:SecretString:password}}")
    assert not sm.is_secrets_manager_reference("{{resolve:ssm-secure:/db/password}}")
    assert not sm.is_secrets_manager_reference("prefix{{resolve:secretsmanager:s}}")
    assert dynamic_references("a{{resolve:ssm:/p}}b{{resolve:secretsmanager:s}}") == [
        ("ssm", "/p"),
        ("secretsmanager", "s"),
    ]


def test_one_dynamic_reference_grammar_for_every_reader() -> None:
    """The resolver, the plaintext-secret scan and the Secrets Manager rules agree on what a reference is.

    CDK joins the secret's Ref into the reference (``${Secret}`` in a world file): a grammar that
    stopped at its ``}`` made the resolver read the whole string as a literal.
    """
    joined = "{{resolve:secretsmanager:${Secret}:SecretString:password::}}"
    assert isinstance(cfn.Resolver({"Resources": {}}).value(joined), cfn.Unknown)
    assert sm.is_secrets_manager_reference(joined)
    assert stg_secrets.problems({"MasterUserPassword": joined}, where="Db") == []
    assert stg_secrets.problems({"MasterUserPassword": "{{resolve:ssm:/db/password}}"}, where="Db") != []


def test_wildcard_grants() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:*"]},
            {"Sid": "Get", "Effect": "Allow", "Action": "s3:Get*"},
            {"Effect": "Allow", "NotAction": "iam:*"},
            {"Effect": "Allow", "Action": "s3:GetObj?ct"},
            {"Effect": "Deny", "Action": "*"},
        ]
    }
    assert iam.wildcard_grants(document).wildcards == (
        "document statement #0: kms:*",
        "document statement Get: s3:Get*",
        'document statement #2: NotAction "iam:*"',
        "document statement #3: s3:GetObj?ct",
    )
    assert iam.wildcard_grants({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole"}}) == iam.Grants()
    as_string = iam.wildcard_grants(json.dumps({"Statement": [{"Effect": "Allow", "Action": "*"}]}))
    assert as_string.wildcards == ("document statement #0: *",)
    unknown_action = iam.wildcard_grants({"Statement": [{"Effect": "Allow", "Action": [cfn.Unknown("parameter A")]}]})
    assert unknown_action.wildcards == () and "parameter A" in unknown_action.undetermined[0]
    unknown_effect = iam.wildcard_grants({"Statement": [{"Effect": cfn.Unknown("parameter E"), "Action": "s3:*"}]})
    assert "if its Effect" in unknown_effect.undetermined[0]
    assert iam.wildcard_grants(cfn.Unknown("Fn::ImportValue x")).undetermined == ("document: Fn::ImportValue x",)


def test_context_resolves_a_world_parameter_kept_inside_a_sub() -> None:
    """The gate folds what it can; a Ref kept in a Fn::Sub with symbols still means the world's value."""
    template = {
        "Parameters": {"Env": {"Type": "String", "AllowedValues": ["main", "pr"], "Default": "pr"}},
        "Resources": {
            "Db": DB,
            "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "t-${Env}-${Db}"}}},
        },
    }
    ctx = _context(template, world={"parameters": {"Env": "pr"}, "conditions": {}})
    assert ctx.value("T", "TopicName") == cfn.Text(
        ("t-pr-", cfn.Symbol("ref", "Db", resource_type="AWS::RDS::DBInstance"))
    )
    assert lib.name_text(ctx, ctx.value("T", "TopicName")) == "t-pr-rds-staging-main"


def test_context_attribute_resolves_language_extensions_on_the_template_as_written() -> None:
    raw = {
        "Transform": "AWS::LanguageExtensions",
        "Parameters": {"Keep": {"Type": "String", "AllowedValues": ["yes", "no"]}},
        "Conditions": {"Keeps": {"Fn::Equals": [{"Ref": "Keep"}, "yes"]}},
        "Resources": {"Key": {"Type": "AWS::KMS::Key", "DeletionPolicy": {"Fn::If": ["Keeps", "Retain", "Delete"]}}},
    }
    world_file = {
        "Resources": {"Key": {"Type": "AWS::KMS::Key", "DeletionPolicy": {"Fn::If": ["Keeps", "Retain", "Delete"]}}}
    }
    keep = _context(world_file, world={"parameters": {"Keep": "yes"}, "conditions": {}}, raw=raw)
    drop = _context(world_file, world={"parameters": {"Keep": "no"}, "conditions": {}}, raw=raw)
    assert keep.attribute("Key", "DeletionPolicy") == "Retain"
    assert drop.attribute("Key", "DeletionPolicy") == "Delete"
    assert keep.attribute("Key", "UpdateReplacePolicy") is cfn.NO_VALUE


def test_context_outputs_are_resolved() -> None:
    template = {
        "Resources": {"Db": DB},
        "Outputs": {
            "Endpoint": {
                "Value": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
                "Export": {"Name": "export-staging-main"},
            },
            "Plain": {"Value": "x"},
        },
    }
    outputs = _context(template).outputs()
    assert outputs["Endpoint"] == (
        cfn.Symbol("getatt", "Db", "Endpoint.Address", resource_type="AWS::RDS::DBInstance"),
        "export-staging-main",
    )
    assert outputs["Plain"] == ("x", cfn.NO_VALUE)


def _literal(path: Path, name: str) -> Any:
    """A module-level literal of a rule file, read without importing it (the rules need checkov)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == name and node.value is not None:
            return ast.literal_eval(node.value)
    raise LookupError(name)


def test_naming_rule_covers_every_named_type() -> None:
    """CKV_STG_NAME_1's METADATA lists its types literally; keep it equal to lib.NAMED_TYPES."""
    metadata = _literal(CHECKS_DIR / "stack" / "ckv_stg_name_1_naming_convention.py", "METADATA")
    assert metadata["resource_types"] == sorted(lib.NAMED_TYPES)


@pytest.mark.parametrize(
    ("resource_type", "path"),
    [
        ("AWS::IAM::Role", "AssumeRolePolicyDocument"),
        ("AWS::IAM::Role", "Policies.*.PolicyDocument"),
        ("AWS::IAM::ManagedPolicy", "PolicyDocument"),
        ("AWS::KMS::Key", "KeyPolicy"),
        ("AWS::SNS::TopicPolicy", "PolicyDocument"),
        ("AWS::SecretsManager::ResourcePolicy", "ResourcePolicy"),
        ("AWS::Logs::ResourcePolicy", "PolicyDocument"),
        ("AWS::EC2::VPCEndpoint", "PolicyDocument"),
    ],
)
def test_policy_properties_come_from_the_schemas(resource_type: str, path: str) -> None:
    """CKV_STG_IAM_1 reads documents where the schemas say they are (the old hand list, and more)."""
    assert path in lib.type_facts(resource_type)["policy_properties"]


def test_values_at_walks_schema_paths_and_keeps_what_is_open() -> None:
    unknown = cfn.Unknown("parameter P")
    props = {"Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": []}}, unknown]}
    assert lib.values_at(props, "Policies.*.PolicyDocument") == [
        ("Policies[0].PolicyDocument", {"Statement": []}),
        ("Policies[1]", unknown),
    ]
    assert lib.values_at({"Policies": unknown}, "Policies.*.PolicyDocument") == [("Policies", unknown)]
    assert lib.values_at({}, "KeyPolicy") == []


def test_known_types() -> None:
    assert lib.known_type("AWS::RDS::DBInstance")
    assert not lib.known_type("AWS::Made::Up")
    assert lib.type_facts("AWS::Made::Up") == {}


def test_current_template_path_outside_checkov_is_none() -> None:
    assert lib.current_template_path() is None


def test_a_value_the_service_reads_without_case_is_judged_in_lower_case() -> None:
    template = {
        "Parameters": {"Engine": {"Type": "String", "Default": "PostGres"}},
        "Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "Postgres", "DBName": "Ledger"}},
            "Db2": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": {"Ref": "Engine"}}},
            "Other": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "MySQL"}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "Postgres"}},
        },
    }
    ctx = _context(template, world={"parameters": {"Engine": "PostGres"}, "conditions": {}})  # its deploy-time world
    assert ctx.value("Db", "Engine") == "postgres"
    assert ctx.value("Db", "DBName") == "Ledger"  # only the listed properties fold
    assert ctx.value("Db2", "Engine") == "postgres"  # through a parameter's world, too
    assert ctx.value("Other", "Engine") == "mysql"  # still not postgres: RDS_18 fails it
    assert ctx.value("Topic", "TopicName") == "Postgres"
