"""Behaviour over syntax (issue 16 item 5): every property that decides what a policy promises is judged by it.

``behaviour_table.ROWS`` sets one property of the real staging template to a value that alone
defeats a policy's behaviour; each row must make that policy FAIL, with a reason naming the
property (or what the row says it must name). The bases themselves pass every policy in scope,
so the failure is that property's. The policies declare what they judge (``METADATA["judges"]``)
and the table covers exactly that, so a property a policy claims to judge has a failing fixture
and a property the table defeats is declared. No checkov: the rules run as pure functions.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from functools import cache
from types import ModuleType
from typing import Any

import pytest

from harness.catalog import CHECKS_DIR
from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from tests.policies.behaviour_table import BASES, REMOVE, ROWS, Row, Template, apply

IN_SCOPE = tuple(sorted({row.policy for row in ROWS}))
ENVIRONMENT = {"region": "us-east-1"}  # what the gate knows of the staging stack (its account is agnostic)


@cache
def rule_module(policy_id: str) -> ModuleType:
    (path,) = CHECKS_DIR.rglob(f"{policy_id.lower()}_*.py")
    spec = importlib.util.spec_from_file_location(f"stg_behaviour_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    make_check = lib.make_check
    lib.make_check = lambda metadata, rule: None  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        lib.make_check = make_check  # type: ignore[assignment]
    return module


def verdicts(policy_id: str, template: Template) -> Iterator[tuple[str, lib.Verdict]]:
    """(logical id, verdict) of the policy on every resource it applies to."""
    module = rule_module(policy_id)
    types = module.METADATA["resource_types"]
    world = {**template, "Metadata": {cfn.WORLD_METADATA_KEY: {"environment": ENVIRONMENT}}}
    ctx = lib.Context(world, raw=template)
    for logical_id, resource in sorted(template["Resources"].items()):
        if types == ["*"] or resource["Type"] in types:
            yield logical_id, module.rule(ctx, logical_id)


@pytest.fixture(scope="module")
def bases(default_template: dict[str, Any]) -> dict[str, Template]:
    return {name: build(default_template) for name, build in BASES.items()}


@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("policy", IN_SCOPE)
def test_every_base_passes(bases: dict[str, Template], base: str, policy: str) -> None:
    wrong = [(lid, v) for lid, v in verdicts(policy, bases[base]) if v.status not in (lib.PASSED, lib.NOT_APPLICABLE)]
    assert wrong == []


def _row_id(row: Row) -> str:
    # A callable's repr holds its address, which differs between xdist workers: name it instead.
    value = f"<{getattr(row.value, '__qualname__', 'computed')}>" if callable(row.value) else repr(row.value)
    return f"{row.policy}:{row.resource_type.rsplit('::', 1)[-1]}.{row.path}={value:.40}"


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_the_property_alone_defeats_the_behaviour(bases: dict[str, Template], row: Row) -> None:
    changed = apply(row, bases[row.base])
    failed = [(lid, v.reason) for lid, v in verdicts(row.policy, changed) if v.status == lib.FAILED]
    assert failed, f"{row.policy} did not fail with {row.path} = {row.shown(bases[row.base])}"
    named = [reason for _, reason in failed if row.expected_word.lower() in reason.lower()]
    assert named, f"{row.policy} failed without naming {row.expected_word!r}: {failed}"


def test_the_table_covers_exactly_what_the_policies_declare() -> None:
    """A declared property without a defeating row has no failing fixture; a row outside the declaration
    is a property the registry would not know the policy judges."""
    declared = {
        (policy, kind, path)
        for policy in IN_SCOPE
        for kind, paths in rule_module(policy).METADATA.get("judges", {}).items()
        for path in paths
    }
    covered = {(row.policy, row.resource_type, row.path) for row in ROWS}
    assert sorted(declared - covered) == [], "declared as judged, no row defeats it"
    assert sorted(covered - declared) == [], "a row defeats it, the policy does not declare it"


# What GEN_2 leaves to other policies: a dynamic reference is the compliant form of a credential.
NOT_SPEC_VALUES = {("AWS::RDS::DBInstance", "MasterUserPassword"), ("AWS::RDS::DBInstance", "TdeCredentialPassword"),
                   ("AWS::RDS::DBInstance", "Tags"), ("AWS::SecretsManager::Secret", "SecretString")}  # fmt: skip


def test_what_decides_a_behaviour_is_never_chosen_at_deploy_time() -> None:
    """CKV_STG_GEN_2 requires literals for every property the behaviour policies judge."""
    spec_fixed = rule_module("CKV_STG_GEN_2").SPEC_FIXED
    missing = sorted(
        (kind, path)
        for row in ROWS
        if not row.attribute
        for kind, path in [(row.resource_type, row.path)]
        if (kind, path) not in NOT_SPEC_VALUES
        and not any(path == fixed or path.startswith(f"{fixed}.") for fixed in spec_fixed.get(kind, ()))
    )
    assert missing == []


def _chosen_at_deploy_time(template: Template, row: Row) -> Template:
    """The row's property behind Fn::If on a condition the template cannot decide (both branches the same)."""
    value = row.value(template) if callable(row.value) else row.value
    changed = apply(Row(row.policy, row.resource_type, row.path, {"Fn::If": ["Chosen", value, value]}), template)
    changed["Parameters"] = {"Choice": {"Type": "String"}}
    changed["Conditions"] = {"Chosen": {"Fn::Equals": [{"Ref": "Choice"}, "yes"]}}
    return changed


# One row per property GEN_2 should see chosen at deploy time.
DEPLOY_TIME_ROWS = sorted(
    {
        (r.resource_type, r.path): r
        for r in ROWS
        if not r.attribute and r.value is not REMOVE and (r.resource_type, r.keys[0]) not in NOT_SPEC_VALUES
    }.values(),
    key=lambda r: (r.policy, r.resource_type, r.path),
)


@pytest.mark.parametrize("row", DEPLOY_TIME_ROWS, ids=_row_id)
def test_a_deploy_time_choice_of_a_judged_property_fails_gen_2(bases: dict[str, Template], row: Row) -> None:
    template = _chosen_at_deploy_time(bases[row.base], row)
    failed = [v.reason for _, v in verdicts("CKV_STG_GEN_2", template) if v.status == lib.FAILED]
    assert any(f"{row.keys[0]} is chosen at deploy time (Fn::If)" in reason for reason in failed), failed


def test_the_alarm_policies_declare_what_the_alarm_library_judges() -> None:
    from policies.lib import stg_alarms  # noqa: PLC0415

    for policy in ("CKV_STG_CW_1", "CKV_STG_CW_2"):
        assert tuple(rule_module(policy).METADATA["judges"]["AWS::CloudWatch::Alarm"]) == stg_alarms.JUDGED
