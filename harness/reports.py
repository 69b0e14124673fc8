"""The gate's reports under ``reports/``: Markdown, JSON, JUnit XML, SARIF 2.1.0, catalog, traceability.

Every report is deterministic for the same inputs: findings are sorted (Finding.sort_key),
no timestamps or durations appear in the files (the console shows timings), and paths are
relative to the project root where possible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from harness.catalog.registry import render_markdown as render_registry
from harness.controls import render_unsatisfied
from harness.delta import render_delta_markdown
from harness.markdown import cell, natural_key, source_link
from harness.model import ExitCode, Finding, Source, Status
from harness.rules_report import render_rules_markdown
from harness.sarif import render_sarif

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
# What harness.bundle and harness.attest write beside them (named here: they import this module).
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
    controls: Sequence[dict[str, Any]] = ()  # per framework control: status and evidence (harness.controls)
    delta: dict[str, Any] | None = None  # with a base: introduced / fixed / unchanged (harness.delta)
    changes: Sequence[dict[str, Any]] = ()  # with a base: resources that differ (harness.changes)
    link_base: str = ""  # prefix of links to source lines in the Markdown report
    shard: Mapping[str, Any] | None = None  # this run is shard {index, total, name} of a CI matrix (--shard)
    shards: Sequence[Mapping[str, Any]] = ()  # a merged report: every shard folded in (harness.merge)
    sarif_category: str = "compliance-gate"  # code scanning category prefix of every SARIF run
    registry: Sequence[dict[str, Any]] = ()  # per reviewed resource type: judged / neutral counts (policies/registry)
    rules: Mapping[str, Any] | None = (
        None  # the rules that judged: digests, changes against the base (harness.policy_change)
    )

    @property
    def verdict(self) -> str:
        return VERDICTS[self.exit_code]


def write_reports(data: ReportInput, directory: Path) -> dict[str, Path]:
    """Render every report into a temporary folder beside ``directory``, then move each into place."""
    rendered = {
        "markdown": render_markdown(data),
        "json": render_json(data),
        "junit": render_junit(data),
        "sarif": render_sarif(data),
        "catalog": render_catalog(data),
        "traceability": render_traceability(data),
    }
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".reports-", dir=directory))
    try:
        for kind, text in rendered.items():
            (staging / REPORT_FILES[kind]).write_text(text, encoding="utf-8")
        paths = {}
        # compliance.json (the verdict machines read) moves last: it never precedes the others.
        for kind in sorted(rendered, key=lambda k: k == "json"):
            path = directory / REPORT_FILES[kind]
            os.replace(staging / REPORT_FILES[kind], path)
            paths[kind] = path
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# A PR comment holds 65,536 characters: long tables are cut, the JSON report has everything.
MAX_ROWS = 60


def _more(total: int) -> list[str]:
    return ["", f"… and {total - MAX_ROWS} more in `reports/compliance.json`."] if total > MAX_ROWS else []


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


def _where(f: Finding, link_base: str) -> str:
    """The construct path, the infra/ line that created it and the line that set the property, as links (when known)."""
    where = cell(f.construct_path)
    if f.code_file:
        where += f"<br>{source_link(f.code_file, f.code_line, link_base)}"
    for file, line in ((f.property_file, f.property_line), (f.value_file, f.value_line)):
        if file:
            where += f"<br>set by {source_link(file, line, link_base)}"
    return where


def _resource(f: Finding) -> str:
    if f.logical_id:
        return f"{f.logical_id} ({f.resource_type})" if f.resource_type else f.logical_id
    return f.template or "-"


def _md_shards(data: ReportInput) -> list[str]:
    """A merged report's shards (python -m harness merge); nothing for one run."""
    shards = data.shards
    if not shards:
        return []
    return [
        f"## Shards ({len(shards)}, merged by `python -m harness merge`)",
        "",
        "| Shard | Name | Verdict | Exit | Assemblies |",
        "|---|---|---|---:|---|",
        *(
            f"| {s['index']}/{s['total']} | {cell(s['name'])} | {s['verdict']} | {s['exit_code']} | "
            f"{cell(', '.join(s['assemblies']) or '-')} |"
            for s in shards
        ),
        "",
    ]


