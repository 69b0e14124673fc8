"""One finding once: the same rule on the same resource is one finding, whichever cdk-nag run saw it.

In synthesis mode the packs run on the constructs and again on the templates (CfnInclude); each
reported the instance's problems, so compliance.json, JUnit and SARIF listed them twice (and the
waivers matched twice). In-process on a one-resource assembly, then through the gate's command
line in synthesis mode; and one code scanning uploader across the two workflows.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

from harness.reading.assembly import StackTemplate, load_assembly
from harness.tools.nag import NagOutcome, NagViolation
from harness.tools.waivers import WaiverBook
from harness.verdict.judge import nag_findings
from tests.harness.conftest import ROOT, GateRunner

PATH = "Stack/Database/Instance/Resource"


def _stack(directory: Path) -> StackTemplate:
    directory.mkdir(parents=True)
    body = {
        "Resources": {"Db1": {"Type": "AWS::RDS::DBInstance", "Metadata": {"aws:cdk:path": PATH}, "Properties": {}}}
    }
    (directory / "Stack.template.json").write_text(json.dumps(body), encoding="utf-8")
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "Stack": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/us-east-1",
                "properties": {"templateFile": "Stack.template.json"},
            }
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return load_assembly(directory).stacks[0]


def _violation(*, logical_id: str, rule: str = "AwsSolutions-RDS11") -> NagViolation:
    return NagViolation(
        plugin="AwsSolutions", rule=rule, description="d", severity="error", construct_path=PATH, logical_id=logical_id
    )


def test_the_construct_and_the_template_run_report_one_finding(tmp_path: Path) -> None:
    stack = _stack(tmp_path / "asm")
    book = WaiverBook(waivers=[], today=dt.date(2026, 6, 1))
    seen: set[tuple[str, str, str]] = set()
    # The construct-level run names no logical id; the template-level run names it.
    construct = nag_findings(
        NagOutcome(violations=[_violation(logical_id="")]), stack=stack, world="", book=book, seen=seen
    )
    template = nag_findings(
        NagOutcome(violations=[_violation(logical_id="Db1"), _violation(logical_id="Db1", rule="AwsSolutions-RDS3")]),
        stack=stack, world="", book=book, seen=seen,
    )  # fmt: skip
    assert [(f.rule_id, f.logical_id) for f in construct] == [("AwsSolutions::AwsSolutions-RDS11", "Db1")]
    # The repeat is dropped; another rule on the same resource stays.
    assert [(f.rule_id, f.logical_id) for f in template] == [("AwsSolutions::AwsSolutions-RDS3", "Db1")]


def test_no_finding_twice_in_any_report_of_a_synthesis_run(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--no-tests", "--out", str(tmp_path / "cdk.out"))
    assert run.returncode == 0, run.stderr
    findings = run.report["findings"]
    keys = Counter(
        (f["source"], f["rule_id"], f["assembly"], f["stack"], f["logical_id"] or f["construct_path"], f["world"])
        for f in findings
    )
    assert [k for k, n in keys.items() if n > 1] == []
    assert sum(1 for f in findings if f["source"] == "cdk-nag") > 0
    assert all(w["matched"] <= 1 for w in run.report["waivers"] if w["tool"] == "cdk-nag"), run.report["waivers"]
    cases = Counter(
        (case.get("classname"), case.get("name"))
        for case in ET.parse(run.reports / "compliance.junit.xml").getroot().iter("testcase")
    )
    assert [c for c, n in cases.items() if n > 1] == []
    sarif = json.loads((run.reports / "compliance.sarif").read_text(encoding="utf-8"))
    prints = Counter(r["partialFingerprints"]["primaryLocationLineHash"] for rn in sarif["runs"] for r in rn["results"])
    assert all(p.endswith(":1") for p in prints) and all(n == 1 for n in prints.values()), prints


def test_one_code_scanning_uploader_across_the_workflows() -> None:
    """The matrix gates the staging app too: two uploads under two categories made one line two alerts."""
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    uploading = [w.name for w in workflows if "codeql-action/upload-sarif@" in w.read_text(encoding="utf-8")]
    assert uploading == ["compliance.yml"]
