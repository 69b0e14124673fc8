"""One exit-code contract: once the reports are cleared, any failure is exit 2 with one line.

A renderer that crashes (an exception other than HarnessError/OSError) used to escape the ERROR
report's own rendering and end in a traceback with exit 1 and no ``compliance.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harness.reporting.report_files
from harness.cli import main
from tests.harness.conftest import GATE_TODAY, checkov_bin


def _crash(_data: object) -> str:
    raise RuntimeError("renderer on fire")


def test_a_renderer_that_crashes_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness.reporting.report_files, "render_markdown", _crash)
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "compliance.md").write_text("# PASS\n", encoding="utf-8")  # an earlier run's report
    argv = ["--assembly", str(tmp_path / "no-such-assembly"), "--reports", str(reports), "-q"]
    code = main([*argv, "--checkov", checkov_bin(), "--today", GATE_TODAY])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("compliance gate error:")]  # besides the summary
    assert len(errors) == 1 and "RuntimeError: renderer on fire" in errors[0], err
    # The verdict machines read is still there (the broken renderer's report is not), and it is an ERROR.
    report = json.loads((reports / "compliance.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 2 and report["verdict"] == "ERROR"
    assert not (reports / "compliance.md").exists()
