"""The pieces the conductor (harness/gate.py) calls: each can fail, and says what it decided.

The gate's own runs cover them end to end (test_gate_app, test_delta, test_policy_change); these
cases pin the edges a whole run does not reach cheaply.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.comparison.base import BaseRequest
from harness.comparison.base_rules import BaseRules, head_rules, judge_by_base_rules, locate_base_rules
from harness.errors import HarnessError
from harness.model import ExitCode, Finding, Source, Status
from harness.reading.assembly import load_assemblies
from harness.verdict.verdicts import assembly_verdict, synthesis_rule_findings
from tests.harness.conftest import ROOT, write_assembly


def _finding(rule: str, *, assembly: str, status: Status = Status.FAILED) -> Finding:
    return Finding(source=Source.PROJECT, rule_id=rule, status=status, title=rule, assembly=assembly)


def test_an_assembly_fails_on_its_own_violations_and_on_the_runs() -> None:
    findings = [
        _finding("STG_B", assembly="a"),
        _finding("STG_A", assembly=""),  # of the run as a whole: every assembly fails with it
        _finding("STG_C", assembly="b"),
        _finding("STG_D", assembly="a", status=Status.PASSED),
        _finding("STG_E", assembly="a", status=Status.NOT_EVALUATED),
    ]
    verdict = assembly_verdict(label="a", path="/x/a", findings=findings)
    assert verdict.exit_code is ExitCode.VIOLATIONS
    assert verdict.failed_rules == ["STG_A", "STG_B", "STG_E"]


def test_an_assembly_with_only_passes_is_clean() -> None:
    verdict = assembly_verdict(label="a", path="/x/a", findings=[_finding("STG_A", assembly="a", status=Status.PASSED)])
    assert (verdict.exit_code, verdict.failed_rules) == (ExitCode.CLEAN, [])


def test_a_refused_synthesis_is_a_violation_per_offence_sorted() -> None:
    found = synthesis_rule_findings("Stack/B missing tag owner; Stack/A has Retain", label="cdk.out")
    assert [(f.rule_id, f.construct_path, f.status) for f in found] == [
        ("synthesis-rule", "Stack/A", Status.FAILED),
        ("synthesis-rule", "Stack/B", Status.FAILED),
    ]
    assert found[0].message == "Stack/A has Retain"


def test_two_assemblies_of_one_name_get_distinct_labels(synthesized: Path, tmp_path: Path) -> None:
    first = write_assembly(synthesized, tmp_path / "one" / "cdk.out")
    second = write_assembly(synthesized, tmp_path / "two" / "cdk.out")
    assert [a.label for a in load_assemblies([first, second, first])] == ["cdk.out", "cdk.out#2", "cdk.out#3"]


def test_without_a_base_rules_source_the_heads_rules_judge_alone(tmp_path: Path) -> None:
    rules = locate_base_rules(BaseRequest(assembly=tmp_path), repository=ROOT, commit="", scratch=tmp_path)
    assert rules.root is None
    assert "judged by the head's rules only" in rules.source
    given = locate_base_rules(BaseRequest(assembly=tmp_path, rules=ROOT), repository=ROOT, commit="", scratch=tmp_path)
    assert given == BaseRules(root=ROOT.resolve(), source=str(ROOT))


def test_the_heads_rules_with_another_policies_dir_are_a_copy_beside_its_spec(tmp_path: Path) -> None:
    assert head_rules(root=ROOT, policies_dir=ROOT / "policies", scratch=tmp_path) == ROOT
    policies = tmp_path / "mine"
    shutil.copytree(ROOT / "policies", policies, ignore=shutil.ignore_patterns("__pycache__"))
    view = head_rules(root=ROOT, policies_dir=policies, scratch=tmp_path / "scratch")
    assert (view / "policies" / "waivers.yaml").is_file()
    assert (view / "infra" / "spec.toml").read_bytes() == (ROOT / "infra" / "spec.toml").read_bytes()


def _never(rules_root: Path, catalog: object) -> list[Finding]:
    raise AssertionError("the same rules judge once")


def test_equal_rules_are_not_judged_twice() -> None:
    record, found = judge_by_base_rules(
        [], head=ROOT, base=BaseRules(root=ROOT, source="main"), accept="", rejudge=_never, progress=lambda _: None
    )
    assert found == []
    assert record.digest == record.base_digest
    assert record.base_source == "main"


def test_base_rules_this_harness_cannot_load_stop_the_gate_unless_accepted(tmp_path: Path) -> None:
    base = tmp_path / "base"
    shutil.copytree(ROOT / "policies", base / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    (base / "policies" / "requirements.yaml").write_text("not: [a, catalog\n", encoding="utf-8")
    rules = BaseRules(root=base, source="main (abc)")
    with pytest.raises(HarnessError, match=r"the base's rules \(main \(abc\)\) cannot be loaded by this harness"):
        judge_by_base_rules([], head=ROOT, base=rules, accept="", rejudge=_never, progress=lambda _: None)
    record, found = judge_by_base_rules(
        [], head=ROOT, base=rules, accept="format change #12", rejudge=_never, progress=lambda _: None
    )
    assert found == []
    assert record.accepted_reason == "format change #12"
    assert "cannot be loaded by this harness" in record.base_source
