"""cdk-nag over templates the gate did not build: ``cloudformation_include.CfnInclude``.

Every world file (harness.reading.worlds) of every template is loaded into its own Stack of one
fresh App (one synthesis, one jsii runtime, however many assemblies are gated). A waiver of
policies/ is acknowledged on exactly the included L1 resources its scope covers
(harness.tools.waivers.covers: targets, type, stack), then the packs run exactly as in a normal
synthesis. Findings are mapped back to the original template, resource and world.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aws_cdk import Acknowledgment, App, DefaultStackSynthesizer, Stack, Validations
from aws_cdk import cloudformation_include as cfn_inc

import infra  # noqa: F401  (bundled Node.js for jsii)
from harness.catalog import Tool, Waiver
from harness.errors import HarnessError
from harness.reading.worlds import ScanTarget
from harness.tools.nag import (
    VALIDATION_REPORT,
    NagOutcome,
    NagViolation,
    PackRun,
    add_nag_validations,
    judge_report,
    pack_runs,
    read_validation_report,
)
from harness.tools.nag_tree import inclusion_artifacts
from harness.tools.waivers import covers

INCLUDE_ID = "Template"


@dataclass(frozen=True, kw_only=True)
class IncludedNag:
    """Per scan target (world file): the outcome with paths mapped back to the original template."""

    outcomes: dict[Path, NagOutcome]
    resources: int  # resources the packs were handed, over every world file
    unmapped: list[NagViolation]  # findings on no included resource (reported, never dropped)
    unloadable: dict[Path, str]  # world files CfnInclude refused, and why: not judged by cdk-nag
    runs: dict[str, PackRun] = field(default_factory=dict)  # per pack: calls, resources handed, violations


class _SynthesisFailedError(Exception):
    """The one App holding every included template could not synthesize (a property of the wrong type)."""


def run_nag_on_targets(
    targets: Sequence[ScanTarget], *, waivers: Sequence[Waiver], outdir: Path | None = None, cdk_validation: bool = True
) -> IncludedNag:
    """The cdk-nag packs over ``targets``; ``cdk_validation=False`` leaves CDK's built-in
    CloudFormation validation plugin out (synthesis mode: it already ran on the app's own
    synthesis, and the gate keeps only cdk-nag's findings from this run; ~0.4 s of CPU).

    CfnInclude checks a property's type only when the App synthesizes, so one template with a
    structure of the wrong type (``MasterUserSecret: {Ref: P}``) would stop the packs for every
    template. Then the targets are split in halves and synthesized apart, until each template
    that cannot synthesize is alone: that one is unloadable (not evaluated by cdk-nag), the others
    are judged. A run without such a template synthesizes once, as before."""
    try:
        return _run(targets, waivers=waivers, outdir=outdir, cdk_validation=cdk_validation)
    except _SynthesisFailedError as failure:
        if len(targets) == 1:
            return IncludedNag(outcomes={}, resources=0, unmapped=[], unloadable={targets[0].path: str(failure)})
        if outdir is not None:  # a caller that reads the report from outdir gets one report or an error
            raise HarnessError(f"cdk-nag synthesis over the included templates failed: {failure}") from failure
        middle = len(targets) // 2
        halves = [
            run_nag_on_targets(part, waivers=waivers, cdk_validation=cdk_validation)
            for part in (targets[:middle], targets[middle:])
        ]
        return _joined(halves)


def _joined(parts: Sequence[IncludedNag]) -> IncludedNag:
    runs: dict[str, PackRun] = {}
    for part in parts:
        for name, run in part.runs.items():
            seen = runs.get(name)
            runs[name] = run if seen is None else PackRun(
                name=name, calls=seen.calls + run.calls, resources=seen.resources + run.resources,
                violations=seen.violations + run.violations, success=seen.success and run.success,
            )  # fmt: skip
    return IncludedNag(
        outcomes={path: outcome for part in parts for path, outcome in part.outcomes.items()},
        resources=sum(part.resources for part in parts),
        unmapped=[violation for part in parts for violation in part.unmapped],
        unloadable={path: why for part in parts for path, why in part.unloadable.items()},
        runs=runs,
    )


def _run(
    targets: Sequence[ScanTarget], *, waivers: Sequence[Waiver], outdir: Path | None, cdk_validation: bool
) -> IncludedNag:
    cdk_waivers = [w for w in waivers if w.tool in (Tool.CDK_NAG, Tool.CDK_VALIDATE)]
    with tempfile.TemporaryDirectory(prefix="gate-nag-") as scratch:
        out = outdir or Path(scratch)
        app = App(
            outdir=str(out),
            context={"@aws-cdk/core:failSynthOnValidationErrors": False},
            builtin_cloud_formation_validation=cdk_validation,
        )
        stacks: dict[str, ScanTarget] = {}
        unloadable: dict[Path, str] = {}
        for index, target in enumerate(targets):
            stack_id = f"Gate{index}"
            stack = Stack(app, stack_id, synthesizer=DefaultStackSynthesizer(generate_bootstrap_version_rule=False))
            try:
                include = cfn_inc.CfnInclude(stack, INCLUDE_ID, template_file=str(target.path))
            except Exception as error:  # jsii surfaces CfnInclude's parse errors as RuntimeError
                # This template cannot be judged by the packs (the others still are): not evaluated.
                unloadable[target.path] = str(error).strip().splitlines()[0]
                app.node.try_remove_child(stack_id)
                continue
            stacks[stack_id] = target
            for logical_id in sorted(target.body.get("Resources") or {}):
                subject = target.stack.subject(logical_id)
                for waiver in cdk_waivers:
                    if covers(waiver, subject):
                        Validations.of(include.get_resource(logical_id)).acknowledge(
                            Acknowledgment(id=waiver.rule, reason=f"{waiver.id}: {waiver.reason}")
                        )
        if not stacks:  # no template could be included: nothing for the packs to judge, each is not evaluated
            return IncludedNag(outcomes={}, resources=0, unmapped=[], unloadable=unloadable)
        recorders = add_nag_validations(app, acknowledgements=[])
        try:
            app.synth()
        except Exception as error:  # jsii: the first line names the construct and what is wrong
            raise _SynthesisFailedError(str(error).strip().splitlines()[0]) from error
        runs = pack_runs(recorders)
        outcome = judge_report(read_validation_report(out / VALIDATION_REPORT), runs=runs)
    handed = max((run.resources for run in runs.values()), default=0)
    outcomes, unmapped = _split(outcome, stacks)
    return IncludedNag(outcomes=outcomes, resources=handed, unmapped=unmapped, unloadable=unloadable, runs=dict(runs))


def _split(outcome: NagOutcome, stacks: dict[str, ScanTarget]) -> tuple[dict[Path, NagOutcome], list[NagViolation]]:
    result: dict[Path, NagOutcome] = {
        target.path: NagOutcome(packs_in_report=outcome.packs_in_report) for target in stacks.values()
    }

    def mapped(violation: NagViolation) -> tuple[Path, NagViolation] | None:
        parts = violation.construct_path.split("/")
        target = stacks.get(parts[0]) if parts else None
        if target is None:
            return None
        logical_id = parts[2] if len(parts) >= 3 and parts[1] == INCLUDE_ID else violation.logical_id
        return target.path, NagViolation(
            plugin=violation.plugin,
            rule=violation.rule,
            description=violation.description,
            severity=violation.severity,
            construct_path=target.stack.construct_path(logical_id) or violation.construct_path,
            template=target.stack.relpath,
            logical_id=logical_id,
            acknowledged_id=violation.acknowledged_id,
            acknowledged_at=violation.acknowledged_at,
            reason=violation.reason,
        )

    unmapped: list[NagViolation] = []
    bodies = {target.path: target.body for target in stacks.values()}
    for source, attr in ((outcome.violations, "violations"), (outcome.suppressed, "suppressed")):
        for violation in source:
            item = mapped(violation)
            if item is None:
                unmapped.append(violation)
            elif not inclusion_artifacts(
                [item[1]], bodies[item[0]]
            ):  # harness.tools.nag_tree: the tree is CfnInclude's
                getattr(result[item[0]], attr).append(item[1])
    return result, unmapped
