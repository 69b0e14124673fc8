"""OSCAL documents of the gate, built with compliance-trestle's pydantic models (never hand-written JSON).

* ``component-definition.json``: the staging database stack as one component; each check the gate
  relies on (project policy or tool rule) is a rule (compliance-trestle's ``Rule_Id`` /
  ``Rule_Description`` property convention) and each control a mapping names is an implemented
  requirement naming its checks with the mapping's rationale.
* ``assessment-results.json``: one result per gate run; one observation per mapped check and
  resource (its status, the resource, links to the hashed evidence in the back matter), one
  finding per in-scope control (``harness.controls`` status), the evidence files with their
  SHA-256 in the back matter.

Every uuid is a uuid5 of stable names and every timestamp is :func:`harness.evidence.reproducible_time`
(``SOURCE_DATE_EPOCH``), so the same inputs give byte-identical documents. Importing trestle's
models takes about a second; :func:`prewarm` starts that import in a thread while the gate runs.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.catalog import ControlMapping, Framework, Policy, Tool, nag_pack_label, nist_oscal_id
from harness.controls import ControlResult, ControlStatus, rule_key
from harness.evidence import Timestamp
from harness.model import Finding

if TYPE_CHECKING:
    pass

OSCAL_DIR = "oscal"
COMPONENT_DEFINITION = "component-definition.json"
ASSESSMENT_RESULTS = "assessment-results.json"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:stg-gate")
# Our own properties; the rule properties use compliance-trestle's namespace so its tools read them.
GATE_NS = "urn:stg-gate"
TRESTLE_NS = "https://oscal-compass.github.io/compliance-trestle/schemas/oscal/cd"
_STATE = {
    ControlStatus.SATISFIED: ("satisfied", "pass"),
    ControlStatus.NOT_SATISFIED: ("not-satisfied", "fail"),
    ControlStatus.NOT_EVALUATED: ("not-satisfied", "other"),
    ControlStatus.NO_CHECK: ("not-satisfied", "other"),
}
_prewarm: threading.Thread | None = None


def prewarm() -> None:
    """Import trestle's OSCAL models in the background (about 1 s of CPU) while the gate waits on its tools."""
    global _prewarm  # noqa: PLW0603  (one import per process)
    if _prewarm is None:
        _prewarm = threading.Thread(target=_import_models, name="oscal-prewarm", daemon=True)
        _prewarm.start()


def _import_models() -> None:
    import trestle.oscal.assessment_results  # noqa: PLC0415
    import trestle.oscal.component  # noqa: F401, PLC0415


def _ready() -> None:
    if _prewarm is not None:
        _prewarm.join()


def _new(model: Any, /, **fields: Any) -> Any:
    """A trestle model from field names (its models populate by name; mypy sees only the JSON aliases)."""
    return model(**fields)


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def control_id(framework: str, control: str) -> str:
    """The OSCAL control id (a token): NIST's own (``sc-28.1``); PCI DSS and FSBP ids prefixed where needed."""
    if framework.startswith("nist"):
        return nist_oscal_id(control)
    if framework.startswith("pci"):
        return f"pcidss-{control}"
    return control


def _prop(name: str, value: str, *, ns: str = GATE_NS, remarks: str | None = None) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return _new(common.Property, name=name, value=" ".join(value.split()), ns=ns, remarks=remarks)


def _text(value: str) -> str:
    return " ".join(value.split()) or "-"


def _metadata(title: str, *, version: str, timestamp: Timestamp) -> Any:
    from trestle.oscal import OSCAL_VERSION, common  # noqa: PLC0415

    return _new(
        common.Metadata,
        title=title,
        last_modified=timestamp.value,
        version=version,
        oscal_version=OSCAL_VERSION,
        props=[_prop("timestamp-source", timestamp.source)],
    )


def _checks(mappings: Sequence[ControlMapping], policies: Sequence[Policy]) -> list[tuple[Tool, str, str]]:
    """(tool, check id, description) of every check a mapping names, sorted."""
    titles = {p.id: f"{p.title}. {p.rationale}" for p in policies}
    seen: dict[tuple[Tool, str], str] = {}
    for mapping in mappings:
        key = (mapping.tool, mapping.check_id)
        if key not in seen:
            if mapping.tool is Tool.PROJECT:
                seen[key] = titles.get(mapping.check_id, mapping.check_id)
            elif mapping.tool is Tool.CDK_NAG:
                seen[key] = f"{nag_pack_label(mapping.check_id)} rule {mapping.check_id}"
            else:
                seen[key] = f"{mapping.tool} rule {mapping.check_id}"
    return sorted(((tool, check, text) for (tool, check), text in seen.items()), key=lambda t: (t[0].value, t[1]))


