"""Every project policy proves itself on its fixtures and on the real synthesized stack.

Node ids are derived from the policy id (``harness.catalog.policy_test_ids``), so the
traceability matrix can name the tests of each policy:
``tests/policies/test_policy_fixtures.py::test_fail_fixture_fails[CKV_STG_RDS_1]``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from harness.catalog import (
    OPTIONAL_FIXTURE_KINDS,
    POLICY_TEST_FILE,
    POLICY_TEST_FUNCTIONS,
    load_policies,
    load_waivers,
    optional_fixture,
    policy_test_ids,
)
from harness.tools.waivers import accepted_exception
from infra.stacks.staging_database import STACK_ID
from tests.policies.conftest import STACK_FILES, ScanResults

POLICIES = {p.id: p for p in load_policies()}
IDS = sorted(POLICIES)
WAIVERS = (
    load_waivers()
)  # the gate's own exceptions: the tier judges with them (harness.tools.waivers.accepted_exception)
NOT_EVALUATED_IDS = sorted(i for i in POLICIES if optional_fixture(i, "not-evaluated") is not None)


def _describe(scan: ScanResults, file_name: str, policy_id: str) -> str:
    return f"{file_name}: {[(r.result, r.resource) for r in scan.of(file_name, policy_id)]}"


def test_checkov_run_is_sound(scan: ScanResults, registry_yaml_fixtures: dict[str, object]) -> None:
    assert scan.summary.get("parsing_errors") == 0, scan.stderr[-2000:]
    assert "Cannot load external check" not in scan.stderr, scan.stderr[-4000:]
    assert "failing closed" not in scan.stderr, scan.stderr[-4000:]  # a rule raised or lost its template
    optional = sum(optional_fixture(i, kind) is not None for i in POLICIES for kind in OPTIONAL_FIXTURE_KINDS)
    expected_files = (
        sum(len(p.fixtures) for p in POLICIES.values()) + optional + len(STACK_FILES) + len(registry_yaml_fixtures)
    )
    assert len(scan.resource_types) == expected_files


@pytest.mark.parametrize("policy_id", IDS)
def test_pass_fixture_passes(scan: ScanResults, policy_id: str) -> None:
    file_name = f"{policy_id}__pass.json"
    records = scan.of(file_name, policy_id)
    assert records, f"{policy_id} produced no result on its pass fixture (not loaded, or not applicable)"
    assert all(r.result == "passed" for r in records), _describe(scan, file_name, policy_id)


@pytest.mark.parametrize("policy_id", IDS)
def test_fail_fixture_fails(scan: ScanResults, policy_id: str) -> None:
    file_name = f"{policy_id}__fail.json"
    failed = [r for r in scan.of(file_name, policy_id) if r.result == "failed"]
    assert failed, f"{policy_id} did not fail its fail fixture: {_describe(scan, file_name, policy_id)}"
    assert {r.check_name for r in failed} == {POLICIES[policy_id].title}
    if POLICIES[policy_id].engine == "python":
        # A Python rule's failure is a FAILED verdict (not an unknown) with a reason a reviewer can act on.
        verdicts = scan.verdicts_of(file_name, policy_id)
        found = [v for v in verdicts if v.status == "failed"]
        assert found, f"{policy_id} recorded no failed verdict on its fail fixture: {verdicts}"
        assert all(v.reason.strip() for v in found), verdicts


@pytest.mark.parametrize("policy_id", NOT_EVALUATED_IDS)
def test_not_evaluated_fixture_is_not_evaluated(scan: ScanResults, policy_id: str) -> None:
    """What the template leaves to deploy time is NOT EVALUATED, says why, and fails closed (never a pass)."""
    file_name = f"{policy_id}__not-evaluated.json"
    verdicts = scan.verdicts_of(file_name, policy_id)
    unknown = [v for v in verdicts if v.status == "not-evaluated"]
    assert unknown, f"{policy_id} recorded no not-evaluated verdict: {verdicts}"
    assert all(v.reason.strip() for v in unknown), verdicts
    assert not [v for v in verdicts if v.status == "failed"], (
        f"the fixture should hide, not break, the rule: {verdicts}"
    )
    records = {r.resource.rsplit(".", 1)[-1]: r.result for r in scan.of(file_name, policy_id)}
    assert all(records.get(v.logical_id) == "failed" for v in unknown), _describe(scan, file_name, policy_id)


@pytest.mark.parametrize("policy_id", IDS)
def test_suppressed_fixture_is_skipped(scan: ScanResults, policy_id: str) -> None:
    file_name = f"{policy_id}__suppressed.json"
    records = scan.of(file_name, policy_id)
    assert any(r.result == "skipped" for r in records), _describe(scan, file_name, policy_id)
    assert not any(r.result == "failed" for r in records), _describe(scan, file_name, policy_id)


@pytest.mark.parametrize("policy_id", IDS)
def test_policy_passes_on_synthesized_stack(
    scan: ScanResults, policy_id: str, staging_templates: dict[str, dict[str, Any]]
) -> None:
    """No false alarm on the compliant stack (migration off and on); and the policy really ran.

    One judgement (issue 17): a result the gate waives (policies/waivers.yaml, harness.tools.waivers) is an
    accepted exception here too; any other result but passed fails.
    """
    types = set(POLICIES[policy_id].resource_types)
    templates = dict(zip(STACK_FILES, (staging_templates["default"], staging_templates["migration"]), strict=True))
    for stack_file in STACK_FILES:
        records = scan.of(stack_file, policy_id)
        failing = [
            r for r in records
            if r.result != "passed" and accepted_exception(
                waivers=WAIVERS, today=dt.date.today(), template=templates[stack_file], stack=STACK_ID,
                rule=policy_id, logical_id=r.resource.rsplit(".", 1)[-1],
            ) is None
        ]  # fmt: skip
        assert not failing, _describe(scan, stack_file, policy_id)
        if "*" in types or types & scan.resource_types[stack_file]:
            assert records, f"{policy_id} applies to {sorted(types)} but produced no result on {stack_file}"


def test_node_ids_match_the_catalog() -> None:
    """The catalog derives test node ids from policy ids; keep it in step with this module."""
    assert POLICY_TEST_FILE == "tests/policies/test_policy_fixtures.py"
    for function in POLICY_TEST_FUNCTIONS.values():
        assert callable(globals()[function])
    assert policy_test_ids("CKV_STG_RDS_1")[1] == f"{POLICY_TEST_FILE}::test_fail_fixture_fails[CKV_STG_RDS_1]"