def render_markdown(data: ReportInput) -> str:
    """The PR comment: verdict first, then each section that has something to say."""
    lines: list[str] = []
    for section in MARKDOWN_SECTIONS:
        lines += section(data)
    names = [*REPORT_FILES.values(), *BUNDLE_PATHS]
    lines += ["Reports: " + ", ".join(f"`reports/{name}`" for name in names), ""]
    return "\n".join(lines)


def _md_verdict(data: ReportInput) -> list[str]:
    icon = {"PASS": "✅", "FAIL": "❌", "ERROR": "⛔"}[data.verdict]
    lines = [
        f"# {icon} Compliance gate: {data.verdict}",
        "",
        f"Exit code **{int(data.exit_code)}** · mode **{data.mode}** · "
        "`nox -s compliance` (0 clean, 1 violations, 2 harness failure)",
        "",
    ]
    if data.error:
        lines += [
            "## Harness failure",
            "",
            f"> {data.error}",
            "",
            "The gate could not prove that every check ran, so it fails closed.",
            "",
        ]
    return lines


def _md_rules(data: ReportInput) -> list[str]:
    """With a base: every change to the rules, before anything else (harness.rules, harness.policy_change)."""
    return render_rules_markdown(data.rules, data.findings)


def _md_delta(data: ReportInput) -> list[str]:
    """With a base: what the change does, before everything else (harness.delta)."""
    return render_delta_markdown(data.delta, data.changes, link_base=data.link_base)


