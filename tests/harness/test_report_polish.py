"""Small things a reader of the reports trips on: re-run commands pytest can find, a footer that
names every output, and an error said once."""

from __future__ import annotations

import io

import pytest

from harness import run_pytest
from harness.attest import ATTESTATION_DIR
from harness.bundle import CONTROLS_FILE
from harness.cli import error_input
from harness.console import Console
from harness.evidence import EVIDENCE_DIR
from harness.judge import test_findings as findings_of_tests
from harness.oscal import OSCAL_DIR
from harness.reports import BUNDLE_PATHS, render_markdown
from harness.run_pytest import pytest_node_id
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
