"""What the background tools of a gate run gave back, and what each tool did as the ToolRun records reports list."""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.model import Finding, RulePackRun, Source, ToolRun, nag_notes
from harness.proc import Started
from harness.tools.nag import PACK_LABELS, PACK_NAMES, NagOutcome, PackRun
from harness.tools.run_cfnlint import LintRun, cfnlint_version
from harness.tools.run_checkov import CheckovRun
from harness.tools.run_pytest import TestRun


@dataclass(frozen=True, kw_only=True)
class Scanners:
    """The scanners the gate started in the background, and what their output is checked against."""

    checkov: Started
    lint: list[Started]
    templates: list[Path]  # originals, for cfn-lint
    expected_resources: int  # resources in the world files, for checkov's count


@dataclass(kw_only=True)
class Collected:
    """The output of the tools the gate ran in the background."""

    checkov: CheckovRun
    lint: LintRun
    tests: TestRun | None


def nag_tool_run(
    began: float, *outcomes: NagOutcome, command: str, resources: int = 0, runs: dict[str, PackRun] | None = None
) -> ToolRun:
    """cdk-nag's run since ``began`` (``time.monotonic()``): each pack, the resources it saw, its findings."""
    packs = sorted({p for o in outcomes for p in o.packs_in_report if p in PACK_NAMES})
    recorded = dict(runs or {})
    for outcome in outcomes:
        recorded.update(outcome.runs)
    pack_runs = [
        RulePackRun(
            name=name,
            label=PACK_LABELS[name],
            resources=recorded[name].resources if name in recorded else 0,
            findings=sum(o.findings_of(name) for o in outcomes),
        )
        for name in PACK_NAMES
    ]
    return ToolRun(
        source=Source.CDK_NAG,
        version=importlib.metadata.version("cdk-nag"),
        command=command,
        duration_s=time.monotonic() - began,
        evaluated=sum(len(o.violations) + len(o.suppressed) for o in outcomes),
        notes=nag_notes(pack_runs, with_findings=packs, resources=resources),
        packs=pack_runs,
    )


def scanner_tool_runs(
    collected: Collected,
    *,
    findings: Sequence[Finding],
    policies: int,
    cfn_lint: str,
    tiers: Sequence[str],
) -> list[ToolRun]:
    """checkov (its own checks and the project's policies), cfn-lint and, when they ran, the test tiers."""
    checkov, lint, tests = collected.checkov, collected.lint, collected.tests
    runs = [
        ToolRun(
            source=Source.CHECKOV,
            version=checkov.version,
            command="checkov --framework cloudformation --skip-download, offline env, one process over every world file",
            duration_s=checkov.duration_s,
            evaluated=sum(1 for f in findings if f.source is Source.CHECKOV),
        ),
        ToolRun(
            source=Source.PROJECT,
            version=f"{policies} policies",
            command="checkov --external-checks-dir policies/checks",
            duration_s=checkov.duration_s,
            evaluated=sum(1 for f in findings if f.source is Source.PROJECT),
        ),
        ToolRun(
            source=Source.CFN_LINT,
            version=cfnlint_version(cfn_lint),
            command="cfn-lint --format json",
            duration_s=lint.duration_s,
            evaluated=len(lint.templates),
        ),
    ]
    if tests is not None:
        runs.append(
            ToolRun(
                source=Source.TESTS,
                version=", ".join(tiers),
                command="pytest",
                duration_s=tests.duration_s,
                evaluated=len(tests.cases),
            )
        )
    return runs
