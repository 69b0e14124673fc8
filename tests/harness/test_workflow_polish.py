"""The two workflows, as a reviewer of CI reads them: nothing cancels main, nothing hides a failure,
forks skip what their token cannot do, the assembly the evidence hashes is kept, and a PR comment fits."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _steps(path: Path) -> list[dict[str, Any]]:
    return [step for job in _load(path)["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_only_pull_requests_cancel_their_older_runs(path: Path) -> None:
    assert _load(path)["concurrency"]["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_step_hides_its_failure_and_every_artifact_has_a_retention(path: Path) -> None:
    for step in _steps(path):
        if step.get("name") != "Download every shard's reports":  # no shard at all is the merge's exit 2
            assert "continue-on-error" not in step, step.get("name")
        if step.get("uses", "").startswith("actions/upload-artifact@"):
            assert isinstance(step["with"].get("retention-days"), int), step.get("name")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_steps_a_fork_token_cannot_do_are_skipped_for_forks(path: Path) -> None:
    guarded = ("upload-sarif", "action-junit-report", "actions/attest")
    for step in _steps(path):
        if any(g in step.get("uses", "") for g in guarded) or step.get("name") == "PR comment":
            condition = str(step.get("if", ""))
            assert "fork != true" in condition or "full_name == github.repository" in condition, step.get("name")


def test_the_gate_job_can_upload_sarif_and_keeps_the_assembly() -> None:
    gate = _load(ROOT / ".github" / "workflows" / "compliance.yml")["jobs"]["gate"]
    assert gate["permissions"]["actions"] == "read" and gate["permissions"]["security-events"] == "write"
    kept = [s["with"]["path"] for s in gate["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "cdk.out/" in kept and "reports/" in kept
    matrix = _load(ROOT / ".github" / "workflows" / "compliance-matrix.yml")["jobs"]["gate"]
    kept = [s["with"]["path"] for s in matrix["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert "out/${{ matrix.name }}/" in kept


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_pr_comment_is_cut_to_fit(path: Path, tmp_path: Path) -> None:
    """GitHub refuses a comment over 65,536 characters: the step's own command cuts a long report."""
    [comment] = [s for s in _steps(path) if s.get("name") == "PR comment"]
    line = next(x.strip() for x in comment["run"].splitlines() if x.strip().startswith("python3 -c"))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "compliance.md").write_text("é" * 70_000, encoding="utf-8")
    command = line.rsplit(" > ", 1)[0]  # the step redirects into its comment file; read stdout here
    text = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, check=True).stdout.decode()
    assert 60_000 < len(text) < 60_300 and "cut at 60,000 characters" in text
    (tmp_path / "reports" / "compliance.md").write_text("short report\n", encoding="utf-8")
    assert (
        subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, check=True).stdout
        == b"short report\n"
    )
