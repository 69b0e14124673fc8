"""policy-catalog.md and traceability.md: spec requirement -> policies -> tests -> result of this run."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harness.catalog.registry_summary import render_markdown as render_registry
from harness.markdown import cell, natural_key
from harness.model import Finding, Source, Status
from harness.reporting.reports import ReportInput


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
        "(`tests/policies`) and the mutation cases (`harness/verdict/mutations.py`, gated by "
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
