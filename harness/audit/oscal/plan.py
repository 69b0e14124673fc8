"""``assessment-plan.json``: what is assessed (the stack), by which methods and tools, against which controls.

The assessment results import it (``import-ap``). OSCAL's plan imports a system security plan; this
repository has none, so ``import-ssp`` points at the component definition, which describes the
system (the stack) and its control implementations, and says so in its remarks. Controls no
template-time check covers are excluded from the reviewed controls with the reason, so they are
"not assessed" rather than failed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.audit.oscal.common import control_id, href, metadata, new, prop, resource, stable_uuid
from harness.audit.oscal.component import TOOL_TITLES, stack_component_uuid
from harness.audit.oscal.run import Assessment, tool_uuid
from harness.catalog import Tool
from harness.markdown import natural_key
from harness.verdict.controls import ControlResult, ControlStatus

COMPONENT_DEFINITION = "component-definition.json"
PLATFORM = "Compliance gate (python -m harness, nox -s compliance)"


def tools_of(assessment: Assessment) -> list[Tool]:
    """The tools whose checks the control mappings rely on: the plan's assessment assets."""
    return sorted({m.tool for m in assessment.mappings}, key=lambda t: t.value)


def tool_version(assessment: Assessment, tool: Tool) -> str:
    versions = dict(assessment.evidence.get("versions") or {})
    for record in assessment.evidence.get("tools") or []:
        versions.setdefault(str(record.get("tool")), str(record.get("version", "")))
    aliases = {Tool.PROJECT: "project", Tool.CDK_VALIDATE: "aws-cdk-lib", Tool.GATE: "harness", Tool.CHANGE: "harness"}
    return str(versions.get(aliases.get(tool, tool.value), "")) or "not recorded in this run"


def stack_component(assessment: Assessment) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return new(
        common.SystemComponent,
        uuid=stack_component_uuid(assessment.stack),
        type="service",
        title=f"{assessment.stack}: staging RDS PostgreSQL stack",
        description="The CloudFormation stack the CDK app synthesizes, as gated: every resource of its templates "
        "(each an inventory item of the assessment results).",
        status=new(common.Status, state="under-development", remarks="Synthesized and gated before deployment."),
    )


def tool_components(assessment: Assessment) -> list[Any]:
    from trestle.oscal import common  # noqa: PLC0415

    return [
        new(
            common.SystemComponent,
            uuid=tool_uuid(tool),
            type="software",
            title=TOOL_TITLES[tool],
            description=f"Runs the {tool.value} checks the control mappings (policies/mappings) name, on every "
            "template of the gated assemblies.",
            props=[prop("version", tool_version(assessment, tool))],
            status=new(common.Status, state="operational"),
        )
        for tool in tools_of(assessment)
    ]


def _selection(description: str, included: Sequence[str], excluded: Sequence[str] = (), remarks: str = "") -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return new(
        common.ControlSelections,
        description=description,
        include_controls=[new(common.SelectControlById, control_id=c) for c in included],
        exclude_controls=[new(common.SelectControlById, control_id=c) for c in excluded] or None,
        remarks=remarks or None,
    )


def reviewed_controls(assessment: Assessment) -> Any:
    """Per framework, the controls a check covers; the ones none covers excluded, each with why."""
    from trestle.oscal import common  # noqa: PLC0415

    selections = []
    for framework in assessment.frameworks:
        rows = [r for r in assessment.controls if r.framework == framework.key]
        included = [control_id(framework.key, r.control) for r in rows if r.status is not ControlStatus.NOT_ASSESSED]
        skipped: list[ControlResult] = [r for r in rows if r.status is ControlStatus.NOT_ASSESSED]
        if not included:
            continue
        selections.append(
            _selection(
                f"{framework.name} ({framework.version}): the controls of the reviewed scope a template-time check "
                "covers (policies/frameworks, policies/mappings)",
                included,
                [control_id(framework.key, r.control) for r in skipped],
                "Not assessed (no template-time check covers them): "
                + "; ".join(f"{r.control}: {r.reason}" for r in skipped)
                if skipped
                else "",
            )
        )
    return new(common.ReviewedControls, control_selections=selections)


