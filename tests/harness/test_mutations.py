"""The mutation suite: every spec violation injected into the real template fails the gate by name.

The stack is synthesized once; each mutant is a copy of its template with one violation,
in its own cloud assembly. One gate run (one checkov process, one cfn-lint process, one
CfnInclude synthesis) judges all of them plus the untouched stack, and the per-assembly
verdicts in ``compliance.json`` are checked: the untouched stack exits 0, every mutant 1,
naming every policy id its mutation targets.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.verdict.mutations import MUTATIONS, Mutation
from tests.harness.conftest import GateRun

pytestmark = pytest.mark.slow


def test_the_untouched_stack_passes(mutation_run: GateRun) -> None:
    verdict = mutation_run.assembly("untouched")
    assert verdict["exit_code"] == 0, verdict["failed_rules"]


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_mutant_fails_naming_its_policy(mutation_run: GateRun, mutation: Mutation) -> None:
    verdict = mutation_run.assembly(mutation.name)
    assert verdict["exit_code"] == 1, f"{mutation.description}: gate passed"
    missing = mutation.expected - set(verdict["failed_rules"])
    assert not missing, f"{mutation.description}: failed {verdict['failed_rules']}, not {sorted(missing)}"


def test_the_batch_exits_1_and_reports_every_assembly(mutation_run: GateRun) -> None:
    assert mutation_run.returncode == 1, mutation_run.stderr
    labels = {a["label"] for a in mutation_run.report["assemblies"]}
    assert labels == {"untouched", *(m.name for m in MUTATIONS)}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.name)
def test_mutation_changes_the_template(clean_template: dict[str, Any], mutation: Mutation) -> None:
    assert mutation.mutate(clean_template) != clean_template
