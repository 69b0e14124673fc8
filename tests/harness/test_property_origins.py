"""The line that did it: a finding about a property points at the line that set that property.

Recorded at synthesis (harness.reading.sources): each keyword argument of a construct call and, when it
reads the spec (``spec().database.multi_az``), the ``infra/spec.toml`` line. In-process first
(the map, the matching of a message to a keyword, the SARIF locations), then end to end: an app
with Multi-AZ switched off in ``infra/`` and one with deletion protection switched off in
``infra/spec.toml``, each synthesized from its own copy of the app and gated in one run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.comparison.base import BOOTSTRAP
from harness.model import ExitCode, Finding, Source, Status
from harness.reading.sources import (
    SOURCES_FILE,
    PropertyOrigin,
    SourceLine,
    SourceMap,
    keyword_of,
    locate_properties,
    read_source_map,
)
from harness.reporting.reports import ReportInput
from harness.reporting.sarif import render_sarif
from tests.harness.conftest import ROOT, GateRun, run_gate

DATABASE = "infra/domains/database.py"
INSTANCE = "StagingDatabase/Database/Instance"


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("MultiAZ is false, not true", "multi_az"),
        ("Properties.DeletionProtection is not set: the spec asks for true", "deletion_protection"),
        ("BackupRetentionPeriod is 1, not 7", "backup_retention"),
        ("The RDS instance does not have Multi-AZ support", ""),  # cdk-nag's words name no property
        ("Port is 5432", "port"),
    ],
)
def test_a_message_names_the_keyword_that_set_its_property(message: str, expected: str) -> None:
    keywords = ["multi_az", "deletion_protection", "backup_retention", "port", "engine"]
    assert keyword_of(message, keywords) == expected


def _map() -> SourceMap:
    keyword = SourceLine(file=DATABASE, line=134)
    return SourceMap(
        constructs={INSTANCE: SourceLine(file=DATABASE, line=121)},
        properties={
            INSTANCE: {
                "multi_az": PropertyOrigin(keyword=keyword, value=SourceLine(file="infra/spec.toml", line=56)),
                "port": PropertyOrigin(keyword=SourceLine(file=DATABASE, line=132)),
            }
        },
    )


def test_the_map_round_trips_properties_and_refuses_outside_paths(tmp_path: Path) -> None:
    (tmp_path / SOURCES_FILE).write_text(_map().render(), encoding="utf-8")
    assert read_source_map(tmp_path) == _map()
    body = json.loads(_map().render())
    body["constructs"][INSTANCE]["properties"]["port"] = {"file": "/etc/passwd", "line": 1}
    body["constructs"][INSTANCE]["properties"]["multi_az"]["value"] = {"file": "../spec.toml", "line": 1}
    (tmp_path / SOURCES_FILE).write_text(json.dumps(body), encoding="utf-8")
    found = read_source_map(tmp_path).keywords(f"{INSTANCE}/Resource")
    assert set(found) == {"multi_az"} and found["multi_az"].value is None


def _finding(message: str) -> Finding:
    return Finding(
        source=Source.PROJECT, rule_id="CKV_STG_RDS_6", status=Status.FAILED, title="t", message=message,
        stack="StagingDatabase", logical_id="Db1", construct_path=f"{INSTANCE}/Resource", assembly="asm",
        template="Stack.template.json", code_file=DATABASE, code_line=121,
    )  # fmt: skip


def _sarif_result(tmp_path: Path, finding: Finding) -> dict[str, Any]:
    assembly = tmp_path / "asm"
    assembly.mkdir(parents=True, exist_ok=True)
    (assembly / "Stack.template.json").write_text('{\n "Resources": {\n  "Db1": {\n   "Type": "X"\n  }\n }\n}\n')
    data = ReportInput(
        exit_code=ExitCode.VIOLATIONS, mode="assembly", error="", findings=[finding],
        assemblies=[{"label": "asm", "abs_path": str(assembly), "path": str(assembly), "exit_code": 1, "failed_rules": []}],
        waivers=[], tools=[], requirements=[], policies=[], mappings=[], mutations=[], root=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(render_sarif(data))["runs"][0]["results"][0]
    return result


def _where(location: dict[str, Any]) -> tuple[str, int]:
    physical = location["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical["region"]["startLine"]


def test_sarif_puts_a_spec_value_on_the_spec_line_with_the_keyword_construct_and_template_related(
    tmp_path: Path,
) -> None:
    [located] = locate_properties([_finding("MultiAZ is false, not true")], {"asm": _map()})
    assert (located.property_name, located.property_line, located.value_line) == ("multi_az", 134, 56)
    result = _sarif_result(tmp_path, located)
    assert _where(result["locations"][0]) == ("infra/spec.toml", 56)
    assert [_where(r) for r in result["relatedLocations"]] == [
        (DATABASE, 134), (DATABASE, 121), ("Stack.template.json", 3)
    ]  # fmt: skip
    [plain] = locate_properties([_finding("Port is 5432, not 5433")], {"asm": _map()})
    result = _sarif_result(tmp_path / "plain", plain)
    assert _where(result["locations"][0]) == (DATABASE, 132)
    assert [_where(r) for r in result["relatedLocations"]] == [(DATABASE, 121), ("Stack.template.json", 3)]
    [unnamed] = locate_properties([_finding("the instance is not in a backup plan")], {"asm": _map()})
    assert _where(_sarif_result(tmp_path / "unnamed", unnamed)["locations"][0]) == (DATABASE, 121)


# ------------------------------------------------------------------------------------------- end to end


def _synthesize_copy(tmp_path: Path, name: str, *, edit: tuple[str, str, str]) -> Path:
    """The app copied to its own checkout with one line edited, synthesized as the gate synthesizes a base."""
    checkout = tmp_path / f"{name}-checkout"
    shutil.copytree(ROOT / "infra", checkout / "infra", ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("app.py", "cdk.json"):
        shutil.copyfile(ROOT / file, checkout / file)
    file, old, new = edit
    text = (checkout / file).read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (checkout / file).write_text(text.replace(old, new), encoding="utf-8")
    outdir = tmp_path / f"{name}.out"
    done = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, str(checkout), str(outdir), str(ROOT / "harness" / "reading" / "sources.py")],
        cwd=checkout, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return outdir


@pytest.fixture(scope="module")
def switched_off(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("property-origins")
    in_infra = _synthesize_copy(
        base, "infra", edit=(DATABASE, "multi_az=spec().database.multi_az,", "multi_az=False,")
    )  # fmt: skip
    in_spec = _synthesize_copy(
        base, "spec", edit=("infra/spec.toml", "deletion_protection = true", "deletion_protection = false")
    )  # fmt: skip
    return run_gate(["--assembly", str(in_infra), "--assembly", str(in_spec)], reports=base / "reports")


def _alerts(run: GateRun, rule: str, label: str) -> list[dict[str, Any]]:
    sarif = json.loads((run.reports / "compliance.sarif").read_text(encoding="utf-8"))
    findings = [f for f in run.report["findings"] if f["rule_id"] == rule and f["assembly"] == label]
    assert findings and all(f["status"] == "failed" for f in findings), findings
    results = [r for rn in sarif["runs"] for r in rn["results"] if r["ruleId"] == rule]
    assert results
    return results


def test_multi_az_switched_off_in_infra_alerts_on_the_multi_az_line(switched_off: GateRun) -> None:
    assert switched_off.returncode == 1, switched_off.stderr
    line = _line_of(ROOT / DATABASE, "multi_az=spec().database.multi_az,")
    [result] = _alerts(switched_off, "CKV_STG_RDS_6", "infra.out")
    assert _where(result["locations"][0]) == (DATABASE, line)
    related = [_where(r) for r in result["relatedLocations"]]
    assert related[0] == (DATABASE, _line_of(ROOT / DATABASE, "rds.DatabaseInstance("))
    assert related[1][0].endswith(".template.json")
    [finding] = [
        f for f in switched_off.report["findings"] if f["rule_id"] == "CKV_STG_RDS_6" and f["assembly"] == "infra.out"
    ]
    assert (finding["property_name"], finding["property_line"], finding["value_file"]) == ("multi_az", line, "")


def test_a_spec_value_changed_in_spec_toml_alerts_on_that_spec_line(switched_off: GateRun) -> None:
    spec_line = _line_of(ROOT / "infra" / "spec.toml", "deletion_protection = true")
    [result] = _alerts(switched_off, "CKV_STG_RDS_1", "spec.out")
    assert _where(result["locations"][0]) == ("infra/spec.toml", spec_line)
    related = [_where(r) for r in result["relatedLocations"]]
    assert related[0] == (
        DATABASE,
        _line_of(ROOT / DATABASE, "deletion_protection=spec().database.deletion_protection"),
    )


def test_the_markdown_links_the_lines_that_set_the_value() -> None:
    import dataclasses  # noqa: PLC0415

    from harness.reporting.report_fields import error_input  # noqa: PLC0415
    from harness.reporting.report_markdown import render_markdown  # noqa: PLC0415

    [located] = locate_properties([_finding("MultiAZ is false, not true")], {"asm": _map()})
    text = render_markdown(dataclasses.replace(error_input(mode="assembly", error=""), findings=[located]))
    assert f"[{DATABASE}:121](" in text  # the construct
    assert f"set by [{DATABASE}:134](" in text and "set by [infra/spec.toml:56](" in text


def test_a_value_read_from_cdk_json_is_recorded_on_its_key_line(switched_off: GateRun) -> None:
    """The synthesized map (no extra synthesis: the fixture's) sends a context value to its cdk.json line."""
    recorded = read_source_map(switched_off.reports.parent / "infra.out").keywords(INSTANCE)
    key_line = _line_of(ROOT / "cdk.json", '"allocatedStorageGiB"')
    assert recorded["allocated_storage"].value == SourceLine(file="cdk.json", line=key_line)
    assert recorded["allocated_storage"].keyword.line == _line_of(ROOT / DATABASE, "allocated_storage=config.")
