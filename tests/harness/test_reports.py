"""The reports of one gate run (the mutation batch): shapes, sorting, determinism, auditor views."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from harness.catalog import load_requirements
from harness.model import Finding, Source, Status
from harness.verdict.mutations import MUTATIONS
from tests.harness.conftest import GateRun

pytestmark = pytest.mark.slow
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _text(run: GateRun, name: str) -> str:
    return (run.reports / name).read_text(encoding="utf-8")


def test_json_findings_are_sorted_and_complete(mutation_run: GateRun) -> None:
    report = mutation_run.report
    findings = [
        Finding(**{**f, "source": Source(f["source"]), "status": Status(f["status"])}) for f in report["findings"]
    ]
    assert findings == sorted(findings, key=Finding.sort_key)
    assert report["exit_code"] == 1 and report["verdict"] == "FAIL"
    assert {"cdk-nag", "checkov", "project", "cfn-lint"} <= set(report["counts"])


@pytest.mark.parametrize("name", ["compliance.md", "compliance.json", "compliance.junit.xml", "compliance.sarif"])
def test_reports_hold_no_timestamps(mutation_run: GateRun, name: str) -> None:
    assert not TIMESTAMP.search(_text(mutation_run, name))


def test_junit_has_a_case_per_check_and_resource(mutation_run: GateRun) -> None:
    root = ET.fromstring(_text(mutation_run, "compliance.junit.xml"))
    cases = list(root.iter("testcase"))
    findings = mutation_run.report["findings"]
    assert len(cases) == len(findings)
    gating = sum(f["status"] in ("failed", "not-evaluated") for f in findings)  # NOT EVALUATED is a failure too
    assert sum(1 for c in cases if c.find("failure") is not None) == gating
    assert sum(1 for c in cases if c.find("skipped") is not None) == sum(f["status"] == "waived" for f in findings)


def test_sarif_has_rule_metadata_and_template_locations(mutation_run: GateRun) -> None:
    sarif: dict[str, Any] = json.loads(_text(mutation_run, "compliance.sarif"))
    assert sarif["version"] == "2.1.0"
    results = [(run, r) for run in sarif["runs"] for r in run["results"]]
    assert results
    for run, result in results:
        rule = run["tool"]["driver"]["rules"][result["ruleIndex"]]
        assert rule["id"] == result["ruleId"] and rule["shortDescription"]["text"] and rule["help"]["text"]
    located = [r for _, r in results if r["level"] == "error" and "locations" in r]
    assert located
    for result in located:
        location = result["locations"][0]
        assert location["physicalLocation"]["artifactLocation"]["uri"].endswith(".template.json")
        assert location["physicalLocation"]["region"]["startLine"] > 1
        assert location["logicalLocations"][0]["name"]


def test_markdown_names_policy_resource_path_and_remediation(mutation_run: GateRun) -> None:
    markdown = _text(mutation_run, "compliance.md")
    assert markdown.startswith("# ❌ Compliance gate: FAIL")
    row = next(
        line for line in markdown.splitlines() if "`CKV_STG_RDS_1`" in line and "deletion-protection-off" in line
    )
    assert "DatabaseInstance" in row and "StagingDatabase/Database/Instance" in row and "deletion_protection" in row
    assert "## Waived" in markdown and "WVR-001" in markdown
    assert len(markdown) < 65_536  # fits a PR comment


def test_traceability_covers_every_requirement_with_mutations(mutation_run: GateRun) -> None:
    matrix = _text(mutation_run, "traceability.md")
    for requirement in load_requirements():
        assert f"| {requirement.id} |" in matrix
    for mutation in MUTATIONS:
        assert f"mutation:{mutation.name}" in matrix


def test_catalog_lists_every_policy(mutation_run: GateRun) -> None:
    catalog = _text(mutation_run, "policy-catalog.md")
    project = {f["rule_id"] for f in mutation_run.report["findings"] if f["source"] == "project"}
    assert project and all(policy_id in catalog for policy_id in project)


def test_auditor_bundle_of_the_run(mutation_run: GateRun) -> None:
    """Controls on every finding and SARIF rule, a roll-up, evidence, OSCAL, and a traceability that claims only what ran."""
    from trestle.oscal.assessment_results import AssessmentResults  # noqa: PLC0415

    report = mutation_run.report
    keys = {"pci-dss-4.0.1", "nist-800-53-r5", "aws-fsbp"}
    assert all(set(f["controls"]) == keys for f in report["findings"])
    assert any(f["controls"]["pci-dss-4.0.1"] for f in report["findings"] if f["source"] == "cdk-nag")
    statuses = {c["status"] for c in report["controls"]}
    assert {"not satisfied", "not assessed"} <= statuses
    sarif: dict[str, Any] = json.loads(_text(mutation_run, "compliance.sarif"))
    rules = [r for run in sarif["runs"] for r in run["tool"]["driver"]["rules"]]
    assert any(set(r["properties"].get("controls", {})) == keys for r in rules)
    packs = [p for tool in report["tools"] for p in tool.get("packs", [])]
    assert packs and all(p["resources"] > 0 for p in packs)
    assert any("PCI DSS 3.2.1" in p["label"] for p in packs) and not any("HIPAA" in p["name"] for p in packs)
    matrix = _text(mutation_run, "traceability.md")
    assert "not run in this gate" in matrix
    assert "## cdk-nag packs: what each evaluated" in matrix
    results: Any = AssessmentResults.oscal_read(mutation_run.reports / "oscal" / "assessment-results.json")
    assert results is not None and results.results[0].observations
    evidence = json.loads(_text(mutation_run, "evidence/evidence.json"))
    assert len(evidence["assemblies"]) == len(MUTATIONS) + 1 and evidence["verdict"]["verdict"] == "FAIL"
    assert any(t["tool"] == "checkov" and t["version"][0].isdigit() for t in evidence["tools"])