def _md_counts(data: ReportInput) -> list[str]:
    if not data.findings:
        return []
    lines = [
        "## Counts per tool",
        "",
        "| Tool | Failed | Not evaluated | Warnings | Waived | Passed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    shown = [(source, counter) for source, counter in counts(data.findings).items() if sum(counter.values())]
    lines += [
        f"| {source.value} | {counter[Status.FAILED]} | {counter[Status.NOT_EVALUATED]} | "
        f"{counter[Status.WARNING]} | {counter[Status.WAIVED]} | {passed_cell(source, counter)} |"
        for source, counter in shown
    ]
    if any(source in PASSES_UNREPORTED for source, _ in shown):
        lines += ["", PASSES_UNREPORTED_LEGEND]
    return [*lines, ""]


def _md_tools(data: ReportInput) -> list[str]:
    if not data.tools:
        return []
    lines = [
        "<details><summary>Tools that ran</summary>",
        "",
        "| Tool | Version | Evaluated | How |",
        "|---|---|---:|---|",
    ]
    for tool in data.tools:
        command = tool["command"]
        shown = Path(command).name if "/" in command.split(" ")[0] else command
        how = "; ".join([cell(shown), *tool.get("notes", [])])
        lines.append(f"| {tool['tool']} | {cell(tool['version'])} | {tool['evaluated']} | {cell(how)} |")
        lines += [
            f"| ↳ {cell(pack['label'])} | | {pack['resources']} resources | {pack['findings']} finding(s) |"
            for pack in tool.get("packs", [])
        ]
    return [*lines, "", "</details>", ""]


def _md_assemblies(data: ReportInput) -> list[str]:
    if len(data.assemblies) <= 1:
        return []
    lines = ["## Assemblies", "", "| Assembly | Exit | Failed rules |", "|---|---:|---|"]
    lines += [f"| {a['label']} | {a['exit_code']} | {cell(', '.join(a['failed_rules']))} |" for a in data.assemblies]
    return [*lines, ""]


def _md_table(
    data: ReportInput, findings: list[Finding], *, heading: list[str], columns: list[str], row: Any
) -> list[str]:
    """A findings table (with an Assembly column when several are gated), cut at MAX_ROWS."""
    if not findings:
        return []
    several = len(data.assemblies) > 1
    lines = [*heading, ("| Assembly " if several else "") + "| " + " | ".join(columns) + " |"]
    lines.append(("|---" if several else "") + "|---" * len(columns) + "|")
    lines += [
        (f"| {cell(f.assembly)} " if several else "") + "| " + " | ".join(row(f)) + " |" for f in findings[:MAX_ROWS]
    ]
    return [*lines, *_more(len(findings)), ""]


def _md_failures(data: ReportInput) -> list[str]:
    failures = [f for f in data.findings if f.status is Status.FAILED]
    return _md_table(
        data,
        failures,
        heading=[f"## Failures ({len(failures)})", ""],
        columns=["Policy", "Tool", "Resource", "Construct path", "Remediation", "Detail"],
        row=lambda f: [
            _rule_cell(f),
            f.source.value,
            cell(_resource(f)),
            _where(f, data.link_base),
            cell(f.remediation),
            cell(f.message or f.title),
        ],
    )


def _md_not_evaluated(data: ReportInput) -> list[str]:
    unjudged = [f for f in data.findings if f.status is Status.NOT_EVALUATED]
    return _md_table(
        data,
        unjudged,
        heading=[
            f"## Not evaluated ({len(unjudged)})",
            "",
            "The gate could not judge these: the template leaves the value or the content to deploy time, or a "
            "policy gave no verdict. Each fails the gate like a violation.",
            "",
        ],
        columns=["Policy", "Resource", "Construct path", "Why not", "Remediation"],
        row=lambda f: [
            f"`{cell(f.rule_id)}`",
            cell(_resource(f)),
            _where(f, data.link_base),
            cell(f.message or f.title),
            cell(f.remediation),
        ],
    )


def _md_coverage(data: ReportInput) -> list[str]:
    if not data.coverage:
        return []
    lines = ["<details><summary>Resources each policy judged</summary>", "", "| Policy | Applies to | Judged |"]
    lines += ["|---|---:|---:|", *(f"| `{c['policy']}` | {c['resources']} | {c['judged']} |" for c in data.coverage)]
    return [*lines, "", "</details>", ""]


def _rule_cell(f: Finding) -> str:
    """The rule id and, for checkov's built-in checks (ids say nothing to a reader), what the check wants."""
    title = f"<br>{cell(f.title)}" if f.source is Source.CHECKOV and f.title and f.title != f.rule_id else ""
    return f"`{cell(f.rule_id)}`{title}"


def _md_waived(data: ReportInput) -> list[str]:
    waived = [f for f in data.findings if f.status is Status.WAIVED]
    if not waived:
        return []
    lines = [f"## Waived ({len(waived)})", "", "| Waiver | Rule | Resource | Construct path | Expires |"]
    lines.append("|---|---|---|---|---|")
    lines += [
        f"| {cell(f.waiver_id)} | {_rule_cell(f)} | {cell(_resource(f))} | {cell(f.construct_path)} | "
        f"{cell(f.waiver_expires)} |"
        for f in waived[:MAX_ROWS]
    ]
    return [*lines, *_more(len(waived)), ""]


def _md_waiver_attention(data: ReportInput) -> list[str]:
    expired = [("**expired** (fails)", w) for w in data.waivers if w["expired"]]
    stale = [("stale (warning)", w) for w in data.waivers if w["matched"] == 0 and not w["expired"]]
    if not expired and not stale:
        return []
    lines = ["## Waivers needing attention", "", "| Waiver | State | Rule | Target | Owner | Expires |"]
    lines.append("|---|---|---|---|---|---|")
    lines += [
        f"| {w['waiver_id']} | {state} | `{cell(w['rule'])}` | {cell(w['target'])} | {cell(w['owner'])} | {w['expires']} |"
        for state, w in [*expired, *stale]
    ]
    return [*lines, ""]


def _md_warnings(data: ReportInput) -> list[str]:
    warnings = [f for f in data.findings if f.status is Status.WARNING and f.source is not Source.GATE]
    if not warnings:
        return []
    lines = [
        f"<details><summary>Warnings ({len(warnings)}, not gating)</summary>",
        "",
        "| Rule | Tool | Resource | Detail |",
    ]
    lines.append("|---|---|---|---|")
    lines += [
        f"| `{cell(f.rule_id)}` | {f.source.value} | {cell(_resource(f))} | {cell(f.message or f.title)} |"
        for f in warnings[:MAX_ROWS]
    ]
    return [*lines, *_more(len(warnings)), "", "</details>", ""]


def _md_unsatisfied_controls(data: ReportInput) -> list[str]:
    return render_unsatisfied(data.controls, data.waivers, verdict=data.verdict)


MARKDOWN_SECTIONS = (
    _md_verdict,
    _md_rules,  # with a base, what the change does to the rules that judge it comes first of all
    _md_delta,  # with a base, what the change does comes first (a PR reviewer's first question)
    _md_unsatisfied_controls,
    _md_counts,
    _md_tools,
    _md_shards,
    _md_assemblies,
    _md_failures,
    _md_not_evaluated,
    _md_coverage,
    _md_waived,
    _md_waiver_attention,
    _md_warnings,
)


def render_json(data: ReportInput) -> str:
    document = {
        "schema": "staging-rds-compliance-gate/1",
        "verdict": data.verdict,
        "exit_code": int(data.exit_code),
        "mode": data.mode,
        "error": data.error,
        "counts": counts_record(data.findings),
        "assemblies": [{k: v for k, v in a.items() if k != "abs_path"} for a in data.assemblies],
        "tools": list(data.tools),
        "waivers": list(data.waivers),
        "coverage": list(data.coverage),
        "registry": [{k: v for k, v in row.items() if k != "entries"} for row in data.registry],
        "controls": list(data.controls),
        "delta": data.delta,
        "changes": list(data.changes),
        "rules": dict(data.rules) if data.rules is not None else None,
        "findings": [f.to_record() for f in data.findings],
    }
    if data.shard is not None:
        document["shard"] = dict(data.shard)
    if data.shards:
        document["shards"] = [dict(s) for s in data.shards]
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_junit(data: ReportInput) -> str:
    suites = ET.Element("testsuites", name="compliance-gate")
    by_source: dict[Source, list[Finding]] = {}
    for f in data.findings:
        by_source.setdefault(f.source, []).append(f)
    if data.error:
        suite = ET.SubElement(suites, "testsuite", name="harness", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="harness", name="gate ran every check")
        ET.SubElement(case, "error", message=data.error, type="HarnessError").text = data.error
    for source in SOURCE_ORDER:
        items = by_source.get(source, [])
        if not items:
            continue
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=source.value,
            tests=str(len(items)),
            failures=str(sum(f.status.gates for f in items)),
            errors="0",
            skipped=str(sum(f.status is Status.WAIVED for f in items)),
        )
        for f in items:
            where = "/".join(p for p in (f.assembly, f.template, f.logical_id) if p) or f.rule_id
            case = ET.SubElement(suite, "testcase", classname=f"{source.value}.{f.rule_id}", name=where)
            if f.status.gates:
                text = "\n".join(
                    p
                    for p in (
                        f.message,
                        f"construct path: {f.construct_path}" if f.construct_path else "",
                        f"remediation: {f.remediation}" if f.remediation else "",
                    )
                    if p
                )
                kind = "not-evaluated" if f.status is Status.NOT_EVALUATED else f.rule_id
                ET.SubElement(case, "failure", message=(f.message or f.title)[:500], type=kind).text = text
            elif f.status is Status.WAIVED:
                ET.SubElement(case, "skipped", message=f"waived by {f.waiver_id} until {f.waiver_expires or 'n/a'}")
            elif f.status is Status.WARNING:
                ET.SubElement(case, "system-out").text = f"warning: {f.message or f.title}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def with_template_lines(findings: Sequence[Finding], roots: Mapping[str, str]) -> list[Finding]:
    """Each finding with the line of its logical id in its template (``roots``: assembly label -> directory)."""
    cache: dict[str, list[str]] = {}
    return [
        replace(f, template_line=_template_line(Path(), roots[f.assembly], f.template, f.logical_id, cache))
        if f.template and f.logical_id and f.assembly in roots and not f.template_line
        else f
        for f in findings
    ]


