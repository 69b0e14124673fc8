"""cdk-nag over templates the gate did not build: ``cloudformation_include.CfnInclude``.

Every stack template of every assembly is loaded into its own Stack of one fresh App
(one synthesis, one jsii runtime, however many assemblies are gated). Waivers are mapped
from construct paths to the included L1 resources through the assembly's tree.json /
``aws:cdk:path`` metadata, then the packs run exactly as in a normal synthesis.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Acknowledgment, App, DefaultStackSynthesizer, Stack, Validations
from aws_cdk import cloudformation_include as cfn_inc

import infra  # noqa: F401  (bundled Node.js for jsii)
from harness.assembly import CloudAssembly, StackTemplate
from harness.errors import HarnessError
from harness.nag import (
    VALIDATION_REPORT,
    Acknowledgement,
    NagOutcome,
    NagViolation,
    add_nag_validations,
    judge_report,
    read_validation_report,
    recorded_runs,
)

INCLUDE_ID = "Template"


@dataclass(frozen=True, kw_only=True)
class IncludedNag:
    """Per assembly label: the outcome with paths mapped back to the original assembly.

    Acknowledgement reasons start with the waiver id, which is how the gate maps a
    suppressed finding back to its waiver in both modes.
    """

    outcomes: dict[str, NagOutcome]


def _covers(target: str, *, logical_id: str, construct_path: str) -> bool:
    target = target.strip("/")
    return target == logical_id or (
        bool(construct_path) and (construct_path == target or construct_path.startswith(target + "/"))
    )


def run_nag_on_assemblies(
    assemblies: Sequence[CloudAssembly], *, acknowledgements: Sequence[Acknowledgement], outdir: Path | None = None
) -> IncludedNag:
    with tempfile.TemporaryDirectory(prefix="gate-nag-") as scratch:
        out = outdir or Path(scratch)
        app = App(outdir=str(out), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
        stacks: dict[str, StackTemplate] = {}
        ordered = [stack for assembly in assemblies for stack in assembly.stacks]
        for index, template in enumerate(ordered):
            stack_id = f"Gate{index}"
            stack = Stack(app, stack_id, synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False))
            try:
                include = cfn_inc.CfnInclude(stack, INCLUDE_ID, template_file=str(template.path))
            except Exception as error:  # jsii surfaces CfnInclude's parse errors as RuntimeError
                raise HarnessError(
                    f"cdk-nag cannot load template {template.path}: {str(error).splitlines()[0]}"
                ) from error
            stacks[stack_id] = template
            for ack in acknowledgements:
                for logical_id in sorted(template.resources):
                    if _covers(ack.target, logical_id=logical_id, construct_path=template.construct_path(logical_id)):
                        resource = include.get_resource(logical_id)
                        Validations.of(resource).acknowledge(
                            Acknowledgment(id=ack.rule, reason=f"{ack.waiver_id}: {ack.reason}")
                        )
        add_nag_validations(app, acknowledgements=[])
        try:
            app.synth()
        except Exception as error:
            raise HarnessError(
                f"cdk-nag synthesis over the included templates failed: {str(error).splitlines()[0]}"
            ) from error
        outcome = judge_report(read_validation_report(out / VALIDATION_REPORT), runs=recorded_runs(app))
    return IncludedNag(outcomes=_split(outcome, stacks))


def _split(outcome: NagOutcome, stacks: dict[str, StackTemplate]) -> dict[str, NagOutcome]:
    result: dict[str, NagOutcome] = {}

    def mapped(violation: NagViolation) -> tuple[str, NagViolation] | None:
        parts = violation.construct_path.split("/")
        template = stacks.get(parts[0]) if parts else None
        if template is None:
            return None
        logical_id = parts[2] if len(parts) >= 3 and parts[1] == INCLUDE_ID else violation.logical_id
        return template.assembly, NagViolation(
            plugin=violation.plugin,
            rule=violation.rule,
            description=violation.description,
            severity=violation.severity,
            construct_path=template.construct_path(logical_id) or violation.construct_path,
            template=template.relpath,
            logical_id=logical_id,
            acknowledged_id=violation.acknowledged_id,
            acknowledged_at=violation.acknowledged_at,
            reason=violation.reason,
        )

    labels = sorted({t.assembly for t in stacks.values()})
    for label in labels:
        result[label] = NagOutcome(packs_in_report=outcome.packs_in_report)
    for source, attr in ((outcome.violations, "violations"), (outcome.suppressed, "suppressed")):
        for violation in source:
            item = mapped(violation)
            if item is not None:
                getattr(result[item[0]], attr).append(item[1])
    return result
