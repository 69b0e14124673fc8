"""A hostile assembly in the evidence path: one line, never a traceback or a crash.

The evidence (evidence.json, SHA256SUMS, the statement, ``python -m harness verify``) hashes every
file of an assembly; it walks the assembly through harness.reading.inputs, which refuses or skips what is
not a regular file inside it (a symbolic-link loop, a FIFO, a link out of the assembly).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.audit.evidence import assembly_files
from harness.cli import main
from harness.errors import HarnessError
from harness.reading.inputs import inside
from tests.harness.conftest import GATE_TODAY, checkov_bin


def _hostile(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "manifest.json").write_text("{not json", encoding="utf-8")
    (directory / "kept.json").write_text("{}", encoding="utf-8")
    (directory / "loop-a").symlink_to("loop-b")
    (directory / "loop-b").symlink_to("loop-a")
    os.mkfifo(directory / "pipe")
    outside = directory.parent / "outside.txt"
    outside.write_text("secret", encoding="utf-8")
    (directory / "out").symlink_to(outside)
    return directory


def test_the_evidence_hashes_only_regular_files_inside_the_assembly(tmp_path: Path) -> None:
    assembly = _hostile(tmp_path / "cdk.out")
    assert [p.name for p in assembly_files(assembly)] == ["kept.json", "manifest.json"]


def test_a_symbolic_link_loop_named_by_a_manifest_is_refused_in_one_line(tmp_path: Path) -> None:
    assembly = _hostile(tmp_path / "cdk.out")
    with pytest.raises(HarnessError, match=r"loop-a") as refused:
        inside(assembly, "loop-a", what="templateFile", owner=assembly / "manifest.json")
    assert "\n" not in str(refused.value)


def test_a_hostile_assembly_is_one_line_through_the_gate_and_its_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = _hostile(tmp_path / "cdk.out")
    reports = tmp_path / "reports"
    argv = ["--assembly", str(assembly), "--reports", str(reports), "-q", "--checkov", checkov_bin()]
    code = main([*argv, "--today", GATE_TODAY])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("compliance gate error:")]
    assert len(errors) == 1 and "manifest.json" in errors[0] and "crashed" not in errors[0], err
    report = json.loads((reports / "compliance.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 2 and "manifest.json" in report["error"]
    evidence = json.loads((reports / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    hashed = [f["path"] for a in evidence["assemblies"] for f in a["files"]]
    assert hashed == ["kept.json", "manifest.json"]
