"""Waivers: an expired one fails the gate by name, a stale one is only reported, and a
suppression that no waiver in policies/ explains fails the gate.

These runs use ``--policies`` with a copy of policies/ whose waivers.yaml the test edits.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.catalog import POLICIES_DIR, load_waivers
from tests.harness.conftest import GateRunner

pytestmark = pytest.mark.slow


@pytest.fixture
def policies_copy(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _edit_waivers(policies: Path, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    path = policies / "waivers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["waivers"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_expired_waivers_fail_the_gate_by_name(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    waivers = load_waivers()
    latest = max(w.expires for w in waivers)
    run = gate("--assembly", str(make_assembly("clean")), "--today", f"{latest.year + 1}-01-01")
    assert run.returncode == 1, run.stderr
    expired = [f for f in run.report["findings"] if f["rule_id"] == "waiver-expired"]
    assert sorted(f["waiver_id"] for f in expired) == sorted(w.id for w in waivers)
    assert all(f["status"] == "failed" for f in expired)
    # The findings the waivers covered are failures again, each naming its expired waiver.
    relapsed = [f for f in run.report["findings"] if f["status"] == "failed" and "expired on" in f["message"]]
    assert {f["waiver_id"] for f in relapsed} >= {w.id for w in waivers if w.tool.value in ("cdk-nag", "checkov")}
    assert "**expired** (fails)" in (run.reports / "compliance.md").read_text(encoding="utf-8")


def test_stale_waiver_is_reported_not_failed(
    gate: GateRunner, make_assembly: Callable[..., Path], policies_copy: Path
) -> None:
    def add_stale(waivers: list[dict[str, Any]]) -> None:
        stale = copy.deepcopy(next(w for w in waivers if w["tool"] == "checkov"))
        stale.update(id="WVR-STALE", target="NoSuchLogicalId", reason="covers a resource that no longer exists")
        waivers.append(stale)

    _edit_waivers(policies_copy, add_stale)
    run = gate("--assembly", str(make_assembly("clean")), "--policies", str(policies_copy))
    assert run.returncode == 0, run.stderr
    stale = next(w for w in run.report["waivers"] if w["waiver_id"] == "WVR-STALE")
    assert stale["matched"] == 0 and not stale["expired"]
    assert any(f["rule_id"] == "waiver-stale" and f["status"] == "warning" for f in run.report["findings"])
    assert "WVR-STALE | stale (warning)" in (run.reports / "compliance.md").read_text(encoding="utf-8")


def test_inline_checkov_skip_without_a_waiver_fails(
    gate: GateRunner, make_assembly: Callable[..., Path], clean_template: dict[str, Any]
) -> None:
    template = copy.deepcopy(clean_template)
    db = next(r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")
    db.setdefault("Metadata", {})["checkov"] = {"skip": [{"id": "CKV_STG_RDS_1", "comment": "quietly skipped"}]}
    run = gate("--assembly", str(make_assembly("skipped", template)))
    assert run.returncode == 1, run.stderr
    failed = [f for f in run.report["findings"] if f["status"] == "failed"]
    # The skipped check still fails, and the in-template exception itself fails (exceptions live in waivers.yaml).
    assert sorted(f["rule_id"] for f in failed) == ["CKV_STG_RDS_1", "gate:in-template-suppression"]
    assert "without a waiver in policies/" in next(f["message"] for f in failed if f["rule_id"] == "CKV_STG_RDS_1")


def test_waivers_without_data_leave_findings_failing(
    gate: GateRunner, make_assembly: Callable[..., Path], policies_copy: Path
) -> None:
    _edit_waivers(policies_copy, lambda waivers: waivers.clear())
    run = gate("--assembly", str(make_assembly("clean")), "--policies", str(policies_copy))
    assert run.returncode == 1
    failed = {f["rule_id"] for f in run.report["findings"] if f["status"] == "failed"}
    # CDK's own validation warnings (cdk-validate) do not gate in --assembly mode; every other waived rule fails.
    assert {w.rule for w in load_waivers() if w.tool.value != "cdk-validate"} <= failed
