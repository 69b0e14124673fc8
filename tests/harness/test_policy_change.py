"""A pull request is judged by rules it cannot change (issue 17): the gate run end to end.

Each run is ``python -m harness --assembly HEAD --base-assembly BASE --base-rules DIR`` with the
base's rules in a copy of this checkout's (``--base REF`` reads the same files from git:
tests/harness/test_rules.py::test_the_base_rules_are_read_from_git). The head's rules are this
checkout's, or a copy of its policies/ (``--policies``) where the pull request adds waivers.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.comparison.policy_change import RULE_ID
from harness.verdict.mutations import MUTATIONS
from tests.harness.conftest import ROOT, TEMPLATE, GateRun, GateRunner, write_assembly
from tests.harness.test_rules import copy_rules, edit_waivers, set_spec

pytestmark = pytest.mark.slow

DATABASE = "DatabaseInstanceAA8A5FDE"
DATABASE_PATH = "StagingDatabase/Database/Instance/Resource"
# One accepted exception (single-AZ), judged by three tools on one resource: one entry, one owner, one expiry.
SINGLE_AZ_WAIVER = {
    "id": "WVR-090",
    "requirement": "REQ-DB-03",
    "rules": [
        {"tool": "cdk-nag", "rule": "AwsSolutions::AwsSolutions-RDS3"},
        {"tool": "cdk-nag", "rule": "NIST.800.53.R5::NIST.800.53.R5-RDSMultiAZSupport"},
        {"tool": "checkov", "rule": "CKV_AWS_157"},
        {"tool": "project", "rule": "CKV_STG_RDS_6"},
    ],
    "target": DATABASE_PATH,
    "resource_type": "AWS::RDS::DBInstance",
    "reason": "single-AZ while the staging load tests run; Multi-AZ returns with the production cut-over",
    "owner": "platform-team",
    "expires": "2027-01-31",
}


@pytest.fixture(scope="module")
def base_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("base-cache")


@pytest.fixture(scope="module")
def assemblies(sourced_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("policy-change-assemblies")
    template: dict[str, Any] = json.loads((sourced_assembly / TEMPLATE).read_text(encoding="utf-8"))
    single_az = next(m for m in MUTATIONS if m.name == "single-az").mutate(copy.deepcopy(template))
    return {
        "clean": write_assembly(sourced_assembly, root / "clean"),
        "single-az": write_assembly(sourced_assembly, root / "single-az", single_az),
    }


@pytest.fixture
def compare(gate: GateRunner, base_cache: Path) -> Callable[..., GateRun]:
    def run(head: Path, base: Path, base_rules: Path, *extra: str) -> GateRun:
        return gate("--assembly", str(head), "--base-assembly", str(base), "--base-rules", str(base_rules),
                    "--base-cache", str(base_cache), *extra, timeout=1500)  # fmt: skip

    return run


def _policy_changes(run: GateRun) -> list[dict[str, Any]]:
    return [f for f in run.report["findings"] if f["rule_id"] == RULE_ID]


def _first_section(run: GateRun) -> str:
    """compliance.md from its first section after the verdict up to the next one."""
    text = (run.reports / "compliance.md").read_text(encoding="utf-8")
    sections = text.split("\n## ")
    return sections[1]


def test_a_changed_spec_value_fails_names_the_change_first_and_is_accepted_on_record(
    compare: Callable[..., GateRun], assemblies: dict[str, Path], tmp_path: Path
) -> None:
    # The head's rules (this checkout) fix max_connections = 200; the base's fixed 300: the head changed the
    # value in infra/spec.toml and cdk.json together, and its own policy passes its own stack.
    base_rules = copy_rules(ROOT, tmp_path / "base-rules")
    set_spec(base_rules, toml_line=("max_connections = 200", "max_connections = 300"), context=("maxConnections", 300))
    run = compare(assemblies["clean"], assemblies["clean"], base_rules)
    assert run.returncode == 1, run.stderr
    found = _policy_changes(run)
    assert found and all(f["status"] == "failed" for f in found)
    assert all("CKV_STG_PG_1 is failed under the base's rules" in f["message"] for f in found), found
    assert all("spec parameters.max_connections changed: 300 → 200" in f["message"] for f in found)
    first = _first_section(run)
    assert first.startswith("Rule changes")
    assert "`parameters.max_connections` | changed | 300 → 200" in first and "`maxConnections`" in first
    rules = run.report["rules"]
    assert rules["base_digest"] != rules["digest"] and rules["policy_changes"] == len(found)

    reason = "max_connections back to the spec's 200, approved by policy-owners in PR #17"
    accepted = compare(assemblies["clean"], assemblies["clean"], base_rules, "--accept-policy-change", reason)
    assert accepted.returncode == 0, accepted.stderr
    assert {f["status"] for f in _policy_changes(accepted)} == {"waived"}
    record = accepted.report["rules"]["accepted_policy_change"]
    assert record["reason"] == reason and record["base_digest"] == rules["base_digest"]
    assert any("parameters.max_connections" in line for line in record["accepted"])
    evidence = json.loads((accepted.reports / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["verdict"]["rules"]["accepted_policy_change"]["reason"] == reason
    predicate = json.loads((accepted.reports / "attestation" / "predicate.json").read_text(encoding="utf-8"))
    assert predicate["rules"]["acceptedPolicyChange"]["reason"] == reason
    assert predicate["rules"]["baseDigest"] == rules["base_digest"]


def test_a_violation_with_its_own_waivers_fails_until_the_waivers_are_on_the_base(
    compare: Callable[..., GateRun], assemblies: dict[str, Path], tmp_path: Path
) -> None:
    head_rules = copy_rules(ROOT, tmp_path / "head-rules")
    edit_waivers(head_rules, lambda waivers: waivers.append(SINGLE_AZ_WAIVER))
    base_rules = copy_rules(ROOT, tmp_path / "base-rules")  # the base: no such waiver
    policies = ("--policies", str(head_rules / "policies"))

    run = compare(assemblies["single-az"], assemblies["clean"], base_rules, *policies)
    assert run.returncode == 1, run.stderr
    found = _policy_changes(run)
    assert {f["logical_id"] for f in found} == {DATABASE} and len(found) == 4
    assert all("under the head's; rules changed: waiver WVR-090 added" in f["message"] for f in found), found
    first = _first_section(run)
    assert first.startswith("Rule changes") and "`WVR-090` | added" in first
    assert {f["rule_id"] for f in run.report["findings"] if f["status"] in ("failed", "not-evaluated")} == {RULE_ID}

    landed = copy_rules(ROOT, tmp_path / "base-with-waivers")
    edit_waivers(landed, lambda waivers: waivers.append(SINGLE_AZ_WAIVER))
    passed = compare(assemblies["single-az"], assemblies["clean"], landed, *policies)
    assert passed.returncode == 0, passed.stderr  # an accepted exception passes the full gate
    waived = {(f["source"], f["rule_id"]) for f in passed.report["findings"] if f["status"] == "waived"}
    assert {("checkov", "CKV_AWS_157"), ("project", "CKV_STG_RDS_6")} <= waived
    assert not _policy_changes(passed)


def test_a_waiver_for_a_rule_no_tool_has_is_a_harness_failure(
    gate: GateRunner, assemblies: dict[str, Path], tmp_path: Path
) -> None:
    rules = copy_rules(ROOT, tmp_path / "rules")
    edit_waivers(rules, lambda waivers: waivers.append({**SINGLE_AZ_WAIVER, "rules": [
        {"tool": "checkov", "rule": "CKV_AWS_99999"}]}))  # fmt: skip
    run = gate("--assembly", str(assemblies["clean"]), "--policies", str(rules / "policies"))
    assert run.returncode == 2, run.stderr
    line = "waiver WVR-090.1 names checkov rule 'CKV_AWS_99999', which no checkov rule of this run has"
    errors = [x for x in run.stderr.splitlines() if x.startswith("compliance gate error:")]
    assert len(errors) == 1 and line in errors[0], run.stderr
    assert line in run.report["error"]


def test_accepting_a_policy_change_needs_a_base_and_a_reason(gate: GateRunner, assemblies: dict[str, Path]) -> None:
    run = gate("--assembly", str(assemblies["clean"]), "--accept-policy-change", "ok")
    assert run.returncode == 2 and "--accept-policy-change accepts the head's rules against a base" in run.stderr
    run = gate("--assembly", str(assemblies["clean"]), "--base-assembly", str(assemblies["clean"]),
               "--accept-policy-change", " ")  # fmt: skip
    assert run.returncode == 2 and "--accept-policy-change needs a reason" in run.stderr


def test_the_policy_owners_own_the_rules_and_ci_accepts_only_their_approval() -> None:
    owners = (ROOT / ".github" / "CODEOWNERS").read_text(encoding="utf-8")
    for path in ("/policies/", "/infra/spec.toml", "/cdk.json"):
        assert any(line.split()[:2] == [path, "@ORG/policy-owners"] for line in owners.splitlines() if line.strip()), (
            path
        )
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "compliance.yml").read_text(encoding="utf-8"))
    steps = {s.get("name"): s for s in workflow["jobs"]["gate"]["steps"]}
    approval = steps["Policy owners' approval"]["run"]
    assert "policy-change-approved" in approval and "teams/policy-owners/memberships" in approval
    assert 'commit_id == \\"${HEAD_SHA}\\"' in approval  # an approval of this head commit, not an older one
    gate_step = steps["Compliance gate"]
    assert gate_step["env"]["ACCEPT_REASON"] == "${{ steps.approval.outputs.reason }}"
    assert '--accept-policy-change "$ACCEPT_REASON"' in gate_step["run"]


def test_base_rules_this_harness_cannot_read_fail_closed_unless_accepted(
    compare: Callable[..., GateRun], assemblies: dict[str, Path], tmp_path: Path
) -> None:
    base_rules = copy_rules(ROOT, tmp_path / "base-rules")
    edit_waivers(base_rules, lambda waivers: waivers[0].update(approved_by="someone"))  # a field this harness lacks
    run = compare(assemblies["clean"], assemblies["clean"], base_rules)
    assert run.returncode == 2, run.stderr
    assert "cannot be loaded by this harness" in run.report["error"] and "approved_by" in run.report["error"]
    reason = "waivers.yaml format change, approved by policy-owners"
    accepted = compare(assemblies["clean"], assemblies["clean"], base_rules, "--accept-policy-change", reason)
    assert accepted.returncode == 0, accepted.stderr
    assert "cannot be loaded by this harness" in accepted.report["rules"]["base_source"]
    assert accepted.report["rules"]["accepted_policy_change"]["reason"] == reason
