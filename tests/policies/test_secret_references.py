"""Secret dynamic references are judged by where they resolve (policies/lib/stg_secrets.exposed_references).

CloudFormation resolves ``{{resolve:secretsmanager:...}}`` wherever it is written and then shows
the result like any other value: only a property the type's schema declares write-only is never
read back. The gate-level disguises are in tests/harness/corpus_redteam.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.lib import stg_policy_lib as lib
from policies.lib import stg_secrets
from tests.policies.inprocess import load_rule

REFERENCE = "{{resolve:secretsmanager:rds!db-1234:SecretString:password}}"
DB_WRITE_ONLY = lib.type_facts("AWS::RDS::DBInstance").get("write_only", [])

EXPOSED = {
    "a tag value": {"Tags": [{"Key": "debug", "Value": REFERENCE}]},
    "an environment variable": {"Environment": {"Variables": {"DB": REFERENCE}}},
    "a reference inside a longer string": {"Description": f"pw={REFERENCE}"},
    "an ssm-secure reference in a description": {"Description": "{{resolve:ssm-secure:/db/pw:1}}"},
    "a reference built with Fn::Sub": {
        "Tags": [{"Key": "x", "Value": {"Fn::Sub": ["{{resolve:secretsmanager:${S}}}", {}]}}]
    },
}
KEPT_SECRET = {
    "the master password": {"MasterUserPassword": REFERENCE},
    "the master password behind Fn::If": {"MasterUserPassword": {"Fn::If": ["C", REFERENCE, REFERENCE]}},
    "a plain ssm reference is not a secret": {"Tags": [{"Key": "x", "Value": "{{resolve:ssm:/db/name}}"}]},
}


@pytest.mark.parametrize("properties", EXPOSED.values(), ids=EXPOSED.keys())
def test_a_secret_reference_outside_a_write_only_property_is_exposed(properties: dict[str, Any]) -> None:
    found = stg_secrets.exposed_references(properties, where="Properties", write_only=DB_WRITE_ONLY)
    assert found and all("shows and stores the value in plain text" in line for line in found), found


@pytest.mark.parametrize("properties", KEPT_SECRET.values(), ids=KEPT_SECRET.keys())
def test_a_write_only_property_keeps_the_secret(properties: dict[str, Any]) -> None:
    assert stg_secrets.exposed_references(properties, where="Properties", write_only=DB_WRITE_ONLY) == []


def test_the_schema_facts_name_the_write_only_properties() -> None:
    assert "MasterUserPassword" in DB_WRITE_ONLY
    assert "SecretString" in lib.type_facts("AWS::SecretsManager::Secret").get("write_only", [])


def test_outputs_parameters_and_metadata_never_take_one() -> None:
    body = {
        "Parameters": {"P": {"Type": "String", "Default": REFERENCE}},
        "Outputs": {"O": {"Value": {"Fn::Sub": [REFERENCE, {}]}}},
        "Metadata": {"note": REFERENCE},
    }
    found = stg_secrets.template_section_problems(body)
    where = sorted(line.split(" ", 1)[0] for line in found if "plain text" in line)
    assert where == ["Metadata.note", "Outputs.O.Value.Fn::Sub.0", "Parameters.P.Default"], found


def test_the_check_fails_a_tagged_reference() -> None:
    sec1 = load_rule("CKV_STG_SEC_1")
    template = {"Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
        "MasterUserPassword": REFERENCE, "Tags": [{"Key": "debug", "Value": REFERENCE}]}}}}  # fmt: skip
    verdict = sec1.rule(lib.Context(template), "Db")
    assert verdict.status == lib.FAILED and "Properties.Tags.0.Value" in verdict.reason, verdict
