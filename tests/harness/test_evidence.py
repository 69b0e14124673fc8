"""The auditor's bundle in-process: OSCAL through trestle's models, the run's times (pinned by SOURCE_DATE_EPOCH),
evidence that hashes every file of an assembly. Signing and ``verify`` are test_attestation.py's."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.audit.bundle import BundleInput, write_bundle
from harness.audit.evidence import EVIDENCE_DIR, EVIDENCE_FILE, RunClock
from harness.catalog import load_frameworks, load_mappings, load_policies
from harness.errors import HarnessError
from harness.model import Finding, Source, Status
from harness.verdict.controls import annotate, roll_up
from tests.harness.conftest import ROOT, write_assembly

EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def _bundle(assembly: Path, reports: Path, *, epoch: str = EPOCH) -> dict[str, Path]:
    """The bundle of a FAIL run over ``assembly`` (two findings, one waiver), written to ``reports``."""
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
    bundle = write_bundle(
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
            times=RunClock({"SOURCE_DATE_EPOCH": epoch}).times(),
            checkout={"commit": "0" * 40, "clean": True, "changed": [], "changed_count": 0},
            frameworks=frameworks,
            mappings=mappings,
            policies=load_policies(),
            waivers=[
                {
                    "waiver_id": "WVR-900",
                    "tool": "project",
                    "rule": "CKV_STG_RDS_1",
                    "target": "DatabaseInstanceAA8A5FDE",
                    "owner": "db-team",
                    "expires": "2099-01-31",
                    "reason": "test",
                    "matched": 0,
                    "expired": False,
                }
            ],
        ),
        reports,
    )
    return {name: reports / name for name in bundle.files}


@pytest.fixture
def assembly(synthesized: Path, tmp_path: Path) -> Path:
    return write_assembly(synthesized, tmp_path / "gated")


def test_oscal_documents_load_through_trestle_and_are_reproducible(assembly: Path, tmp_path: Path) -> None:
    """With SOURCE_DATE_EPOCH set, the same inputs give the same bytes (uuids derive from stable names)."""
    from trestle.oscal.assessment_plan import AssessmentPlan  # noqa: PLC0415
    from trestle.oscal.assessment_results import AssessmentResults  # noqa: PLC0415
    from trestle.oscal.component import ComponentDefinition  # noqa: PLC0415
    from trestle.oscal.poam import PlanOfActionAndMilestones  # noqa: PLC0415

    first = _bundle(assembly, tmp_path / "a")
    second = _bundle(assembly, tmp_path / "b")
    assert {"oscal/assessment-plan.json", "oscal/plan-of-action-and-milestones.json"} <= set(first)
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), f"{name} is not reproducible"
    component: Any = ComponentDefinition.oscal_read(first["oscal/component-definition.json"])
    results: Any = AssessmentResults.oscal_read(first["oscal/assessment-results.json"])
    plan: Any = AssessmentPlan.oscal_read(first["oscal/assessment-plan.json"])
    poam: Any = PlanOfActionAndMilestones.oscal_read(first["oscal/plan-of-action-and-milestones.json"])
    assert plan.uuid and poam.poam_items[0].title.startswith("WVR-900")
    assert component.metadata.last_modified.isoformat() == "2026-01-01T00:00:00+00:00"
    defined = component.components[0]
    rules = {p.value for p in defined.props if p.name == "Rule_Id"}
    assert {p.id for p in load_policies()} <= rules
    nist = next(ci for ci in defined.control_implementations if "800-53" in ci.description)
    assert any(r.control_id == "sc-28.1" for r in nist.implemented_requirements)
    result = results.results[0]
    assert result.start.isoformat() == "2026-01-01T00:00:00+00:00"
    finding = next(f for f in result.findings if f.target.target_id == "sc-28.1_smt")
    assert str(getattr(finding.target.status.state, "value", "")) == "not-satisfied" and finding.related_observations
    observation = next(o for o in result.observations if o.title.startswith("CKV_STG_RDS_13"))
    template_uuid = observation.relevant_evidence[0].href.lstrip("#")
    hashed = next(r for r in results.back_matter.resources if r.uuid == template_uuid)
    assert (
        str(getattr(hashed.rlinks[0].hashes[0].algorithm, "value", hashed.rlinks[0].hashes[0].algorithm)) == "SHA-256"
    )


def test_source_date_epoch_pins_every_time(assembly: Path, tmp_path: Path) -> None:
    paths = _bundle(assembly, tmp_path / "r", epoch="0")
    for name in (n for n in paths if n.startswith("oscal/")):
        stamps = set()
        for key in ("last-modified", "collected", "start", "end"):
            stamps |= set(re.findall(rf'"{key}":"([^"]+)"', paths[name].read_text(encoding="utf-8")))
        assert stamps == {"1970-01-01T00:00:00+00:00"}, name
    evidence = json.loads(paths[f"{EVIDENCE_DIR}/{EVIDENCE_FILE}"].read_text(encoding="utf-8"))
    assert evidence["run"] == {"started": "1970-01-01T00:00:00+00:00", "finished": "1970-01-01T00:00:00+00:00",
                               "source": "SOURCE_DATE_EPOCH"}  # fmt: skip
    with pytest.raises(HarnessError, match="SOURCE_DATE_EPOCH has invalid value 'yesterday'"):
        RunClock({"SOURCE_DATE_EPOCH": "yesterday"})


def test_without_source_date_epoch_the_times_are_the_runs(assembly: Path, tmp_path: Path) -> None:
    import datetime as dt  # noqa: PLC0415

    clock = RunClock({})
    times = clock.times()
    now = dt.datetime.now(dt.UTC)
    assert times.source == "clock" and now - dt.timedelta(minutes=1) <= times.started <= times.finished <= now


def test_evidence_hashes_every_file_of_the_assembly(sourced_assembly: Path, tmp_path: Path) -> None:
    """Not only what the manifests name: the construct source map, the metadata, every asset file."""
    assembly = tmp_path / "full"
    shutil.copytree(sourced_assembly, assembly)
    (assembly / "validation-report.json").write_text("{}", encoding="utf-8")
    reports = tmp_path / "reports"
    _bundle(assembly, reports)
    evidence = json.loads((reports / EVIDENCE_DIR / EVIDENCE_FILE).read_text(encoding="utf-8"))
    hashed = {f["path"] for f in evidence["assemblies"][0]["files"]}
    on_disk = {p.relative_to(assembly).as_posix() for p in assembly.rglob("*") if p.is_file()}
    assert hashed == on_disk
    assert {"construct-sources.json", "validation-report.json", "tree.json", "manifest.json"} <= hashed
    assert any(p.endswith(".metadata.json") for p in hashed) and any(p.endswith("/index.js") for p in hashed)
    assert any(f["path"] == "waivers.yaml" for f in evidence["policies"]["files"])
    assert any(f["path"] == "requirements/test.txt" for f in evidence["locks"])
    assert evidence["checkout"]["commit"] == "0" * 40


def test_evidence_never_opens_a_fifo(assembly: Path, tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    from harness.audit.evidence import assembly_files  # noqa: PLC0415

    os.mkfifo(assembly / "pipe.json")
    outside = tmp_path / "outside.json"
    outside.write_text("{}", encoding="utf-8")
    (assembly / "link.json").symlink_to(outside)
    names = {p.name for p in assembly_files(assembly)}
    assert "pipe.json" not in names and "link.json" not in names and "manifest.json" in names


def test_a_missing_organization_is_one_line(tmp_path: Path) -> None:
    from harness.audit.oscal.common import load_parties  # noqa: PLC0415

    (tmp_path / "assessment.yaml").write_text("organization: {short_name: x}\n", encoding="utf-8")
    with pytest.raises(
        HarnessError, match=r"assessment.yaml: key organization.name has invalid value None.*valid example"
    ):
        load_parties(tmp_path, gate_version="sha256:0", commit="", owners=[])
    with pytest.raises(HarnessError, match="cannot be read"):
        load_parties(tmp_path / "missing", gate_version="sha256:0", commit="", owners=[])
