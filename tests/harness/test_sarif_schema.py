"""Every SARIF the gate writes is one GitHub's ``upload-sarif`` accepts: OASIS SARIF 2.1.0 and the action's schema.

In-process here (the check can fail, a stateful replacement's SARIF passes, the vendored schemas
are the ones the README records); tests/harness/conftest.py applies the same check to every
SARIF any harness test's gate run or merge writes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR
from harness.comparison.change_rules import load_change_rules
from harness.comparison.delta import Comparison
from harness.model import ExitCode, Finding, Source, Status
from harness.reporting.reports import ReportInput
from harness.reporting.sarif import render_sarif
from tests.harness.conftest import ROOT
from tests.harness.sarif_schema import SCHEMA_FILES, SCHEMAS, invalid_sarif_files, sarif_problems, schema_digests


def _render(tmp_path: Path, findings: list[Finding], policies: list[dict[str, Any]]) -> dict[str, Any]:
    assembly = tmp_path / "asm"
    assembly.mkdir(parents=True)
    (assembly / "Stack.template.json").write_text('{\n "Resources": {\n  "Db1": {\n   "Type": "X"\n  }\n }\n}\n')
    data = ReportInput(
        exit_code=ExitCode.VIOLATIONS, mode="assembly", error="", findings=findings,
        assemblies=[{"label": "asm", "abs_path": str(assembly), "path": str(assembly), "exit_code": 1, "failed_rules": []}],
        waivers=[], tools=[], requirements=[], policies=policies, mappings=[], mutations=[], root=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(render_sarif(data))
    return result


def _change(rule: str, status: Status) -> Finding:
    return Finding(
        source=Source.CHANGE, rule_id=rule, status=status, title=rule, stack="Stack", logical_id="Db1",
        construct_path="Stack/Db/Resource", resource_type="AWS::RDS::DBInstance", assembly="asm",
        template="Stack.template.json", code_file="infra/domains/database.py", code_line=3,
        waiver_id="WVR-9" if status is Status.WAIVED else "",
    )  # fmt: skip


@pytest.mark.parametrize(
    "statuses",
    [(Status.FAILED, Status.FAILED), (Status.WAIVED, Status.FAILED), (Status.WAIVED, Status.WAIVED)],
    ids=["replaced-and-removed", "replacement-waived", "both-waived"],
)
def test_sarif_of_a_stateful_replacement_or_removal_passes_both_schemas(
    tmp_path: Path, statuses: tuple[Status, Status]
) -> None:
    policies = Comparison(changes=[], findings=[], rules=load_change_rules(POLICIES_DIR)).policy_records()
    assert {p["category"] for p in policies} == {"change"}  # the source's own tag: what once came twice
    findings = [_change("STG_CHG_1", statuses[0]), _change("STG_CHG_2", statuses[1])]
    sarif = _render(tmp_path, findings, policies)
    assert sarif_problems(sarif) == []
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        tags = rule["properties"]["tags"]
        assert len(tags) == len(set(tags)) and "change" in tags and "security" in tags


def test_the_check_fails_a_sarif_upload_sarif_rejects(tmp_path: Path) -> None:
    policies = Comparison(changes=[], findings=[], rules=load_change_rules(POLICIES_DIR)).policy_records()
    sarif = _render(tmp_path, [_change("STG_CHG_1", Status.FAILED)], policies)
    sarif["runs"][0]["tool"]["driver"]["rules"][0]["properties"]["tags"] = ["security", "change", "change"]
    del sarif["runs"][0]["results"][0]["message"]
    path = tmp_path / "broken.sarif"
    path.write_text(json.dumps(sarif), encoding="utf-8")
    problems = invalid_sarif_files([path, tmp_path / "missing.sarif"])
    text = "\n".join(problems)
    for schema in SCHEMA_FILES:
        assert f"{schema}: runs/0/tool/driver/rules/0/properties/tags: " in text and "non-unique" in text
        assert f"{schema}: runs/0/results/0: 'message' is a required property" in text
    assert any("missing.sarif: not readable JSON" in p for p in problems)


def test_the_vendored_schemas_are_the_ones_the_readme_records() -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    digests = schema_digests()
    assert digests == {file: digest for file, digest, _ in SCHEMA_FILES.values()}
    for file, digest in digests.items():
        assert re.search(rf"`{re.escape(file)}`.*`{digest}`", readme), file
