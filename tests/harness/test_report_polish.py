"""Small things a reader of the reports trips on: re-run commands pytest can find, a footer that
names every output, and an error said once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import pytest

from harness.audit.attest import ATTESTATION_DIR
from harness.audit.bundle import CONTROLS_FILE
from harness.audit.evidence import EVIDENCE_DIR
from harness.audit.oscal import OSCAL_DIR
from harness.model import Finding, Source, Status
from harness.reporting.console import Console
from harness.reporting.report_fields import error_input
from harness.reporting.report_markdown import render_markdown
from harness.reporting.reports import BUNDLE_PATHS
from harness.tools import run_pytest
from harness.tools.run_pytest import pytest_node_id
from harness.verdict.judge import test_findings as findings_of_tests
from tests.harness.conftest import ROOT


@pytest.mark.parametrize(
    ("junit_id", "node_id"),
    [
        ("tests.unit.test_spec::test_x[a.b]", "tests/unit/test_spec.py::test_x[a.b]"),
        ("tests.harness.test_units.TestThing::test_y", "tests/harness/test_units.py::TestThing::test_y"),
        ("no.such.module::test_z", "no.such.module::test_z"),  # as given: nothing better is known
    ],
)
def test_junit_ids_become_node_ids_pytest_finds(junit_id: str, node_id: str) -> None:
    assert pytest_node_id(junit_id, root=ROOT) == node_id


def test_a_failing_test_says_how_to_re_run_it() -> None:
    run = run_pytest.TestRun(
        cases=[run_pytest.TestCase(nodeid="tests.unit.test_spec::test_x", tier="unit", outcome="failed")]
    )
    [finding] = findings_of_tests(run, label="cdk.out", root=ROOT)
    assert "`nox -s tests -- tests/unit/test_spec.py::test_x`" in finding.remediation


def test_the_footer_names_every_output() -> None:
    assert (CONTROLS_FILE, f"{EVIDENCE_DIR}/", f"{OSCAL_DIR}/", f"{ATTESTATION_DIR}/") == BUNDLE_PATHS
    footer = render_markdown(error_input(mode="synth", error="x")).strip().splitlines()[-1]
    for name in ("compliance.sarif", "controls.md", "evidence/", "oscal/", "attestation/"):
        assert f"`reports/{name}`" in footer


def test_the_summary_leaves_the_error_to_the_one_line_after_it() -> None:
    out = io.StringIO()
    Console(stream=out, quiet=True).summary(error_input(mode="synth", error="the reason"), report_dir="reports")
    assert "the reason" not in out.getvalue() and "verdict: ERROR (exit 2)" in out.getvalue()


def test_checkov_rows_carry_the_checks_title() -> None:
    title = "Ensure that AWS Lambda function is configured inside a VPC"
    waived = Finding(source=Source.CHECKOV, rule_id="CKV_AWS_117", status=Status.WAIVED, title=title, waiver_id="W-1")
    failed = Finding(source=Source.CHECKOV, rule_id="CKV_AWS_116", status=Status.FAILED, title="DLQ", message="m")
    data = dataclasses.replace(error_input(mode="assembly", error=""), findings=[waived, failed])
    text = render_markdown(data)
    assert f"| W-1 | `CKV_AWS_117`<br>{title} |" in text
    assert "| `CKV_AWS_116`<br>DLQ | checkov |" in text


def test_a_failing_builtin_check_says_what_it_wants(tmp_path: Path) -> None:
    from harness.tools.waivers import WaiverBook  # noqa: PLC0415
    from harness.verdict.judge import WorldVerdict, checkov_finding  # noqa: PLC0415
    from tests.harness.test_one_finding_once import _stack  # noqa: PLC0415

    finding = checkov_finding(
        "CKV_AWS_16", "Ensure all data stored in the RDS is securely encrypted at rest",
        WorldVerdict(world="", status=Status.FAILED), stack=_stack(tmp_path / "asm"), logical_id="Db1", policy=None,
        book=WaiverBook(waivers=[], today=dt.date(2026, 6, 1)),
    )  # fmt: skip
    assert (
        finding.message == "CKV_AWS_16 failed on Db1: Ensure all data stored in the RDS is securely encrypted at rest"
    )
