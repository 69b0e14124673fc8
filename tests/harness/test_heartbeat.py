"""Issue 19: a line at least every interval while a long stage runs (synthesis, cdk-nag, checkov,
cfn-lint, the tiers, the base), naming the stage, its elapsed time and how far the tiers are."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from harness.heartbeat import HEARTBEAT_INTERVAL_S, Heartbeat
from harness.reporting.console import Console
from harness.tools.run_pytest import collect_pytest, read_progress, start_pytest, tiers_progress


def _slow_stage(heartbeat: Heartbeat, *, seconds: float, detail: str = "") -> None:
    with heartbeat.stage("synth", detail=(lambda: detail) if detail else None):
        time.sleep(seconds)


def test_a_slow_stage_reports_its_name_and_elapsed_time_every_interval() -> None:
    lines: list[str] = []
    _slow_stage(Heartbeat(progress=lines.append, interval_s=0.05), seconds=0.4, detail="3 of 9 test(s) done")
    assert len(lines) >= 3, lines  # ~7 expected; a loaded machine still gets a few
    assert all(line.startswith("synth: still running after ") for line in lines), lines
    assert all(line.endswith(" s; 3 of 9 test(s) done") for line in lines), lines


def test_a_quick_stage_says_nothing_and_leaves_no_thread() -> None:
    lines: list[str] = []
    before = threading.active_count()
    _slow_stage(Heartbeat(progress=lines.append, interval_s=5.0), seconds=0.0)
    assert lines == []
    assert threading.active_count() == before


def test_the_beat_stops_when_the_stage_raises() -> None:
    lines: list[str] = []
    heartbeat = Heartbeat(progress=lines.append, interval_s=0.02)
    try:
        with heartbeat.stage("checkov"):
            raise RuntimeError("the stage failed")
    except RuntimeError:
        pass
    count = len(lines)
    time.sleep(0.1)
    assert len(lines) == count


def test_an_unreadable_detail_leaves_the_line_without_it() -> None:
    def unreadable() -> str:
        raise OSError("being written")

    lines: list[str] = []
    with Heartbeat(progress=lines.append, interval_s=0.02).stage("tests (unit)", detail=unreadable):
        time.sleep(0.1)
    assert lines
    assert all(line.startswith("tests (unit): still running after ") and ";" not in line for line in lines)


def test_what_runs_in_the_background_is_on_every_line() -> None:
    lines: list[str] = []
    heartbeat = Heartbeat(progress=lines.append, interval_s=0.02)
    heartbeat.background = lambda: "tests: 12 of 200 test(s) done"
    with heartbeat.stage("synth"):
        time.sleep(0.1)
    assert lines
    assert all(line.startswith("synth: still running after ") for line in lines)
    assert all(line.endswith(" s; tests: 12 of 200 test(s) done") for line in lines), lines


def test_quiet_silences_the_heartbeat_with_the_other_progress_lines() -> None:
    out = io.StringIO()
    _slow_stage(Heartbeat(progress=Console(stream=out, quiet=True).progress, interval_s=0.02), seconds=0.1)
    assert out.getvalue() == ""
    loud = io.StringIO()
    _slow_stage(Heartbeat(progress=Console(stream=loud).progress, interval_s=0.02), seconds=0.1)
    assert "synth: still running after" in loud.getvalue()


def test_the_interval_is_ten_seconds_at_most() -> None:
    assert HEARTBEAT_INTERVAL_S <= 10.0


def test_the_tier_processes_report_tests_done_of_collected(tmp_path: Path) -> None:
    root = tmp_path / "checkout"  # any checkout: the plugin comes from the gate, not from it
    (root / "tests" / "unit").mkdir(parents=True)
    (root / "tests" / "unit" / "test_three.py").write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2, 3])\ndef test_n(n):\n    assert n\n", encoding="utf-8"
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    groups = start_pytest(root=root, tiers=["unit"], scratch=scratch, processes=1)
    run = collect_pytest(groups, junit_xml=tmp_path / "tests.junit.xml")
    assert run.count("passed") == 3
    [group] = groups
    assert group.progress_file is not None
    assert read_progress(group.progress_file) == (3, 3)
    assert tiers_progress(groups) == "3 of 3 test(s) done"


def test_progress_before_collection_reads_as_collecting(tmp_path: Path) -> None:
    assert read_progress(tmp_path / "absent.progress") is None
    (tmp_path / "half.progress").write_text("12", encoding="utf-8")  # the count's line not yet ended
    assert read_progress(tmp_path / "half.progress") is None
    (tmp_path / "some.progress").write_text("12\n.....", encoding="utf-8")
    assert read_progress(tmp_path / "some.progress") == (5, 12)
