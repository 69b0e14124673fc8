"""The four OSCAL documents of a real gate run, read the way an assessor reads them.

One real run (``--assembly``, the full synthesized staging assembly: PASS, with the project's
waivers in force). NIST's OSCAL 1.2.1 JSON schemas validate every document (and every document
any test of the session writes: tests/harness/conftest.py); the rest checks what the schemas cannot:
references that resolve, real times, one subject per resource, targets typed as controls, waived
controls not satisfied, a POA&M item per active waiver, the parties.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.harness.conftest import ROOT, GateRun, run_gate
from tests.harness.oscal_schema import MODELS, invalid_documents, schema_digests

DOCUMENTS = {
    "component-definition": "component-definition.json",
    "assessment-plan": "assessment-plan.json",
    "assessment-results": "assessment-results.json",
    "plan-of-action-and-milestones": "plan-of-action-and-milestones.json",
}


@pytest.fixture(scope="module")
def run(sourced_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("oscal")
    assembly = base / "cdk.out"
    shutil.copytree(sourced_assembly, assembly)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    done = run_gate(["--assembly", str(assembly)], reports=base / "reports")
    assert done.returncode == 0, done.stderr
    (base / "started").write_text(started.isoformat(), encoding="utf-8")
    return done


def _doc(run: GateRun, model: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run.reports / "oscal" / DOCUMENTS[model]).read_text(encoding="utf-8"))[model]
    return data


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


# ------------------------------------------------------------------------------------ schemas


def test_the_four_documents_validate_against_nists_schemas(run: GateRun) -> None:
    written = sorted((run.reports / "oscal").glob("*.json"))
    assert [p.name for p in written] == sorted(DOCUMENTS.values())
    assert invalid_documents(written) == []


def test_the_schema_check_fails_a_broken_document(run: GateRun, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    document = json.loads((run.reports / "oscal" / "assessment-results.json").read_text(encoding="utf-8"))
    document["assessment-results"]["results"][0]["findings"][0]["target"]["type"] = "control"
    document["assessment-results"]["import-ap"]["href"] = 42
    (broken / "assessment-results.json").write_text(json.dumps(document), encoding="utf-8")
    (broken / "other.json").write_text('{"catalog": {}}', encoding="utf-8")
    problems = invalid_documents(sorted(broken.glob("*.json")))
    assert any("'control' is not one of ['statement-id', 'objective-id']" in p for p in problems), problems
    assert any("not an OSCAL component definition" in p for p in problems)


def test_the_vendored_schemas_are_nists_unchanged() -> None:
    readme = (ROOT / "tests" / "harness" / "oscal_schemas" / "README.md").read_text(encoding="utf-8")
    for name, digest in schema_digests().items():
        assert f"`{name}` | " in readme and digest in readme, name
        assert digest == next(d for n, d in MODELS.values() if n == name)


# ------------------------------------------------------------------------------------ what the schemas cannot check


def test_every_href_resolves_from_the_file_that_holds_it(run: GateRun) -> None:
    oscal = run.reports / "oscal"
    for model, name in DOCUMENTS.items():
        document = _doc(run, model)
        uuids = {value for key, value in _walk(document) if key == "uuid"}
        hrefs = [value for key, value in _walk(document) if key in ("href", "source")]
        assert hrefs, name
        for href in hrefs:
            if href.startswith("#"):
                assert href[1:] in uuids, f"{name}: {href} names nothing in the document"
            else:
                assert not Path(href).is_absolute() and (oscal / href).is_file(), f"{name}: {href} does not resolve"


def test_results_import_the_plan_and_the_plan_names_what_is_assessed(run: GateRun) -> None:
    results, plan = _doc(run, "assessment-results"), _doc(run, "assessment-plan")
    assert results["import-ap"]["href"] == "assessment-plan.json"
    assert (
        plan["import-ssp"]["href"] == "component-definition.json"
        and "no system security plan" in plan["import-ssp"]["remarks"].lower()
    )
    assert plan["assessment-subjects"][0]["include-subjects"][0]["type"] == "component"
    tools = {c["title"] for c in plan["assessment-assets"]["components"]}
    assert any("checkov" in t for t in tools) and any("cdk-nag" in t for t in tools)
    assert all(a["props"][0]["value"] == "TEST" for a in plan["local-definitions"]["activities"])
    report = run.report
    not_assessed = {c["control"] for c in report["controls"] if c["status"] == "not assessed"}
    excluded = {
        c["control-id"] for s in plan["reviewed-controls"]["control-selections"] for c in s.get("exclude-controls", [])
    }
    assert not_assessed and {c.lower().replace("(", ".").replace(")", "") for c in not_assessed if "-" in c} <= excluded
    targets = {f["target"]["target-id"] for f in results["results"][0]["findings"]}
    assert "au-6_smt" not in targets  # not assessed: no finding at all, never a failed one


def test_observations_are_collected_when_the_run_happens(run: GateRun) -> None:
    started = dt.datetime.fromisoformat((run.reports.parent / "started").read_text(encoding="utf-8"))
    result = _doc(run, "assessment-results")["results"][0]
    start, end = dt.datetime.fromisoformat(result["start"]), dt.datetime.fromisoformat(result["end"])
    assert started - dt.timedelta(seconds=5) <= start <= end <= dt.datetime.now(dt.UTC)
    assert {o["collected"] for o in result["observations"]} == {result["end"]}
    evidence = json.loads((run.reports / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["run"] == {"started": result["start"], "finished": result["end"], "source": "clock"}


def test_one_subject_per_resource(run: GateRun) -> None:
    result = _doc(run, "assessment-results")["results"][0]
    items = result["local-definitions"]["inventory-items"]
    ids = [next(p["value"] for p in item["props"] if p["name"] == "logical-id") for item in items]
    assert len(ids) == len(set(ids)) > 30
    for item in items:
        names = {p["name"] for p in item["props"]}
        assert {"stack", "logical-id", "resource-type", "construct-path"} <= names, item
    known = {item["uuid"] for item in items} | {c["uuid"] for c in result["local-definitions"]["components"]}
    subjects = [s for o in result["observations"] for s in o["subjects"]]
    assert subjects and all(s["subject-uuid"] in known for s in subjects)
    assert len({s["subject-uuid"] for s in subjects}) > 30  # not one subject, the template file, for all
    assert all(o["origins"][0]["actors"][0]["type"] == "tool" for o in result["observations"])


def test_targets_are_control_statements(run: GateRun) -> None:
    catalog = json.loads(
        (ROOT / "policies/frameworks/ids/NIST_SP-800-53_rev5_catalog-min.json").read_text(encoding="utf-8")
    )
    statements = {v for k, v in _walk(catalog) if k == "id" and isinstance(v, str) and v.endswith("_smt")}
    findings = _doc(run, "assessment-results")["results"][0]["findings"]
    assert findings and all(f["target"]["type"] == "statement-id" for f in findings)
    nist = [f["target"]["target-id"] for f in findings if "nist" in f["title"]]
    assert nist and set(nist) <= statements


def test_a_waived_control_is_not_satisfied_with_the_waiver_as_accepted_risk(run: GateRun) -> None:
    accepted = [c for c in run.report["controls"] if c["status"] == "not satisfied: risk accepted"]
    assert accepted, "the staging stack's waivers leave controls not satisfied"
    result = _doc(run, "assessment-results")["results"][0]
    risks = {r["uuid"]: r for r in result["risks"]}
    by_label = {next(p["value"] for p in f["props"] if p["name"] == "label"): f for f in result["findings"]}
    for control in accepted:
        finding = by_label[control["control"]]
        assert finding["target"]["status"]["state"] == "not-satisfied", control["control"]
        related = [risks[r["risk-uuid"]] for r in finding["related-risks"]]
        assert related and all(r["status"] == "deviation-approved" for r in related)
        waivers = {w for check in control["checks"] for w in check["waivers"]}
        assert waivers == {next(p["value"] for p in r["props"] if p["name"] == "waiver") for r in related}
    assert not [c for c in run.report["controls"] if c["status"] == "not satisfied"], "PASS: no plain failure"


def test_every_active_waiver_is_a_poam_item_with_its_expiry_as_milestone(run: GateRun) -> None:
    poam = _doc(run, "plan-of-action-and-milestones")
    active = {w["waiver_id"]: w for w in run.report["waivers"] if not w["expired"]}
    items = {next(p["value"] for p in i["props"] if p["name"] == "waiver"): i for i in poam["poam-items"]}
    assert set(items) == set(active)
    risks = {r["uuid"]: r for r in poam["risks"]}
    parties = {p["uuid"]: p for p in poam["metadata"]["parties"]}
    for waiver_id, waiver in active.items():
        item = items[waiver_id]
        risk = risks[item["related-risks"][0]["risk-uuid"]]
        milestone = risk["remediations"][0]["tasks"][0]
        assert milestone["type"] == "milestone"
        assert milestone["timing"]["on-date"]["date"].startswith(waiver["expires"])
        owner = milestone["responsible-roles"][0]
        assert owner["role-id"] == "risk-owner" and parties[owner["party-uuids"][0]]["name"] == waiver["owner"]
        assert item["description"] == " ".join(waiver["reason"].split())


def test_the_organization_and_the_assessor_are_parties_with_roles(run: GateRun) -> None:
    organization = yaml.safe_load((ROOT / "policies" / "assessment.yaml").read_text(encoding="utf-8"))["organization"]
    evidence = json.loads((run.reports / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    for model in DOCUMENTS:
        metadata = _doc(run, model)["metadata"]
        parties = {p["uuid"]: p for p in metadata["parties"]}
        roles = {r["role-id"]: [parties[u]["name"] for u in r["party-uuids"]] for r in metadata["responsible-parties"]}
        assert roles["system-owner"] == [organization["name"]], model
        assert len(roles["assessor"]) == 1 and evidence["versions"]["harness"] in roles["assessor"][0], model
        assessor = next(p for p in metadata["parties"] if p["name"] == roles["assessor"][0])
        assert {"name": "version", "ns": "urn:stg-gate", "value": evidence["versions"]["harness"]} in assessor["props"]


def test_documents_are_compact(run: GateRun) -> None:
    for name in DOCUMENTS.values():
        text = (run.reports / "oscal" / name).read_text(encoding="utf-8")
        assert text.count("\n") == 1 and text.endswith("\n") and '": ' not in text[:200], name