def component_definition(
    *,
    frameworks: Sequence[Framework],
    mappings: Sequence[ControlMapping],
    policies: Sequence[Policy],
    stack: str,
    policies_digest: str,
    timestamp: Timestamp,
    root: Path,
) -> Any:
    """The stack's component definition: each policy a rule, each mapped control an implemented requirement."""
    _ready()
    from trestle.oscal import component  # noqa: PLC0415

    checks = _checks(mappings, policies)
    rule_props = []
    for index, (tool, check, text) in enumerate(checks, start=1):
        group = f"rule_set_{index:03d}"
        rule_props += [
            _prop("Rule_Id", check, ns=TRESTLE_NS, remarks=group),
            _prop("Rule_Description", f"{tool}: {text}", ns=TRESTLE_NS, remarks=group),
        ]
    implementations = []
    for framework in frameworks:
        by_control: dict[str, list[ControlMapping]] = defaultdict(list)
        for mapping in mappings:
            if mapping.framework_key == framework.key:
                for control in mapping.controls:
                    by_control[control].append(mapping)
        requirements = [
            _new(
                component.ImplementedRequirement,
                uuid=stable_uuid("cd", stack, framework.key, control),
                control_id=control_id(framework.key, control),
                description=" ".join(
                    f"{m.check_id} ({m.tool}): {m.rationale}"
                    for m in sorted(entries, key=lambda m: (m.tool.value, m.check_id))
                ),
                props=[
                    _prop("label", control),
                    *(
                        _prop("Rule_Id", m.check_id, ns=TRESTLE_NS)
                        for m in sorted(entries, key=lambda m: (m.tool.value, m.check_id))
                    ),
                ],
            )
            for control, entries in sorted(by_control.items(), key=lambda item: _natural(item[0]))
        ]
        if requirements:
            implementations.append(
                _new(
                    component.ControlImplementation,
                    uuid=stable_uuid("cd", stack, framework.key),
                    source=_relative(framework.ids_file, root),
                    description=f"{framework.name} ({framework.version}); source: {framework.source}",
                    implemented_requirements=requirements,
                )
            )
    defined = _new(
        component.DefinedComponent,
        uuid=stable_uuid("component", stack),
        type="service",
        title=f"{stack}: staging RDS PostgreSQL stack",
        description="The staging RDS PostgreSQL stack of the payments database (VPC, subnets, security groups, "
        "KMS key, RDS instance, secret, logs, alarms) as synthesized by this repository's CDK app, and the "
        "template-time checks the compliance gate runs on it (policies/).",
        props=rule_props,
        control_implementations=implementations,
    )
    return _new(
        component.ComponentDefinition,
        uuid=stable_uuid("component-definition", stack, policies_digest),
        metadata=_metadata(
            f"{stack}: compliance gate policies", version=f"policies sha256:{policies_digest[:16]}", timestamp=timestamp
        ),
        components=[defined],
    )


def _natural(value: str) -> list[Any]:
    from harness.markdown import natural_key  # noqa: PLC0415

    return natural_key(value)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def _resource(key: str, *, title: str, href: str, sha256: str, description: str) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return _new(
        common.Resource,
        uuid=stable_uuid("resource", key),
        title=title,
        description=description,
        rlinks=[_new(common.Rlink, href=href, hashes=[_new(common.Hash, algorithm="SHA-256", value=sha256)])],
    )


