"""Every disguised violation of the evasion corpus fails the gate, naming why; the untouched stack stays green.

One gate run (one checkov process, one cdk-nag synthesis) judges the untouched stack, the
stack with migration on, and every case of ``tests/harness/evasions.py`` as separate
assemblies; the tests then read ``compliance.json`` per assembly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.config import MIGRATION_EXAMPLE
from tests.conftest import synth_template
from tests.harness.conftest import GateRun, run_gate, write_assembly
from tests.harness.evasions import EVASIONS, Evasion, by_category

pytestmark = pytest.mark.slow
UNTOUCHED = ("untouched", "untouched-migration")


@pytest.fixture(scope="session")
def evasion_run(synthesized: Path, clean_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("evasions")
    paths = [
        write_assembly(synthesized, base / "untouched"),
        write_assembly(synthesized, base / "untouched-migration", synth_template({"migration": MIGRATION_EXAMPLE})),
    ]
    for case in EVASIONS:
        path = write_assembly(
            synthesized, base / case.name, case.mutate(clean_template), extra_files=case.extra_files(clean_template)
        )
        case.tamper(path)
        paths.append(path)
    # One gate over every case: its time grows with the corpus, and the machine may be shared.
    arguments = [arg for path in paths for arg in ("--assembly", str(path))]
    return run_gate(arguments, reports=base / "reports", timeout=max(1200, 12 * len(paths)))


def _findings(run: GateRun, label: str) -> list[dict[str, Any]]:
    return [f for f in run.report["findings"] if f["assembly"] == label]


def test_the_run_judged_every_assembly(evasion_run: GateRun) -> None:
    assert evasion_run.returncode == 1, evasion_run.stderr[-3000:]
    labels = {a["label"] for a in evasion_run.report["assemblies"]}
    assert labels == {*UNTOUCHED, *(case.name for case in EVASIONS)}


@pytest.mark.parametrize("label", UNTOUCHED)
def test_the_untouched_stack_stays_green(evasion_run: GateRun, label: str) -> None:
    """No false alarm, on CDK's own helper resources included: nothing fails and nothing is left unjudged."""
    gating = [f for f in _findings(evasion_run, label) if f["status"] in ("failed", "not-evaluated")]
    assert evasion_run.assembly(label)["exit_code"] == 0, [
        (f["rule_id"], f["logical_id"], f["message"]) for f in gating
    ]


@pytest.mark.parametrize("case", EVASIONS, ids=lambda c: c.name)
def test_each_disguise_fails_the_gate_and_says_why(evasion_run: GateRun, case: Evasion) -> None:
    verdict = evasion_run.assembly(case.name)
    found = {(f["rule_id"], f["status"]) for f in _findings(evasion_run, case.name)}
    assert verdict["exit_code"] == 1, f"{case.name} ({case.disguise}) passed the gate"
    assert found & case.expected, (
        f"{case.name} ({case.disguise}): expected one of {sorted(case.expected)}, "
        f"the gate reported {sorted(f for f in found if f[1] in ('failed', 'not-evaluated'))}"
    )
    reasons = [f["message"] for f in _findings(evasion_run, case.name) if (f["rule_id"], f["status"]) in case.expected]
    assert all(reason.strip() for reason in reasons), f"{case.name}: a finding without a reason"


def test_every_class_has_at_least_two_disguises() -> None:
    counts = {category: len(cases) for category, cases in by_category().items()}
    expected = {"content", "deploy-time", "coverage", "network", "encryption", "resource-policy", "secrets",
                "spec-values", "waivers", "deployed-bytes", "assets", "code-review", "unreviewed", "behaviour"}  # fmt: skip
    expected |= {"network-tiers", "network-paths", "reachability"}  # tests/harness/corpus_network.py
    expected |= {"behaviour-monitoring"}  # tests/harness/corpus_monitoring.py
    expected |= {"held-out-style"}  # tests/harness/corpus_redteam.py
    expected |= {"held-out-style (second pass)"}  # tests/harness/corpus_second_pass.py
    assert set(counts) == expected
    assert all(count >= 2 for count in counts.values()), counts


def test_each_assembly_keeps_its_own_tool_findings(evasion_run: GateRun) -> None:
    """Identical stacks gated together each report their own (waived) cdk-nag findings: none is folded away."""
    for label in UNTOUCHED:
        waived = {(f["rule_id"], f["waiver_id"]) for f in _findings(evasion_run, label) if f["status"] == "waived"}
        assert ("AwsSolutions::AwsSolutions-RDS11", "WVR-001") in waived, (label, sorted(waived))
