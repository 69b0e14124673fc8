"""The gate's reports under ``reports/``: Markdown, JSON, JUnit XML, SARIF 2.1.0, catalog, traceability.

Every report is deterministic for the same inputs: findings are sorted (Finding.sort_key),
no timestamps or durations appear in the files (the console shows timings), and paths are
relative to the project root where possible.

This module holds what every report renders (:class:`ReportInput`, the file names, the counts);
each format has its own module (``report_markdown``, ``report_json``, ``report_junit``,
``report_traceability`` for the catalog and the traceability matrix, ``harness.reporting.sarif``) and
``report_files`` writes them all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.model import ExitCode, Finding, Source, Status

VERDICTS = {ExitCode.CLEAN: "PASS", ExitCode.VIOLATIONS: "FAIL", ExitCode.HARNESS_FAILURE: "ERROR"}
REPORT_FILES = {
    "markdown": "compliance.md",
    "json": "compliance.json",
    "junit": "compliance.junit.xml",
    "sarif": "compliance.sarif",
    "catalog": "policy-catalog.md",
    "traceability": "traceability.md",
}
SOURCE_ORDER = [s for s in Source]
# What harness.audit.bundle and harness.audit.attest write beside them (named here: they import this module).
BUNDLE_PATHS = ("controls.md", "evidence/", "oscal/", "attestation/")


@dataclass(frozen=True, kw_only=True)
class ReportInput:
    """What every report renders; built by the CLI from a GateResult (or from an error alone)."""

    exit_code: ExitCode
    mode: str
    error: str
    findings: Sequence[Finding]
    assemblies: Sequence[dict[str, Any]]
    waivers: Sequence[dict[str, Any]]
    tools: Sequence[dict[str, Any]]
    requirements: Sequence[dict[str, Any]]
    policies: Sequence[dict[str, Any]]
    mappings: Sequence[dict[str, Any]]
    mutations: Sequence[dict[str, Any]]
    root: Path
    catalog_markdown: str = ""
    coverage: Sequence[dict[str, Any]] = ()  # per policy: resources it applies to, resources it judged
    controls: Sequence[dict[str, Any]] = ()  # per framework control: status and evidence (harness.verdict.controls)
    delta: dict[str, Any] | None = None  # with a base: introduced / fixed / unchanged (harness.comparison.delta)
    changes: Sequence[dict[str, Any]] = ()  # with a base: resources that differ (harness.comparison.changes)
    link_base: str = ""  # prefix of links to source lines in the Markdown report
    shard: Mapping[str, Any] | None = None  # this run is shard {index, total, name} of a CI matrix (--shard)
    shards: Sequence[Mapping[str, Any]] = ()  # a merged report: every shard folded in (harness.merging.merge)
    sarif_category: str = "compliance-gate"  # code scanning category prefix of every SARIF run
    registry: Sequence[dict[str, Any]] = ()  # per reviewed resource type: judged / neutral counts (policies/registry)
    rules: Mapping[str, Any] | None = (
        None  # the rules that judged: digests, changes against the base (harness.comparison.policy_change)
    )

    @property
    def verdict(self) -> str:
        return VERDICTS[self.exit_code]


# Tools whose output has no record of a rule that passed: CDK's policy-validation report (cdk-nag 3's packs
# and CDK's other plugins) lists violations only, and a pack's rule that finds nothing on a resource
# cannot be told from one that does not apply to it. Their Passed count is shown as unknown, not 0.
PASSES_UNREPORTED = frozenset({Source.CDK_NAG, Source.CDK_VALIDATE})
PASSES_UNREPORTED_MARK = "—"
PASSES_UNREPORTED_LEGEND = (
    f"{PASSES_UNREPORTED_MARK} in *Passed*: cdk-nag and CDK's other validation plugins report violations only "
    "(CDK's policy-validation report has no record of a rule that passed or did not apply), so they have no pass "
    "count; rules × resources without a finding would count every rule that does not apply to a resource as a pass. "
    "The resources each pack judged are under *Tools that ran*."
)


def passed_cell(source: Source, counter: Counter[Status]) -> str:
    """The Passed count of one tool, or the mark for a tool that reports no passes."""
    return PASSES_UNREPORTED_MARK if source in PASSES_UNREPORTED else str(counter[Status.PASSED])


def counts(findings: Iterable[Finding]) -> dict[Source, Counter[Status]]:
    table: dict[Source, Counter[Status]] = {source: Counter() for source in SOURCE_ORDER}
    for finding in findings:
        table[finding.source][finding.status] += 1
    return table


def counts_record(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """Per tool that produced something, findings per status: compliance.json's and the statement's ``counts``."""
    return {
        source.value: {status.value: counter[status] for status in Status}
        for source, counter in counts(findings).items()
        if sum(counter.values())
    }


def with_template_lines(findings: Sequence[Finding], roots: Mapping[str, str]) -> list[Finding]:
    """Each finding with the line of its logical id in its template (``roots``: assembly label -> directory)."""
    cache: dict[str, _KeyLines] = {}
    return [
        replace(f, template_line=_template_line(roots[f.assembly], f.template, f.logical_id, cache))
        if f.template and f.logical_id and f.assembly in roots and not f.template_line
        else f
        for f in findings
    ]


@dataclass(frozen=True)
class _KeyLines:
    """A template's lines, and the first line of each ``"Key": {`` opening (one pass: a finding is one lookup)."""

    lines: list[str]
    first: dict[str, int]


def _template_line(assembly_root: str, template: str, logical_id: str, cache: dict[str, _KeyLines]) -> int:
    path = Path(assembly_root) / template
    key = str(path)
    if key not in cache:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        first: dict[str, int] = {}
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            end = text.find('": {')
            if text.startswith('"') and end > 0:
                first.setdefault(text[1:end], number)
        cache[key] = _KeyLines(lines=lines, first=first)
    found = cache[key].first.get(logical_id)
    if found is not None:
        return found
    needle = f'"{logical_id}": {{'  # an id the index cannot hold (one containing '": {'): the plain search
    return next((i for i, line in enumerate(cache[key].lines, start=1) if line.strip().startswith(needle)), 1)
