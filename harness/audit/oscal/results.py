"""``assessment-results.json``: one result per gate run, importing the assessment plan.

* **Subjects**: one inventory item per resource (stack, logical id, type, construct path,
  template, assembly); a finding about a template or stack as a whole has the stack component.
* **Observations**: one per mapped check and resource, collected when the run judged (UTC;
  ``SOURCE_DATE_EPOCH`` only when set), with the tool that produced it as origin, its subject,
  and the template it judged (hashed in the back matter) as relevant evidence.
* **Risks**: one per waiver that covered a finding in this run: an accepted risk
  (``deviation-approved``) with its owner, reason and expiry.
* **Findings**: one per assessed control, targeting the control's statement (``<id>_smt``):
  satisfied, or not satisfied (a failed check, a check that could not judge, or a waiver: then
  the waiver's risk is related). Controls no template-time check covers have no finding: the
  plan excludes them (not assessed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.audit.oscal.common import href, metadata, new, prop, resource, stable_uuid, statement_id, text
from harness.audit.oscal.component import stack_component_uuid
from harness.audit.oscal.plan import reviewed_controls, stack_component
from harness.audit.oscal.run import Assessment, risk_uuid, subject_uuid, tool_uuid
from harness.model import Finding, Status
from harness.verdict.controls import ControlResult, ControlStatus, rule_key

ASSESSMENT_PLAN = "assessment-plan.json"
COMPONENT_DEFINITION = "component-definition.json"
_STATE = {
    ControlStatus.SATISFIED: ("satisfied", "pass"),
    ControlStatus.NOT_SATISFIED: ("not-satisfied", "fail"),
    ControlStatus.RISK_ACCEPTED: ("not-satisfied", "fail"),
    ControlStatus.NOT_EVALUATED: ("not-satisfied", "other"),
}


def _observed(assessment: Assessment) -> list[Finding]:
    """The findings that are evidence about a control: a mapped rule, mapped to at least one control."""
    return [f for f in assessment.findings if rule_key(f) is not None and any(f.controls.values())]


def inventory(assessment: Assessment, findings: Sequence[Finding] | None = None) -> list[Any]:
    """One inventory item per resource a finding is about (default: every observed, i.e. mapped, finding)."""
    from trestle.oscal import common  # noqa: PLC0415

    items: dict[str, Any] = {}
    for finding in _observed(assessment) if findings is None else findings:
        if not finding.logical_id:
            continue
        key = subject_uuid(assembly=finding.assembly, stack=finding.stack, logical_id=finding.logical_id)
        if key in items:
            continue
        details = (
            ("stack", finding.stack),
            ("logical-id", finding.logical_id),
            ("resource-type", finding.resource_type),
            ("construct-path", finding.construct_path),
            ("template", finding.template),
            ("assembly", finding.assembly),
        )
        items[key] = new(
            common.InventoryItem,
            uuid=key,
            description=f"{finding.resource_type or 'resource'} {finding.logical_id} of stack {finding.stack or '-'}",
            props=[prop(name, value) for name, value in details if value],
            implemented_components=[
                new(common.ImplementedComponent, component_uuid=stack_component_uuid(assessment.stack))
            ],
        )
    return [items[k] for k in sorted(items)]


def _templates(assessment: Assessment) -> tuple[list[Any], dict[tuple[str, str], str]]:
    """A back-matter resource per gated template that findings name: its href where the file is, and its SHA-256."""
    resources, uuids = [], {}
    for assembly in assessment.evidence.get("assemblies") or []:
        named = {f.template for f in assessment.findings if f.assembly == assembly["label"] and f.template}
        directory = (assessment.root / str(assembly["path"])).resolve()
        for file in assembly.get("files") or []:
            if file["path"] not in named:
                continue
            key = f"{assembly['label']}/{file['path']}"
            path = directory / str(file["path"])
            made = resource(
                f"template:{key}",
                title=key,
                description=f"Template of cloud assembly {assembly['label']} as gated.",
                link=href(path, oscal_dir=assessment.oscal_dir) if path.is_file() else None,
                sha256=str(file["sha256"]),
            )
            resources.append(made)
            uuids[(str(assembly["label"]), str(file["path"]))] = made.uuid
    return resources, uuids


def observation(assessment: Assessment, finding: Finding, *, template_uuid: str | None, evidence_uuid: str) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    rule = rule_key(finding)
    where = finding.logical_id or finding.template or finding.assembly
    if finding.logical_id:
        item = subject_uuid(assembly=finding.assembly, stack=finding.stack, logical_id=finding.logical_id)
        subject = new(common.SubjectReference, subject_uuid=item, type="inventory-item", title=finding.logical_id)
    else:
        subject = new(
            common.SubjectReference,
            subject_uuid=stack_component_uuid(assessment.stack),
            type="component",
            title=assessment.stack,
        )
    props = [prop("status", finding.status.value), prop("check", finding.rule_id)]
    props += [prop(name, value) for name, value in (("waiver", finding.waiver_id), ("world", finding.world)) if value]
    evidence = (
        new(common.RelevantEvidence, href=f"#{template_uuid}", description=f"{finding.template} as gated")
        if template_uuid
        else new(common.RelevantEvidence, href=f"#{evidence_uuid}", description="evidence.json of this run")
    )
    return new(
        common.Observation,
        uuid=stable_uuid(
            "observation", assessment.run_key, finding.assembly, finding.stack, finding.rule_id, where, finding.message
        ),
        title=f"{finding.rule_id} on {where}",
        description=text(finding.message or finding.title),
        methods=["TEST"],
        types=["finding"],
        origins=[new(common.Origin, actors=[new(common.OriginActor, type="tool", actor_uuid=tool_uuid(rule[0]))])]
        if rule
        else None,
        subjects=[subject],
        relevant_evidence=[evidence],
        collected=assessment.times.finished,
        props=props,
    )


def waiver_risk(waiver: Mapping[str, Any], *, observations: list[str], parties_owner: str) -> Any:
    """A waiver as an accepted risk: not a pass, an owned, expiring exception (``deviation-approved``)."""
    from trestle.oscal import common  # noqa: PLC0415

    waiver_id = str(waiver["waiver_id"])
    return new(
        common.Risk,
        uuid=risk_uuid(waiver_id),
        title=f"{waiver_id}: {waiver['rule']} accepted on {waiver['target']}",
        description=text(str(waiver.get("reason", ""))),
        statement=f"The {waiver['tool']} check {waiver['rule']} does not hold on {waiver['target']}; the exception is "
        f"accepted by {waiver['owner']} until {waiver['expires']} (policies/waivers.yaml {waiver_id}).",
        status="deviation-approved",
        props=[
            prop("waiver", waiver_id),
            prop("owner", str(waiver["owner"])),
            prop("expires", str(waiver["expires"])),
            prop("owner-party", parties_owner),
        ],
        deadline=expiry(str(waiver["expires"])),
        related_observations=[new(common.RelatedObservation, observation_uuid=u) for u in sorted(observations)] or None,
    )


def expiry(date: str) -> Any:
    """A waiver's expiry date as an OSCAL date-time (the start of that day, UTC)."""
    import datetime as dt  # noqa: PLC0415

    return dt.datetime.combine(dt.date.fromisoformat(date), dt.time(0, 0), tzinfo=dt.UTC)


