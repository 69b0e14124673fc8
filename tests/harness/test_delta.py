"""A head compared with a base: what the change introduced, fixed or replaced, located in infra/.

Every run is ``python -m harness --assembly HEAD --base-assembly BASE`` on assemblies edited
from the real synthesized one (with its construct-sources.json), sharing one cache: a head
judged in one test is the base of another without being judged again. One run synthesizes a
real base with ``--base HEAD`` in a temporary git worktree.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.catalog import POLICIES_DIR
from harness.verdict.mutations import MUTATIONS
from tests.harness.conftest import ROOT, TEMPLATE, GateRun, GateRunner, write_assembly

pytestmark = pytest.mark.slow

DATABASE = "DatabaseInstanceAA8A5FDE"
DATABASE_PATH = "StagingDatabase/Database/Instance/Resource"
MOVED = "StorageInstance0123ABCD"
MOVED_PATH = "StagingDatabase/Storage/Instance/Resource"


@pytest.fixture(scope="module")
def base_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("base-cache")


@pytest.fixture(scope="module")
def sourced_template(sourced_assembly: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((sourced_assembly / TEMPLATE).read_text(encoding="utf-8"))
    return template


@pytest.fixture
def make(sourced_assembly: Path, tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, template: dict[str, Any] | None = None) -> Path:
        return write_assembly(sourced_assembly, tmp_path / name, template)

    return make


@pytest.fixture
def compare(gate: GateRunner, base_cache: Path) -> Callable[..., GateRun]:
    def run(head: Path, base: Path, *extra: str) -> GateRun:
        return gate("--assembly", str(head), "--base-assembly", str(base), "--base-cache", str(base_cache), *extra)

    return run


def _mutated(template: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in MUTATIONS if m.name == name).mutate(template)


def _create_only_changed(template: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"][DATABASE]["Properties"]["MasterUsername"] = "paymentsadmin"
    return changed


def _entries(run: GateRun, kind: str) -> list[tuple[str, str]]:
    # A delta entry carries its finding in the record shape of compliance.json's findings.
    return [(e["finding"]["rule_id"], e["finding"]["logical_id"]) for e in run.report["delta"][kind]]


def _change(run: GateRun, logical_id: str) -> dict[str, Any]:
    return next(c for c in run.report["changes"] if c["logicalId"] == logical_id)


def test_identical_head_introduces_nothing(compare: Callable[..., GateRun], make: Callable[..., Path]) -> None:
    run = compare(make("head"), make("base"))
    assert run.returncode == 0, run.stderr
    delta = run.report["delta"]
    assert delta["introduced"] == [] and delta["fixed"] == []
    assert run.report["changes"] == []
    markdown = (run.reports / "compliance.md").read_text(encoding="utf-8")
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[0].startswith("## What this change does")  # the report leads with the delta
    assert "**0 introduced**, **0 fixed**" in markdown


def test_new_violation_is_introduced_and_fails(
    compare: Callable[..., GateRun], make: Callable[..., Path], sourced_template: dict[str, Any]
) -> None:
    run = compare(make("head", _mutated(sourced_template, "deletion-protection-off")), make("base"))
    assert run.returncode == 1, run.stderr
    introduced = _entries(run, "introduced")
    assert ("CKV_STG_RDS_1", DATABASE) in introduced  # and the cdk-nag packs' deletion-protection rules
    assert {logical_id for _, logical_id in introduced} == {DATABASE}
    assert _entries(run, "fixed") == []
    entry = next(e for e in run.report["delta"]["introduced"] if e["finding"]["rule_id"] == "CKV_STG_RDS_1")
    assert entry["finding"]["construct_path"] == DATABASE_PATH and entry["base_status"] == "passed"
    assert entry["finding"].keys() == run.report["findings"][0].keys()  # one record shape in the report
    modified = _change(run, DATABASE)
    assert modified["action"] == "modify" and modified["properties"] == ["DeletionProtection"] and modified["stateful"]
    # The finding is located on the infra/ line that created the database, with a link in the report.
    code_file, code_line = entry["finding"]["code_file"], entry["finding"]["code_line"]
    line = (ROOT / code_file).read_text(encoding="utf-8").splitlines()[code_line - 1]
    assert code_file == "infra/domains/database.py" and "DatabaseInstance(" in line
    markdown = (run.reports / "compliance.md").read_text(encoding="utf-8")
    assert f"[infra/domains/database.py:{code_line}](" in markdown
    _assert_sarif_in_infra(run)


def _assert_sarif_in_infra(run: GateRun) -> None:
    sarif = json.loads((run.reports / "compliance.sarif").read_text(encoding="utf-8"))
    results = [(run_, r) for run_ in sarif["runs"] for r in run_["results"]]
    failing = [r for _, r in results if r["ruleId"] == "CKV_STG_RDS_1"]
    assert len(failing) == 1
    # The line that set DeletionProtection (harness.reading.sources): the spec line deletion_protection= reads,
    # then that keyword, the line that created the construct and the template.
    places = [failing[0]["locations"][0], *failing[0]["relatedLocations"]]
    lines = [
        (p["physicalLocation"]["artifactLocation"]["uri"], p["physicalLocation"]["region"]["startLine"]) for p in places
    ]
    expected = ["deletion_protection = ", "deletion_protection=spec()", "DatabaseInstance("]
    assert [uri for uri, _ in lines[:3]] == [
        "infra/spec.toml",
        "infra/domains/database.py",
        "infra/domains/database.py",
    ]
    for (uri, line), text in zip(lines, expected, strict=False):
        assert text in (ROOT / uri).read_text(encoding="utf-8").splitlines()[line - 1]
    related = places[3]["physicalLocation"]["artifactLocation"]
    assert related["uri"].endswith(".template.json") and related.get("uriBaseId")  # outside the repo: no absolute URI
    assert failing[0]["partialFingerprints"]["primaryLocationLineHash"]
    for run_, result in results:
        for location in [*result["locations"], *result.get("relatedLocations", [])]:
            assert not location["physicalLocation"]["artifactLocation"]["uri"].startswith(("/", "file:"))
        rule = run_["tool"]["driver"]["rules"][result["ruleIndex"]]
        assert rule["properties"]["tags"]
    # Waived results are not uploaded (code scanning ignores SARIF suppressions): WVR-001 covers RDS11.
    assert not any(r["ruleId"] == "AwsSolutions::AwsSolutions-RDS11" for _, r in results)
    project = next(run_ for run_ in sarif["runs"] if run_["tool"]["driver"]["name"] == "compliance-gate/project")
    rule = next(r for r in project["tool"]["driver"]["rules"] if r["id"] == "CKV_STG_RDS_1")
    assert "security" in rule["properties"]["tags"] and float(rule["properties"]["security-severity"]) > 0


def test_fixed_violation_is_listed_and_passes(
    compare: Callable[..., GateRun], make: Callable[..., Path], sourced_template: dict[str, Any]
) -> None:
    run = compare(make("head"), make("base", _mutated(sourced_template, "deletion-protection-off")))
    assert run.returncode == 0, run.stderr
    fixed = _entries(run, "fixed")
    assert ("CKV_STG_RDS_1", DATABASE) in fixed and {logical_id for _, logical_id in fixed} == {DATABASE}
    assert _entries(run, "introduced") == []
    assert {e["status"] for e in run.report["delta"]["fixed"]} <= {"passed", "absent"}  # cdk-nag reports no passes
    assert f"### Fixed ({len(fixed)})" in (run.reports / "compliance.md").read_text(encoding="utf-8")


def test_create_only_change_of_the_database_is_a_replacement(
    compare: Callable[..., GateRun], make: Callable[..., Path], sourced_template: dict[str, Any]
) -> None:
    run = compare(make("head", _create_only_changed(sourced_template)), make("base"))
    assert run.returncode == 1, run.stderr
    replaced = _change(run, DATABASE)
    assert replaced["action"] == "replace" and replaced["stateful"]
    assert replaced["replacementCauses"] == ["create-only property MasterUsername changed"]
    assert _entries(run, "introduced") == [("STG_CHG_1", DATABASE)]
    failed = [f for f in run.report["findings"] if f["status"] == "failed"]
    assert [(f["rule_id"], f["source"]) for f in failed] == [("STG_CHG_1", "change")]
    assert failed[0]["code_file"] == "infra/domains/database.py"


def test_moved_database_is_a_replacement(
    compare: Callable[..., GateRun], make: Callable[..., Path], sourced_template: dict[str, Any]
) -> None:
    text = json.dumps(sourced_template).replace(DATABASE, MOVED).replace(DATABASE_PATH, MOVED_PATH)
    run = compare(make("head", json.loads(text)), make("base"))
    assert run.returncode == 1, run.stderr
    replaced = _change(run, MOVED)
    assert replaced["action"] == "replace" and replaced["stateful"]
    assert replaced["baseLogicalId"] == DATABASE and replaced["baseConstructPath"] == DATABASE_PATH
    assert replaced["replacementCauses"][0].startswith(f"logical id changed from {DATABASE} to {MOVED}")
    assert not any(c["action"] == "remove" for c in run.report["changes"])  # one replacement, not remove + add
    assert ("STG_CHG_1", MOVED) in _entries(run, "introduced")


def test_waiver_allows_a_planned_replacement(
    compare: Callable[..., GateRun], make: Callable[..., Path], sourced_template: dict[str, Any], tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies, ignore=shutil.ignore_patterns("__pycache__"))
    # The policies read the spec's values from infra/spec.toml beside them (policies/lib/stg_policy_lib.py).
    (tmp_path / "infra").mkdir()
    for name in ("spec.py", "spec.toml"):
        shutil.copyfile(ROOT / "infra" / name, tmp_path / "infra" / name)
    data = yaml.safe_load((policies / "waivers.yaml").read_text(encoding="utf-8"))
    data["waivers"].append(
        {
            "id": "WVR-CHG-1",
            "tool": "change",
            "rule": "STG_CHG_1",
            "target": DATABASE_PATH,
            "resource_type": "AWS::RDS::DBInstance",
            "reason": "Planned: the master user is renamed; the instance is restored from a snapshot in the window.",
            "owner": "platform-team",
            "expires": "2099-12-31",
        }
    )
    (policies / "waivers.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    run = compare(make("head", _create_only_changed(sourced_template)), make("base"), "--policies", str(policies))
    assert run.returncode == 0, run.stderr
    waived = next(f for f in run.report["findings"] if f["rule_id"] == "STG_CHG_1")
    assert waived["status"] == "waived" and waived["waiver_id"] == "WVR-CHG-1"
    assert _change(run, DATABASE)["action"] == "replace"  # still reported as a replacement
    assert _entries(run, "introduced") == []


def test_base_ref_is_synthesized_in_a_worktree(gate: GateRunner, make: Callable[..., Path], base_cache: Path) -> None:
    # The shared cache: the base's findings may come from an earlier run on the same content,
    # but its assembly is synthesized here (no earlier test had the commit as its base).
    cache = base_cache
    run = gate("--assembly", str(make("head")), "--base", "HEAD", "--base-cache", str(cache))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    sha = commit.stdout.strip()
    assert run.returncode in (0, 1), run.stderr
    assert run.report["delta"]["base"] == "HEAD" and run.report["delta"]["commit"] == sha
    synthesized = list((cache / sha).glob("*/assembly/construct-sources.json"))
    assert len(synthesized) == 1  # synthesized once, with its source map, in the cache
    worktrees = subprocess.run(["git", "-C", str(ROOT), "worktree", "list"], capture_output=True, text=True, check=True)
    assert "base-checkout" not in worktrees.stdout  # the temporary worktree is gone
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "infra", "app.py", "cdk.json"], check=False
    )
    if dirty.returncode == 0:  # the working tree's app is HEAD's: nothing differs
        assert run.report["changes"] == [] and run.report["delta"]["introduced"] == []


def test_unknown_base_ref_is_a_harness_failure(gate: GateRunner, make: Callable[..., Path], tmp_path: Path) -> None:
    run = gate("--assembly", str(make("head")), "--base", "no-such-ref-9", "--base-cache", str(tmp_path / "cache"))
    assert run.returncode == 2
    message = run.stderr.strip().splitlines()[-1]
    assert "no-such-ref-9" in message and "is not a commit" in message
