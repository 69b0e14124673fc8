"""Records every stage produces and every report reads: findings, tool runs, the verdict."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import IntEnum, StrEnum
from typing import Any


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
    CHANGE = "change"  # what a change does to the stack against a base (harness.comparison.changes): stateful replacement/removal


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
    code_file: str = (
        ""  # the infra/ file (repository-relative) whose line created the construct (harness.reading.sources)
    )
    code_line: int = 0
    # The keyword argument of that construct call the finding is about (harness.reading.sources.locate_properties:
    # its message names the property), and where its value came from when elsewhere (an infra/spec.toml or cdk.json line).
    property_name: str = field(default="", compare=False)
    property_file: str = field(default="", compare=False)
    property_line: int = field(default=0, compare=False)
    value_file: str = field(default="", compare=False)
    value_line: int = field(default=0, compare=False)
    # Line of the logical id in the template as gated (0 = unknown): compliance.json carries it so a
    # report rebuilt from it (python -m harness merge) points at the same line without the template.
    template_line: int = field(default=0, compare=False)
    # Framework key -> control ids the rule is mapped to (harness.verdict.controls.annotate; not part of sort_key:
    # a function of rule_id, which already is).
    controls: Mapping[str, Sequence[str]] = field(default_factory=dict, compare=False)

    def to_record(self) -> dict[str, Any]:
        """The finding as every report and cache records it (JSON-ready; :meth:`from_record` reads it back)."""
        record: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        record["source"], record["status"] = self.source.value, self.status.value
        record["controls"] = {key: list(ids) for key, ids in self.controls.items()}
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Finding:
        """The finding a record holds; a record this harness cannot read raises FindingRecordError (one line).

        An unknown key is refused, never dropped: a record from another harness version may carry a
        judgement this one would silently lose.
        """
        if not isinstance(record, Mapping):
            raise FindingRecordError(f"a finding record is an object, not {type(record).__name__}")
        unknown = sorted(set(record) - _FIELD_TYPES.keys())
        if unknown:
            raise FindingRecordError(
                f"unknown key {unknown[0]!r} in the finding record of rule {record.get('rule_id')!r} "
                f"(known keys: {', '.join(sorted(_FIELD_TYPES))})"
            )
        missing = sorted(name for name in _REQUIRED if name not in record)
        if missing:
            raise FindingRecordError(f"the finding record lacks {missing[0]!r} (example: {_EXAMPLE})")
        for name, value in record.items():
            if not _FIELD_TYPES[name](value):
                raise FindingRecordError(
                    f"finding record of rule {record.get('rule_id')!r}: {name}={value!r} is not valid"
                )
        values: dict[str, Any] = {**record, "source": Source(record["source"]), "status": Status(record["status"])}
        values["controls"] = {str(key): tuple(ids) for key, ids in (record.get("controls") or {}).items()}
        return cls(**values)

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


class FindingRecordError(ValueError):
    """A finding record (compliance.json, the base cache) this harness cannot read: one line naming the key."""


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_line(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_controls(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, list | tuple) and all(isinstance(i, str) for i in v)
        for k, v in value.items()
    )


# What each key of a finding record may hold (every field of Finding, nothing else).
_FIELD_TYPES: dict[str, Any] = {
    # By the field's declared type, so a field added to Finding is read back without another edit here.
    **{f.name: (_is_line if f.type in ("int", int) else _is_str) for f in fields(Finding)},
    "source": lambda v: v in {s.value for s in Source},
    "status": lambda v: v in {s.value for s in Status},
    "controls": _is_controls,
}
_REQUIRED = ("source", "rule_id", "status", "title")
_EXAMPLE = '{"source": "project", "rule_id": "CKV_STG_RDS_1", "status": "failed", "title": "..."}'


@dataclass(frozen=True, kw_only=True)
class Subject:
    """The resource a finding is about, as a waiver sees it (a record of the assembly, read by harness.tools.waivers)."""

    stack: str = ""
    logical_id: str = ""
    construct_path: str = ""
    resource_type: str = ""
    # More than one resource of the stack carries this construct path: it names no single resource.
    ambiguous_path: bool = False
    # Content hashes of the code the resource carries, sorted ("" = code the gate cannot read).
    code_sha256: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RulePackRun:
    """One cdk-nag pack in one tool run: what it was handed, not only what it found."""

    name: str  # plugin name, e.g. "PCI.DSS.321"
    label: str  # what auditors read, e.g. "PCI DSS 3.2.1 (cdk-nag pack, not v4.0.1)"
    resources: int  # resources in the templates handed to the pack (harness.tools.nag.PackRun.resources)
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
