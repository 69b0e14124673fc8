"""compliance.md: the verdict, counts, tools, failures, not-evaluated, waivers and warnings, for a PR comment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.comparison.delta import render_delta_markdown
from harness.markdown import cell, source_link
from harness.model import Finding, Source, Status
from harness.reporting.reports import (
    BUNDLE_PATHS,
    PASSES_UNREPORTED,
    PASSES_UNREPORTED_LEGEND,
    REPORT_FILES,
    ReportInput,
    counts,
    passed_cell,
)
from harness.reporting.rules_report import render_rules_markdown
from harness.verdict.controls import render_unsatisfied

# A PR comment holds 65,536 characters: long tables are cut, the JSON report has everything.
MAX_ROWS = 60


def _more(total: int) -> list[str]:
    return ["", f"… and {total - MAX_ROWS} more in `reports/compliance.json`."] if total > MAX_ROWS else []


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
    """With a base: every change to the rules, before anything else (harness.reading.rules, harness.comparison.policy_change)."""
    return render_rules_markdown(data.rules, data.findings)


def _md_delta(data: ReportInput) -> list[str]:
    """With a base: what the change does, before everything else (harness.comparison.delta)."""
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