def _template_line(root: Path, assembly_root: str, template: str, logical_id: str, cache: dict[str, list[str]]) -> int:
    path = Path(assembly_root) / template
    key = str(path)
    if key not in cache:
        try:
            cache[key] = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            cache[key] = []
    needle = f'"{logical_id}": {{'
    return next((i for i, line in enumerate(cache[key], start=1) if line.strip().startswith(needle)), 1)


def _run_result(findings: Sequence[Finding], rule_ids: set[str]) -> str:
    relevant = [f for f in findings if f.rule_id in rule_ids]
    if not relevant:
        return "not evaluated"
    statuses = {f.status for f in relevant}
    if Status.FAILED in statuses:
        return "FAIL"
    if Status.NOT_EVALUATED in statuses:
        return "NOT EVALUATED"
    if Status.WAIVED in statuses:
        return "PASS (waived: " + ", ".join(sorted({f.waiver_id for f in relevant if f.waiver_id})) + ")"
    return "PASS"


def render_catalog(data: ReportInput) -> str:
    if data.catalog_markdown:
        return data.catalog_markdown
    return f"# Policy catalog\n\nNot generated: the gate failed before it loaded policies/ ({data.error}).\n"


NOT_RUN = "not run in this gate"


def _external_result(findings: Sequence[Finding], coverage: dict[str, Any]) -> str:
    by, reference = str(coverage.get("by", "")), str(coverage.get("reference", ""))
    if by in ("cdk-nag", "checkov", "cfn-lint"):
        ids = {
            f.rule_id
            for f in findings
            if any(token and token in f.rule_id for token in re.split(r"[\s,;]+", reference))
        }
        return _run_result(findings, ids)
    if by.endswith("tests"):
        modules = [m.removesuffix(".py").replace("/", ".") for m in re.findall(r"tests/[\w/]+\.py", reference)]
        ids = {
            f.rule_id for f in findings if f.source is Source.TESTS and any(f.rule_id.startswith(m) for m in modules)
        }
        return _run_result(findings, ids) if ids else NOT_RUN
    return "documented (no automated check)"


