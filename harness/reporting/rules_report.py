"""The first screen of compliance.md (and the PR comment) with a base: every change to the rules that judge.

A reviewer sees what the pull request does to the rules (spec values, policies, waivers, stateful
types, each marked tightening or weakening) and which findings pass only because of it
(``gate:policy-change``) before anything about the stack itself (harness.comparison.policy_change).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.comparison.policy_change import RULE_ID
from harness.markdown import cell
from harness.model import Finding


def _digest(value: str) -> str:
    return f"`{value.removeprefix('sha256:')[:12]}`" if value else "-"


def render_rules_markdown(rules: Mapping[str, Any] | None, findings: Sequence[Finding]) -> list[str]:
    """The rules section: empty without a base whose rules were read, or when the head's rules are the base's."""
    if not rules or not rules.get("base_digest"):
        return []
    changes = list(rules.get("changes") or [])
    gated = [f for f in findings if f.rule_id == RULE_ID]
    if not changes and not gated:
        return []
    weakening = sum(1 for c in changes if c["direction"] == "weakening")
    lines = [
        "## Rule changes (the base's rules judge this change too)",
        "",
        f"Rules of the head {_digest(str(rules.get('digest', '')))}, of the base {_digest(str(rules.get('base_digest', '')))}"
        f" ({cell(str(rules['base_source']))}): **{len(changes)} change(s), {weakening} weakening**; "
        f"**{len(gated)} finding(s) pass only under the head's rules** (`{RULE_ID}`).",
        "",
    ]
    accepted = rules.get("accepted_policy_change")
    if accepted:
        lines += [f"> Accepted with `--accept-policy-change`: {cell(str(accepted['reason']))}", ""]
    if changes:
        lines += ["| Direction | Kind | Rule | Change | Old → new | File |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {'**weakening**' if c['direction'] == 'weakening' else 'tightening'} | {c['kind']} | "
            f"`{cell(c['name'])}` | {c['change']} | {cell(c['old'] or '-')} → {cell(c['new'] or '-')} | {cell(c['file'])} |"
            for c in changes
        ]
        lines.append("")
    if gated:
        lines += [f"### Passing only under the head's rules ({len(gated)})", "", "| Status | Resource | Detail |",
                  "|---|---|---|"]  # fmt: skip
        lines += [
            f"| {f.status.value} | {cell(f'{f.logical_id} ({f.resource_type})' if f.logical_id else f.template or '-')} "
            f"| {cell(f.message)} |"
            for f in gated
        ]
        lines.append("")
    return lines
