"""The auditor's bundle: OSCAL through trestle's models, reproducible timestamps, hashed evidence, verify."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.bundle import BundleInput, write_bundle
from harness.catalog import load_frameworks, load_mappings, load_policies
from harness.controls import annotate, roll_up
from harness.errors import HarnessError
from harness.evidence import EVIDENCE_DIR, EVIDENCE_FILE, reproducible_time
from harness.model import Finding, Source, Status
from tests.harness.conftest import ROOT, write_assembly

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _bundle(assembly: Path, reports: Path, *, epoch: str = EPOCH) -> dict[str, Path]:
    frameworks, mappings = load_frameworks(), load_mappings()
    keys = [f.key for f in frameworks]
    findings = annotate(
        [
            Finding(
                source=Source.PROJECT,
                rule_id="CKV_STG_RDS_1",
                status=Status.PASSED,
                title="deletion protection",
                assembly=assembly.name,
                stack="StagingDatabase",
                template="StagingDatabase.template.json",
                logical_id="DatabaseInstanceAA8A5FDE",
                resource_type="AWS::RDS::DBInstance",
            ),
            Finding(
                source=Source.PROJECT,
                rule_id="CKV_STG_RDS_13",
                status=Status.FAILED,
                title="storage CMK",
                assembly=assembly.name,
                stack="StagingDatabase",
                template="StagingDatabase.template.json",
                logical_id="DatabaseInstanceAA8A5FDE",
                message="no KmsKeyId",
            ),
        ],
        mappings,
        keys=keys,
    )
    return write_bundle(
        BundleInput(
            root=ROOT,
            policies_dir=ROOT / "policies",
            verdict={"verdict": "FAIL", "exit_code": 1, "mode": "assembly", "error": "", "assemblies": []},
            findings=findings,
            controls=roll_up(findings, mappings, frameworks, ran={"project"}),
            assemblies=[{"label": assembly.name, "abs_path": str(assembly)}],
            tools=[{"tool": "checkov", "version": "3.3.30", "evaluated": 2, "command": "checkov"}],
            commands=["python -m harness --assembly x"],
            versions={"python": "3.11"},
            timestamp=reproducible_time(ROOT, {"SOURCE_DATE_EPOCH": epoch}),
            frameworks=frameworks,
            mappings=mappings,
            policies=load_policies(),
        ),
        reports,
    )


@pytest.fixture
def assembly(synthesized: Path, tmp_path: Path) -> Path:
    return write_assembly(synthesized, tmp_path / "gated")


def test_oscal_documents_load_through_trestle_and_are_reproducible(assembly: Path, tmp_path: Path) -> None:
    from trestle.oscal.assessment_results import AssessmentResults  # noqa: PLC0415
    from trestle.oscal.component import ComponentDefinition  # noqa: PLC0415

    first = _bundle(assembly, tmp_path / "a")
    second = _bundle(assembly, tmp_path / "b")
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), f"{name} is not reproducible"
    component: Any = ComponentDefinition.oscal_read(first["oscal/component-definition.json"])
    results: Any = AssessmentResults.oscal_read(first["oscal/assessment-results.json"])
    assert type(component).__name__ == "ComponentDefinition" and type(results).__name__ == "AssessmentResults"
    assert component.metadata.last_modified.isoformat() == "2026-01-01T00:00:00+00:00"
    defined = component.components[0]
    rules = {p.value for p in defined.props if p.name == "Rule_Id"}
    assert {p.id for p in load_policies()} <= rules
    nist = next(ci for ci in defined.control_implementations if "800-53" in ci.description)
    assert any(r.control_id == "sc-28.1" for r in nist.implemented_requirements)
    result = results.results[0]
    assert result.start.isoformat() == "2026-01-01T00:00:00+00:00"
    finding = next(f for f in result.findings if f.target.target_id == "sc-28.1")
    assert str(getattr(finding.target.status.state, "value", "")) == "not-satisfied" and finding.related_observations
    observation = next(o for o in result.observations if o.title.startswith("CKV_STG_RDS_13"))
    evidence_uuid = observation.relevant_evidence[0].href.lstrip("#")
    hashed = next(r for r in results.back_matter.resources if r.uuid == evidence_uuid)
    assert (
        str(getattr(hashed.rlinks[0].hashes[0].algorithm, "value", hashed.rlinks[0].hashes[0].algorithm)) == "SHA-256"
    )


def test_source_date_epoch_drives_every_timestamp(assembly: Path, tmp_path: Path) -> None:
    paths = _bundle(assembly, tmp_path / "r", epoch="0")
    for name in ("oscal/component-definition.json", "oscal/assessment-results.json"):
        text = paths[name].read_text(encoding="utf-8")
        stamps = {
            line.split('"')[3] for line in text.splitlines() if '"last-modified"' in line or '"collected"' in line
        }
        assert stamps == {"1970-01-01T00:00:00+00:00"}, name
    with pytest.raises(HarnessError, match="SOURCE_DATE_EPOCH has invalid value 'yesterday'"):
        reproducible_time(ROOT, {"SOURCE_DATE_EPOCH": "yesterday"})


def _verify(reports: Path, assembly: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "verify", "--reports", str(reports), "--assembly", str(assembly)],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip


def test_verify_accepts_the_gated_assembly_and_names_a_tampered_file(assembly: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _bundle(assembly, reports)
    evidence = json.loads((reports / EVIDENCE_DIR / EVIDENCE_FILE).read_text(encoding="utf-8"))
    paths = {f["path"] for f in evidence["assemblies"][0]["files"]}
    code = {p.relative_to(assembly).as_posix() for p in assembly.glob("asset.*/*")}
    assert code, "the test assembly carries the handler's code, as the gate judges it (tests.harness.assemblies)"
    assert paths == {
        "manifest.json",
        "tree.json",
        "StagingDatabase.template.json",
        "StagingDatabase.assets.json",
        *code,
    }
    assert any(f["path"] == "waivers.yaml" for f in evidence["policies"]["files"])
    assert any(f["path"] == "requirements/test.txt" for f in evidence["locks"])
    clean = _verify(reports, assembly)
    assert clean.returncode == 0, clean.stderr
    template = assembly / "StagingDatabase.template.json"
    data = bytearray(template.read_bytes())
    data[data.index(b"5432")] = ord("6")  # one byte: the database port
    template.write_bytes(bytes(data))
    tampered = _verify(reports, assembly)
    assert tampered.returncode == 1
    assert "differs: StagingDatabase.template.json" in tampered.stderr and "tree.json" not in tampered.stderr


def test_verify_names_missing_and_extra_files(assembly: Path, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    _bundle(assembly, reports)
    (assembly / "tree.json").unlink()
    run = _verify(reports, assembly)
    assert run.returncode == 1 and "missing: tree.json" in run.stderr


@pytest.mark.parametrize("case", ["no-evidence", "not-an-assembly", "garbage-evidence", "no-arguments"])
def test_verify_bad_input_is_one_line(assembly: Path, tmp_path: Path, case: str) -> None:
    reports = tmp_path / "reports"
    target = assembly
    if case == "not-an-assembly":
        _bundle(assembly, reports)
        target = tmp_path / "empty"
        target.mkdir()
    elif case == "garbage-evidence":
        (reports / EVIDENCE_DIR).mkdir(parents=True)
        (reports / EVIDENCE_DIR / EVIDENCE_FILE).write_text("{not json", encoding="utf-8")
    if case == "no-arguments":
        run = subprocess.run([sys.executable, "-m", "harness", "verify"], capture_output=True, text=True, cwd=ROOT,
                             timeout=120, check=False)  # fmt: skip
    else:
        run = _verify(reports, target)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    if case != "no-arguments":
        assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("verify error: ")


def test_evidence_survives_a_copy_of_the_assembly(assembly: Path, tmp_path: Path) -> None:
    """verify matches by content: a byte-identical copy (same directory name) is the same assembly."""
    reports = tmp_path / "reports"
    _bundle(assembly, reports)
    copy = tmp_path / "elsewhere" / assembly.name
    shutil.copytree(assembly, copy)
    assert _verify(reports, copy).returncode == 0


def test_evidence_binds_the_assets_a_deploy_publishes(synthesized: Path, tmp_path: Path) -> None:
    """Function code is an asset: editing it changes what deploys with every template untouched."""
    assembly = tmp_path / "with-assets"
    shutil.copytree(synthesized, assembly)
    reports = tmp_path / "reports"
    _bundle(assembly, reports)
    evidence = json.loads((reports / EVIDENCE_DIR / EVIDENCE_FILE).read_text(encoding="utf-8"))
    paths = {f["path"] for f in evidence["assemblies"][0]["files"]}
    code = sorted(assembly.glob("asset.*/index.js"))
    assert code, "the synthesized app has a function asset (the default security group's custom resource)"
    assert "StagingDatabase.assets.json" in paths and code[0].relative_to(assembly).as_posix() in paths
    assert _verify(reports, assembly).returncode == 0
    code[0].write_text(code[0].read_text(encoding="utf-8") + "\n// exfiltrate\n", encoding="utf-8")
    tampered = _verify(reports, assembly)
    assert tampered.returncode == 1
    assert f"differs: {code[0].relative_to(assembly).as_posix()}" in tampered.stderr