def assessment_results(
    *,
    findings: Sequence[Finding],
    results: Sequence[ControlResult],
    frameworks: Sequence[Framework],
    evidence: Mapping[str, Any],
    evidence_sha256: str,
    component_sha256: str,
    stack: str,
    timestamp: Timestamp,
) -> Any:
    """One run: observations per mapped check and resource, findings per control, hashed evidence in the back matter."""
    _ready()
    from trestle.oscal import assessment_results as ar  # noqa: PLC0415
    from trestle.oscal import common  # noqa: PLC0415

    verdict = evidence["verdict"]
    run_key = evidence_sha256
    resources = [
        _resource("evidence", title="evidence.json", href="../evidence/evidence.json", sha256=evidence_sha256,
                  description="Hashes of every input, tool versions, commands and verdict of this run."),
        _resource("component-definition", title=COMPONENT_DEFINITION, href=COMPONENT_DEFINITION, sha256=component_sha256,
                  description="The policies assessed (no separate assessment plan: the gate's policies are the plan)."),
    ]  # fmt: skip
    template_uuid: dict[tuple[str, str], str] = {}
    for assembly in evidence["assemblies"]:
        for file in assembly["files"]:
            key = f"{assembly['label']}/{file['path']}"
            resource = _resource(key, title=key, href=f"{assembly['path']}/{file['path']}", sha256=file["sha256"],
                                 description=f"File of cloud assembly {assembly['label']} as gated.")  # fmt: skip
            resources.append(resource)
            template_uuid[(str(assembly["label"]), str(file["path"]))] = resource.uuid
    observations = []
    by_check: dict[tuple[str, str], list[str]] = defaultdict(list)
    for finding in findings:
        rule = rule_key(finding)
        if rule is None or not any(finding.controls.values()):
            continue
        where = finding.logical_id or finding.template or finding.assembly
        obs_uuid = stable_uuid("observation", run_key, finding.assembly, finding.stack, finding.rule_id, where,
                               finding.message)  # fmt: skip
        subject_uuid = template_uuid.get((finding.assembly, finding.template))
        props = [_prop("status", finding.status.value), _prop("check", finding.rule_id)]
        props += [_prop(name, value) for name, value in (
            ("logical-id", finding.logical_id), ("resource-type", finding.resource_type),
            ("construct-path", finding.construct_path), ("waiver", finding.waiver_id), ("world", finding.world)) if value]  # fmt: skip
        observations.append(
            _new(
                common.Observation,
                uuid=obs_uuid,
                title=f"{finding.rule_id} on {where}",
                description=_text(finding.message or finding.title),
                methods=["TEST"],
                types=["finding"],
                subjects=[_new(common.SubjectReference, subject_uuid=subject_uuid, type="resource", title=where)]
                if subject_uuid
                else None,
                relevant_evidence=[
                    _new(
                        common.RelevantEvidence,
                        href=f"#{subject_uuid}",
                        description=f"{finding.template} as gated (SHA-256 in back matter)",
                    )
                ]
                if subject_uuid
                else [
                    _new(common.RelevantEvidence, href=f"#{resources[0].uuid}", description="evidence.json of this run")
                ],
                collected=timestamp.value,
                props=props,
            )
        )
        by_check[(rule[0].value, rule[1])].append(obs_uuid)
    oscal_findings = []
    for result in results:
        state, reason = _state(result.status)
        related = sorted({u for c in result.checks for u in by_check.get((c.tool, c.check_id), [])})
        oscal_findings.append(
            _new(
                common.Finding,
                uuid=stable_uuid("finding", run_key, result.framework, result.control),
                title=f"{result.framework} {result.control}: {result.status.value}",
                description=_text(result.reason or result.status.value),
                target=_new(
                    common.FindingTarget,
                    type="objective-id",
                    target_id=control_id(result.framework, result.control),
                    title=_text(result.title) if result.title else None,
                    status=_new(common.ObjectiveStatus, state=state, reason=reason),
                ),
                props=[_prop("gate-status", result.status.value), _prop("label", result.control)],
                related_observations=[_new(common.RelatedObservation, observation_uuid=u) for u in related] or None,
            )
        )
    selections = [
        _new(
            common.ControlSelections,
            description=f"{framework.name}: the reviewed scope (policies/frameworks)",
            include_controls=[
                _new(common.SelectControlById, control_id=control_id(framework.key, r.control))
                for r in results
                if r.framework == framework.key
            ],
        )
        for framework in frameworks
        if any(r.framework == framework.key for r in results)
    ]
    run = _new(
        ar.Result,
        uuid=stable_uuid("result", run_key),
        title=f"Compliance gate run: {verdict['verdict']}",
        description=f"nox -s compliance (python -m harness), mode {verdict['mode']}, exit code {verdict['exit_code']}"
        + (f": {verdict['error']}" if verdict.get("error") else ""),
        start=timestamp.value,
        end=timestamp.value,
        props=[_prop("verdict", str(verdict["verdict"])), _prop("exit-code", str(verdict["exit_code"]))],
        reviewed_controls=_new(common.ReviewedControls, control_selections=selections),
        observations=observations or None,
        findings=oscal_findings or None,
    )
    return _new(
        ar.AssessmentResults,
        uuid=stable_uuid("assessment-results", run_key),
        metadata=_metadata(
            f"{stack}: compliance gate assessment results",
            version=f"evidence sha256:{evidence_sha256[:16]}",
            timestamp=timestamp,
        ),
        import_ap=_new(
            ar.ImportAp,
            href=f"#{resources[1].uuid}",
            remarks="no separate assessment plan: the gate's policies are the plan",
        ),
        results=[run],
        back_matter=_new(common.BackMatter, resources=resources),
    )


def _state(status: ControlStatus) -> tuple[str, str]:
    return _STATE[status]


def serialize(model: Any) -> bytes:
    data: bytes = model.oscal_serialize_json_bytes(pretty=True) + b"\n"
    return data