def _junit_id(node_id: str) -> str:
    """``tests/policies/test_x.py::test_y[Z]`` as the gate's JUnit reading names it (``tests.policies.test_x::test_y[Z]``)."""
    path, _, name = node_id.partition("::")
    return f"{path.removesuffix('.py').replace('/', '.')}::{name}"


def render_traceability(data: ReportInput) -> str:
    """Spec requirement -> policies -> tests -> result, claiming only what this run executed."""
    ran_tests = {f.rule_id: f for f in data.findings if f.source is Source.TESTS}
    lines = [
        "# Traceability: spec requirement → policies → tests → result of this run",
        "",
        f"Verdict of this run: **{data.verdict}** (mode {data.mode}). Only tests and checks this run executed "
        "count here: a requirement is never PASS on evidence from another run. The policy-fixture tests "
        "(`tests/policies`) and the mutation cases (`harness/mutations.py`, gated by "
        "`tests/harness/test_mutations.py`) run in `nox -s tests`, not in this gate; they are listed as "
        f'"{NOT_RUN}" unless this run executed them.',
        "",
        "| Requirement | Spec text | Policies | Tests run in this gate | Result of this run |",
        "|---|---|---|---|---|",
    ]
    for req in sorted(data.requirements, key=lambda r: natural_key(r["id"])):
        policies = sorted(
            (p for p in data.policies if req["id"] in p["requirements"]), key=lambda p: natural_key(p["id"])
        )
        policy_ids = [p["id"] for p in policies]
        test_ids = [t for p in policies for t in p.get("test_ids", [])]
        executed = [f"{t}: {ran_tests[_junit_id(t)].status.value}" for t in test_ids if _junit_id(t) in ran_tests]
        skipped = len(test_ids) - len(executed)
        mutations = [m["name"] for m in data.mutations if set(m["policies"]) & set(policy_ids)]
        tests = [*executed]
        if skipped:
            tests.append(f"{skipped} policy-fixture test(s): {NOT_RUN}")
        if mutations:
            tests.append(f"mutations {', '.join(f'mutation:{m}' for m in mutations)}: {NOT_RUN}")
        results = [_run_result(data.findings, set(policy_ids))] if policy_ids else []
        tests += [f"{c['by']}: {c['reference']}" for c in req.get("covered_by", [])]
        results += [f"{c['by']}: {_external_result(data.findings, c)}" for c in req.get("covered_by", [])]
        lines.append(
            f"| {req['id']} | {cell(req['text'])} | {cell(', '.join(f'`{p}`' for p in policy_ids) or 'none')} | "
            f"{cell('<br>'.join(tests) or '-')} | {cell('<br>'.join(results) or 'no coverage (gap)')} |"
        )
    if data.registry:
        lines += ["", *render_registry(list(data.registry), details=False)]
    packs = [p for tool in data.tools for p in tool.get("packs", [])]
    if packs:
        lines += [
            "",
            "## cdk-nag packs: what each evaluated",
            "",
            "| Pack | Run | Resources evaluated | Findings |",
            "|---|---|---:|---:|",
        ]
        for tool in data.tools:
            for pack in tool.get("packs", []):
                lines.append(
                    f"| {cell(pack['label'])} | {cell(tool['command'])} | {pack['resources']} | {pack['findings']} |"
                )
    lines.append("")
    return "\n".join(lines)
