"""Records every stage produces and every report reads: findings, tool runs, the verdict."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    CLEAN = 0
    VIOLATIONS = 1
    HARNESS_FAILURE = 2


class Status(StrEnum):
    FAILED = "failed"  # a violation: fails the gate
    NOT_EVALUATED = "not-evaluated"  # the gate could not judge it (content or values not in the template): fails
    WARNING = "warning"  # reported, does not fail the gate
    WAIVED = "waived"  # a matching, unexpired waiver from policies/ covers it
    PASSED = "passed"

    @property
    def gates(self) -> bool:
        """Whether a finding with this status fails the gate (exit 1)."""
        return self in (Status.FAILED, Status.NOT_EVALUATED)


class Source(StrEnum):
    """Which layer produced a finding (the Markdown report counts per source)."""

    CDK_NAG = "cdk-nag"
    CDK_VALIDATE = "cdk-validate"  # other CDK validation plugins (CloudFormation Validate, annotations)
    CHECKOV = "checkov"
    PROJECT = "project"  # the project's own checkov custom checks in policies/
    CFN_LINT = "cfn-lint"
    TESTS = "tests"
    GATE = "gate"  # the gate's own rules: expired waivers, content it cannot see, missing verdicts
    CHANGE = "change"  # what a change does to the stack against a base (harness.changes): stateful replacement/removal


STATUS_ORDER = {Status.FAILED: 0, Status.NOT_EVALUATED: 1, Status.WARNING: 2, Status.WAIVED: 3, Status.PASSED: 4}


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One check evaluated on one resource (or one test), with its outcome."""

    source: Source
    rule_id: str  # policy id, checkov/cfn-lint rule id, namespaced cdk-nag rule, or test node id
    status: Status
    title: str
    assembly: str = ""  # label of the cloud assembly (matters when several are gated at once)
    template: str = ""  # template file, relative to its assembly
    logical_id: str = ""
    construct_path: str = ""
    resource_type: str = ""
    message: str = ""
    severity: str = ""
    remediation: str = ""
    waiver_id: str = ""
    waiver_expires: str = ""
    stack: str = ""  # stack id (e.g. "StagingDatabase", "Stage/Stack", "Parent/Nested")
    world: str = ""  # the deploy-time choices under which this verdict holds ("" = every world)
    code_file: str = ""  # the infra/ file (repository-relative) whose line created the construct (harness.sources)
    code_line: int = 0
    # The keyword argument of that construct call the finding is about (harness.sources.locate_properties:
    # its message names the property), and where its value came from when elsewhere (an infra/spec.toml line).
    property_name: str = field(default="", compare=False)
    property_file: str = field(default="", compare=False)
    property_line: int = field(default=0, compare=False)
    value_file: str = field(default="", compare=False)
    value_line: int = field(default=0, compare=False)
    # Line of the logical id in the template as gated (0 = unknown): compliance.json carries it so a
    # report rebuilt from it (python -m harness merge) points at the same line without the template.
    template_line: int = field(default=0, compare=False)
    # Framework key -> control ids the rule is mapped to (harness.controls.annotate; not part of sort_key:
    # a function of rule_id, which already is).
    controls: Mapping[str, Sequence[str]] = field(default_factory=dict, compare=False)

    def sort_key(self) -> tuple[str, int, str, str, str, str, str, str]:
        return (
            self.assembly,
            STATUS_ORDER[self.status],
            self.source.value,
            self.rule_id,
            self.template,
            self.logical_id,
            self.construct_path,
            self.message,
        )


@dataclass(frozen=True, kw_only=True)
class RulePackRun:
    """One cdk-nag pack in one tool run: what it was handed, not only what it found."""

    name: str  # plugin name, e.g. "PCI.DSS.321"
    label: str  # what auditors read, e.g. "PCI DSS 3.2.1 (cdk-nag pack, not v4.0.1)"
    resources: int  # resources in the templates handed to the pack (harness.nag.PackRun.resources)
    findings: int  # violations and acknowledged violations it reported


def nag_notes(packs: Sequence[RulePackRun], *, with_findings: Collection[str], resources: int) -> list[str]:
    """The notes of a cdk-nag tool run: what ran, which packs found something, what each was handed.

    One function for the gate and ``python -m harness merge`` (which adds the shards' packs up).
    """
    labels = {pack.name: pack.label for pack in packs}
    return [
        f"packs ran: {', '.join(pack.label for pack in packs)}",
        f"packs with findings: {', '.join(labels[name] for name in sorted(with_findings) if name in labels) or 'none'}",
        *([f"resources handed to each pack: {resources}"] if resources else []),
    ]


@dataclass(kw_only=True)
class ToolRun:
    """What one tool did: proof that it ran, what it evaluated, how long it took."""

    source: Source
    version: str = ""
    command: str = ""
    evaluated: int = 0  # results (check x resource) or tests the tool produced
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    packs: list[RulePackRun] = field(default_factory=list)  # cdk-nag: one entry per pack


@dataclass(frozen=True, kw_only=True)
class WaiverUse:
    """A waiver from policies/ and what it matched in this run."""

    waiver_id: str
    tool: str
    rule: str
    target: str
    owner: str
    expires: str
    reason: str
    matched: int
    expired: bool