def control_finding(assessment: Assessment, result: ControlResult, *, related: list[str], risks: list[str]) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    state, reason = _STATE[result.status]
    return new(
        common.Finding,
        uuid=stable_uuid("finding", assessment.run_key, result.framework, result.control),
        title=f"{result.framework} {result.control}: {result.status.value}",
        description=text(result.reason or result.status.value),
        target=new(
            common.FindingTarget,
            type="statement-id",
            target_id=statement_id(result.framework, result.control),
            title=text(result.title) if result.title else None,
            status=new(
                common.ObjectiveStatus,
                state=state,
                reason=reason,
                remarks="Accepted risk: see related risks" if result.status is ControlStatus.RISK_ACCEPTED else None,
            ),
        ),
        props=[prop("gate-status", result.status.value), prop("label", result.control)],
        related_observations=[new(common.RelatedObservation, observation_uuid=u) for u in related] or None,
        related_risks=[new(common.AssociatedRisk, risk_uuid=u) for u in risks] or None,
    )


def assessment_results(assessment: Assessment, *, component_sha256: str, plan_sha256: str) -> Any:
    """One run: subjects, observations, accepted risks and a finding per assessed control; hashed evidence."""
    from trestle.oscal import assessment_results as ar  # noqa: PLC0415
    from trestle.oscal import common  # noqa: PLC0415

    oscal_dir: Path = assessment.oscal_dir
    evidence_file = oscal_dir.parent / "evidence" / "evidence.json"
    evidence = resource(
        "evidence",
        title="evidence.json",
        link=href(evidence_file, oscal_dir=oscal_dir),
        sha256=assessment.evidence_sha256,
        description="Hashes of every input, tool versions, commands, the commit and verdict of this run.",
    )
    plan = resource(
        "assessment-plan",
        title=ASSESSMENT_PLAN,
        link=ASSESSMENT_PLAN,
        sha256=plan_sha256,
        description="The plan this run carried out.",
    )
    component = resource(
        "component-definition",
        title=COMPONENT_DEFINITION,
        link=COMPONENT_DEFINITION,
        sha256=component_sha256,
        description="The stack and the checks that implement each control.",
    )
    templates, template_uuid = _templates(assessment)
    observations, by_check, by_waiver = [], defaultdict(list), defaultdict(list)
    for finding in _observed(assessment):
        made = observation(assessment, finding, template_uuid=template_uuid.get((finding.assembly, finding.template)),
                           evidence_uuid=evidence.uuid)  # fmt: skip
        observations.append(made)
        rule = rule_key(finding)
        by_check[(rule[0].value, rule[1]) if rule else ("", "")].append(made.uuid)
        if finding.status is Status.WAIVED and finding.waiver_id:
            by_waiver[finding.waiver_id].append(made.uuid)
    waivers = {str(w["waiver_id"]): w for w in assessment.active_waivers}
    risks = [
        waiver_risk(
            waivers[w], observations=uuids, parties_owner=assessment.parties.owner_uuid(str(waivers[w]["owner"]))
        )
        for w, uuids in sorted(by_waiver.items())
        if w in waivers
    ]
    findings = []
    for result in assessment.assessed:
        related = sorted({u for c in result.checks for u in by_check.get((c.tool, c.check_id), [])})
        accepted = sorted({risk_uuid(w) for c in result.checks for w in c.waivers if w in by_waiver and w in waivers})
        findings.append(control_finding(assessment, result, related=related, risks=accepted))
    verdict = assessment.evidence.get("verdict") or {}
    checkout = assessment.evidence.get("checkout") or {}
    run = new(
        ar.Result,
        uuid=stable_uuid("result", assessment.run_key),
        title=f"Compliance gate run: {verdict.get('verdict')}",
        description=f"nox -s compliance (python -m harness), mode {verdict.get('mode')}, exit code {verdict.get('exit_code')}"
        + (f": {verdict['error']}" if verdict.get("error") else ""),
        start=assessment.times.started,
        end=assessment.times.finished,
        props=[
            prop("verdict", str(verdict.get("verdict"))),
            prop("exit-code", str(verdict.get("exit_code"))),
            *([prop("commit", str(checkout["commit"]))] if checkout.get("commit") else []),
            prop("tree-clean", "true" if checkout.get("clean") else "false"),
        ],
        local_definitions=new(
            ar.LocalDefinitions1,
            components=[stack_component(assessment)],
            inventory_items=inventory(assessment) or None,
        ),
        reviewed_controls=reviewed_controls(assessment),
        observations=observations or None,
        risks=risks or None,
        findings=findings or None,
    )
    return new(
        ar.AssessmentResults,
        uuid=stable_uuid("assessment-results", assessment.run_key),
        metadata=metadata(
            f"{assessment.stack}: compliance gate assessment results",
            version=f"evidence sha256:{assessment.evidence_sha256[:16]}",
            times=assessment.times,
            parties=assessment.parties,
            risk_owners=bool(risks),
        ),
        import_ap=new(ar.ImportAp, href=ASSESSMENT_PLAN),
        results=[run],
        back_matter=new(common.BackMatter, resources=[evidence, plan, component, *templates]),
    )
