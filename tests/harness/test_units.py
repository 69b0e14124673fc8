"""Fast checks of the gate's pure parts: waiver matching, tool output parsing, assembly loading, reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import Tool, Waiver
from harness.errors import HarnessError
from harness.model import ExitCode, Finding, Source, Status, Subject
from harness.proc import Completed
from harness.reading.assembly import load_assembly
from harness.reporting.report_json import render_json
from harness.reporting.report_junit import render_junit
from harness.reporting.report_markdown import render_markdown
from harness.reporting.reports import ReportInput
from harness.reporting.sarif import render_sarif
from harness.tools.run_cfnlint import parse_cfnlint
from harness.tools.run_checkov import parse_checkov
from harness.tools.waivers import WaiverBook, covers

ROOT = Path(__file__).resolve().parents[2]

TODAY = dt.date(2026, 11, 25)


def _waiver(**overrides: Any) -> Waiver:
    fields: dict[str, Any] = {"id": "WVR-9", "tool": Tool.CHECKOV, "rule": "CKV_AWS_115", "targets": ("Handler1",),
                              "resource_type": "AWS::Lambda::Function", "reason": "why", "owner": "team",
                              "expires": dt.date(2027, 1, 1)}  # fmt: skip
    return Waiver(**{**fields, **overrides})


HANDLER = Subject(stack="S", logical_id="Handler1", construct_path="S/A/Handler", resource_type="AWS::Lambda::Function")


def test_a_waiver_covers_exactly_its_resources() -> None:
    assert covers(_waiver(), HANDLER)
    assert covers(_waiver(targets=("S/A/Handler",)), HANDLER)
    assert not covers(_waiver(targets=("S/A",)), HANDLER), "a construct path names one resource, not its subtree"
    assert not covers(_waiver(resource_type="AWS::IAM::Role"), HANDLER), "bound to the resource type"
    assert not covers(_waiver(stack="Other"), HANDLER)
    borrowed = Subject(**{**HANDLER.__dict__, "ambiguous_path": True, "logical_id": "Evil"})
    assert not covers(_waiver(targets=("S/A/Handler",)), borrowed), "a path two resources claim names neither"


def test_a_subtree_waiver_says_so_and_still_binds_its_type() -> None:
    subtree = _waiver(targets=("S/A",), subtree=True, resource_type="")
    assert covers(subtree, HANDLER)
    assert not covers(subtree, Subject(**{**HANDLER.__dict__, "construct_path": "S/AB/Handler"}))
    typed = _waiver(targets=("S/A",), subtree=True, resource_type="AWS::IAM::Role")
    assert not covers(typed, HANDLER)


def test_waiver_book_matches_counts_and_expires() -> None:
    book = WaiverBook(
        waivers=[_waiver(), _waiver(id="WVR-OLD", rule="CKV_AWS_116", expires=dt.date(2026, 1, 1))], today=TODAY
    )
    assert book.match(tools=[Tool.CHECKOV], rule="CKV_AWS_115", subject=HANDLER) is not None
    assert book.match(tools=[Tool.CFN_LINT], rule="CKV_AWS_115", subject=HANDLER) is None
    old = book.apply(tools=[Tool.CHECKOV], rule="CKV_AWS_116", subject=HANDLER, status=Status.FAILED, message="m")
    assert (old.status, old.waiver_id) == (Status.FAILED, "WVR-OLD") and "expired" in old.message
    waived = book.apply(
        tools=[Tool.CHECKOV], rule="CKV_AWS_115", subject=HANDLER, status=Status.NOT_EVALUATED, message="m"
    )
    assert waived.status is Status.WAIVED
    assert {w.waiver_id: (w.matched, w.expired) for w in book.report()} == {"WVR-9": (2, False), "WVR-OLD": (1, True)}


def test_an_acknowledgement_counts_only_inside_its_waivers_scope() -> None:
    waiver = _waiver(id="WVR-1", tool=Tool.CDK_NAG, rule="AwsSolutions::AwsSolutions-RDS11", targets=("S/Db/Resource",),
                     resource_type="AWS::RDS::DBInstance")  # fmt: skip
    book = WaiverBook(waivers=[waiver], today=TODAY)
    db = Subject(stack="S", logical_id="Db", construct_path="S/Db/Resource", resource_type="AWS::RDS::DBInstance")
    rule = "AwsSolutions::AwsSolutions-RDS11"
    ok = book.acknowledged(reason="WVR-1: default port", rule=rule, tool=Tool.CDK_NAG, subject=db, message="m")
    assert ok.status is Status.WAIVED
    below = Subject(
        stack="S", logical_id="Db2", construct_path="S/Db/Resource/Evil", resource_type="AWS::RDS::DBInstance"
    )
    scoped = book.acknowledged(reason="WVR-1: default port", rule=rule, tool=Tool.CDK_NAG, subject=below, message="m")
    assert scoped.status is Status.FAILED and "does not include" in scoped.message
    other = book.acknowledged(reason="someone's own reason", rule=rule, tool=Tool.CDK_NAG, subject=db, message="m")
    assert other.status is Status.FAILED and "without a waiver" in other.message


def _done(stdout: str, code: int = 0, stderr: str = "") -> Completed:
    return Completed(returncode=code, stdout=stdout, stderr=stderr, duration_s=0.1)


def _checkov_report(resource_count: int, parsing_errors: int = 0) -> dict[str, Any]:
    record = {"check_id": "CKV_AWS_16", "check_name": "encrypted", "resource": "AWS::RDS::DBInstance.Db",
              "file_abs_path": "/x/T.template.json", "check_result": {"result": "PASSED"}}  # fmt: skip
    return {"check_type": "cloudformation", "results": {"passed_checks": [record], "failed_checks": []},
            "summary": {"parsing_errors": parsing_errors, "resource_count": resource_count}}  # fmt: skip


def test_checkov_output_is_trusted_only_when_complete() -> None:
    run = parse_checkov(_done(json.dumps([_checkov_report(1), {"check_type": "secrets"}]), 1), expected_resources=1)
    assert [(r.check_id, r.logical_id, r.resource_type) for r in run.results] == [
        ("CKV_AWS_16", "Db", "AWS::RDS::DBInstance")
    ]
    with pytest.raises(HarnessError, match="could not parse 1 template"):
        parse_checkov(_done(json.dumps(_checkov_report(1, parsing_errors=1)), 1), expected_resources=1)
    with pytest.raises(HarnessError, match="scanned no CloudFormation resources"):
        parse_checkov(_done(json.dumps({"passed": 0, "failed": 0, "resource_count": 0})), expected_resources=3)
    with pytest.raises(HarnessError, match=r"crashed \(exit 2\): Traceback"):
        parse_checkov(_done("", 2, "noise\nTraceback"), expected_resources=1)


def _lint(rule: str, level: str = "Warning") -> dict[str, Any]:
    return {"Filename": "/x/T.template.json", "Level": level, "Message": "m", "Rule": {"Id": rule, "ShortDescription": "d"},
            "Location": {"Path": ["Resources", "Db", "Properties"]}}  # fmt: skip


def test_cfnlint_exit_mask_and_unevaluated_templates() -> None:
    matches = parse_cfnlint(_done(json.dumps([_lint("W3691")]), 4))
    assert [(m.rule_id, m.logical_id) for m in matches] == [("W3691", "Db")]
    assert parse_cfnlint(_done("[]", 0)) == []
    with pytest.raises(HarnessError, match="cfn-lint crashed"):
        parse_cfnlint(_done("", 1, "Traceback"))
    with pytest.raises(HarnessError, match="could not evaluate"):
        parse_cfnlint(_done(json.dumps([_lint("E0000", "Error")]), 2))
    with pytest.raises(HarnessError, match="exited 0"):
        parse_cfnlint(_done(json.dumps([_lint("W3691")]), 0))


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_assembly_with_a_stage_and_path_metadata(tmp_path: Path) -> None:
    _write(
        tmp_path / "manifest.json",
        {
            "artifacts": {
                "assembly-Stg": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stg"}}
            }
        },
    )
    _write(tmp_path / "assembly-Stg" / "manifest.json", {"artifacts": {"Stg-Db": {
        "type": "aws:cloudformation:stack", "environment": "aws://1/eu-west-1", "displayName": "Stg/Db",
        "properties": {"templateFile": "StgDb.template.json"}}}})  # fmt: skip
    _write(tmp_path / "assembly-Stg" / "StgDb.template.json",
           {"Resources": {"Key1": {"Type": "AWS::KMS::Key", "Metadata": {"aws:cdk:path": "Stg/Db/Key/Resource"}}}})  # fmt: skip
    assembly = load_assembly(tmp_path, label="stage")
    (stack,) = assembly.stacks
    assert (stack.stack_id, stack.region, stack.relpath) == ("Stg/Db", "eu-west-1", "assembly-Stg/StgDb.template.json")
    assert stack.construct_path("Key1") == "Stg/Db/Key/Resource" and assembly.resource_count == 1


def test_malformed_manifest_is_a_harness_failure(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(HarnessError, match="malformed cloud assembly manifest"):
        load_assembly(tmp_path)


def _input(findings: list[Finding], error: str = "") -> ReportInput:
    return ReportInput(
        exit_code=ExitCode.HARNESS_FAILURE if error else ExitCode.VIOLATIONS, mode="assembly", error=error,
        findings=findings, assemblies=[], waivers=[], tools=[], requirements=[], policies=[], mappings=[],
        mutations=[], root=Path("/"),
    )  # fmt: skip


def test_reports_render_identically_and_say_why_the_gate_errored() -> None:
    finding = Finding(source=Source.PROJECT, rule_id="CKV_STG_RDS_1", status=Status.FAILED, title="deletion protection",
                      logical_id="Db", construct_path="S/Db/Resource", remediation="set it")  # fmt: skip
    first = [render(_input([finding])) for render in (render_markdown, render_json, render_junit, render_sarif)]
    assert first == [render(_input([finding])) for render in (render_markdown, render_json, render_junit, render_sarif)]
    errored = _input([], error="checkov is missing: /nope does not exist")
    assert "ERROR" in render_markdown(errored) and "checkov is missing" in render_markdown(errored)
    assert json.loads(render_json(errored))["exit_code"] == 2
    assert "checkov is missing" in render_junit(errored)


def test_test_files_are_balanced_over_the_cpus() -> None:
    from harness.tools.run_pytest import FILE_GROUPS, FILE_WEIGHTS, TIERS, plan_groups, tier_files  # noqa: PLC0415

    files = [f for tier in TIERS for f in tier_files(ROOT, tier)]
    assert set(FILE_WEIGHTS) <= set(files), "a weight names a test file that no longer exists"
    assert {f for group in FILE_GROUPS for f in group} <= set(files), "a group names a test file that no longer exists"
    two = plan_groups(files, processes=2)
    assert sorted(f for group in two for f in group) == sorted(files)  # every file once
    loads = [sum(FILE_WEIGHTS.get(f, 0.5) for f in group) for group in two]
    assert max(loads) - min(loads) <= max(FILE_WEIGHTS.values()) / 2  # no CPU left waiting for the other
    for companions in FILE_GROUPS:  # files sharing a session fixture share a process
        assert any(set(companions) <= set(group) for group in two)
    assert plan_groups(files, processes=1) == [tuple(sorted(files))]
    assert plan_groups(["tests/unit/test_a.py"], processes=8) == [("tests/unit/test_a.py",)]
    assert plan_groups(files, processes=2) == two  # deterministic


def test_the_last_runs_durations_balance_the_next_split(tmp_path: Path) -> None:
    from harness.tools.run_pytest import TestCase, TestRun, plan_groups, read_durations, write_durations  # noqa: PLC0415

    root = tmp_path
    for name in ("a", "b", "c"):
        (root / "tests" / "unit").mkdir(parents=True, exist_ok=True)
        (root / "tests" / "unit" / f"test_{name}.py").write_text("", encoding="utf-8")
    run = TestRun(
        cases=[
            TestCase(nodeid="tests.unit.test_a::test_one", tier="unit", outcome="passed", duration_s=6.0),
            TestCase(nodeid="tests.unit.test_a::test_two", tier="unit", outcome="failed", duration_s=4.0),
            TestCase(nodeid="tests.unit.test_b::test_one", tier="unit", outcome="passed", duration_s=5.0),
            TestCase(nodeid="tests.unit.test_c::test_one", tier="unit", outcome="passed", duration_s=4.5),
        ]
    )
    durations = root / ".cache" / "test-durations.json"
    write_durations(durations, run, root=root)
    measured = read_durations(durations)
    assert measured == {"tests/unit/test_a.py": 10.0, "tests/unit/test_b.py": 5.0, "tests/unit/test_c.py": 4.5}
    files = ["tests/unit/test_a.py", "tests/unit/test_b.py", "tests/unit/test_c.py"]
    # Unmeasured, all weigh the same: a and c share a process. Measured, a (10 s) runs alone.
    assert plan_groups(files, processes=2) == [
        ("tests/unit/test_a.py", "tests/unit/test_c.py"),
        ("tests/unit/test_b.py",),
    ]
    assert plan_groups(files, processes=2, measured=measured) == [
        ("tests/unit/test_a.py",),
        ("tests/unit/test_b.py", "tests/unit/test_c.py"),
    ]


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"tests/unit/test_a.py": "slow", "b": true, "c": -1}'])
def test_an_unreadable_durations_file_balances_by_the_static_weights(tmp_path: Path, content: str) -> None:
    from harness.tools.run_pytest import read_durations  # noqa: PLC0415

    (tmp_path / "d.json").write_text(content, encoding="utf-8")
    assert read_durations(tmp_path / "d.json") == {}
    assert read_durations(tmp_path / "missing.json") == {}