def activities(assessment: Assessment) -> list[Any]:
    """One activity per tool: method TEST, the controls its checks are mapped to."""
    from trestle.oscal import common  # noqa: PLC0415

    controls_of: dict[Tool, set[str]] = defaultdict(set)
    for mapping in assessment.mappings:
        controls_of[mapping.tool].update(control_id(mapping.framework_key, c) for c in mapping.controls)
    return [
        new(
            common.Activity,
            uuid=stable_uuid("activity", tool.value),
            title=f"Run {TOOL_TITLES[tool]}",
            description=f"Every {tool.value} check a control mapping names is run on every resource of every "
            "deploy-time world of the gated templates; each result is an observation of the assessment results.",
            props=[prop("method", "TEST")],
            related_controls=new(
                common.ReviewedControls,
                control_selections=[
                    _selection("Controls the tool's checks are mapped to", sorted(controls_of[tool], key=natural_key))
                ],
            ),
        )
        for tool in tools_of(assessment)
        if controls_of[tool]
    ]


def _subjects(assessment: Assessment) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return new(
        common.AssessmentSubjectSpecific,
        type="component",
        description="The gated stack: every resource of its templates, in every deploy-time world.",
        include_subjects=[
            new(common.SelectSubjectById, subject_uuid=stack_component_uuid(assessment.stack), type="component")
        ],
    )


def assessment_plan(assessment: Assessment, *, component_sha256: str) -> Any:
    from trestle.oscal import assessment_plan as ap  # noqa: PLC0415
    from trestle.oscal import common  # noqa: PLC0415

    acts = activities(assessment)
    component = resource(
        "component-definition",
        title=COMPONENT_DEFINITION,
        description="The system (the stack) and the checks that implement each control: stands in for a "
        "system security plan.",
        link=COMPONENT_DEFINITION,
        sha256=component_sha256,
    )
    catalogs = [
        resource(
            f"catalog:{framework.key}",
            title=f"{framework.name}: control ids",
            description=f"{framework.version}; {framework.source}",
            link=href(framework.ids_file, oscal_dir=assessment.oscal_dir),
        )
        for framework in assessment.frameworks
    ]
    task = new(
        common.Task,
        uuid=stable_uuid("task", "gate-run"),
        type="action",
        title="Gate run",
        description="python -m harness (nox -s compliance) on every pull request and every push to main: "
        "synthesize, run every tool, fold the results into one verdict.",
        associated_activities=[
            new(
                common.AssociatedActivity,
                activity_uuid=a.uuid,
                subjects=[common.AssessmentSubject(_subjects(assessment))],
            )
            for a in acts
        ]
        or None,
    )
    return new(
        ap.AssessmentPlan,
        uuid=stable_uuid("assessment-plan", assessment.stack, assessment.rules_digest),
        metadata=metadata(
            f"{assessment.stack}: compliance gate assessment plan",
            version=f"rules {assessment.rules_digest[:23]}",
            times=assessment.times,
            parties=assessment.parties,
        ),
        import_ssp=new(
            common.ImportSsp,
            href=COMPONENT_DEFINITION,
            remarks="No system security plan exists for the staging stack; its component definition describes the "
            "system and the control implementations the gate checks.",
        ),
        local_definitions=new(ap.LocalDefinitions, components=[stack_component(assessment)], activities=acts or None),
        reviewed_controls=reviewed_controls(assessment),
        assessment_subjects=[_subjects(assessment)],
        assessment_assets=new(
            common.AssessmentAssets,
            components=tool_components(assessment),
            assessment_platforms=[
                new(
                    common.AssessmentPlatform,
                    uuid=stable_uuid("platform", "gate"),
                    title=PLATFORM,
                    uses_components=[
                        new(common.UsesComponent, component_uuid=tool_uuid(t)) for t in tools_of(assessment)
                    ],
                )
            ],
        ),
        tasks=[task],
        back_matter=new(common.BackMatter, resources=[component, *catalogs]),
    )
