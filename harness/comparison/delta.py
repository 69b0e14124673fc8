"""Which violations a change introduced, fixed or left unchanged, against the findings of its base.

A finding's identity must survive an unrelated change, so it is not its logical id (CDK
derives that from the construct path and a hash) nor its line: it is the tool, the rule, the
stack and the construct path, falling back to the logical id where a side has no construct
path (an assembly without ``tree.json``), then to the waiver or template a finding is about.
Findings that share an identity (cfn-lint reporting one rule twice on one resource) are
matched one to one, equal messages first.

The delta is about violations, i.e. findings that fail the gate (failed, not evaluated):

- introduced: gates at head, did not at base (absent, passed, a warning or waived there);
- fixed: gated at base, does not at head (absent or passed, or now waived: the entry says which);
- unchanged: gates on both sides.

The test tiers are judged on the head only (their base would need the base's test suite),
so their results are not part of the delta. The verdict still covers everything at head.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.comparison.change_rules import ChangeRules
from harness.comparison.changes import Change, change_findings, compare_assemblies
from harness.markdown import cell, source_link
from harness.model import Finding, Source, ToolRun
from harness.reading.assembly import CloudAssembly
from harness.reading.sources import SourceMap
from harness.tools.waivers import WaiverBook

NOT_COMPARED = frozenset({Source.TESTS})
# The tests that prove the change policies (listed in the traceability matrix).
CHANGE_TESTS = "tests/harness/test_delta.py"
CHANGE_TEST_FUNCTIONS = {
    "replace": ("test_create_only_change_of_the_database_is_a_replacement", "test_moved_database_is_a_replacement",
                "test_waiver_allows_a_planned_replacement"),
    "remove": ("test_removed_stateful_resource_fails",),
}  # fmt: skip
ABSENT = "absent"
MAX_ROWS = 60


@dataclass(frozen=True, kw_only=True)
class DeltaEntry:
    finding: Finding  # the head finding (introduced, unchanged) or the base finding (fixed)
    status: str  # at head: a Status value, or "absent"
    base_status: str  # at base: a Status value, or "absent"

    def record(self) -> dict[str, Any]:
        """The finding in the record shape of compliance.json's ``findings``, and its status at head and base."""
        return {"finding": self.finding.to_record(), "status": self.status, "base_status": self.base_status}


@dataclass(frozen=True, kw_only=True)
class Delta:
    base: str  # the ref or assembly path the head was compared with
    commit: str  # the base commit ("" for --base-assembly)
    introduced: tuple[DeltaEntry, ...]
    fixed: tuple[DeltaEntry, ...]
    unchanged: tuple[DeltaEntry, ...]

    def record(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "commit": self.commit,
            "introduced": [e.record() for e in self.introduced],
            "fixed": [e.record() for e in self.fixed],
            "unchanged": [e.record() for e in self.unchanged],
        }


@dataclass(kw_only=True)
class Comparison:
    """Everything a comparison with a base adds to a gate run."""

    changes: list[Change]  # resources that differ (harness.comparison.changes)
    findings: list[Finding]  # stateful replacements and removals, judged (part of the head's findings)
    rules: ChangeRules
    delta: Delta | None = None  # set by the compare_findings stage

    def policy_records(self) -> list[dict[str, Any]]:
        """The change policies as the reports list policies (SARIF rule metadata, traceability)."""
        return [
            {
                "id": p.id, "title": p.title, "severity": p.severity, "rationale": p.rationale,
                "remediation": p.remediation, "requirements": list(p.requirements), "category": "change",
                "engine": "gate", "test_ids": [f"{CHANGE_TESTS}::{name}" for name in CHANGE_TEST_FUNCTIONS[p.action]],
            }
            for p in sorted(self.rules.policies.values(), key=lambda p: p.id)
        ]  # fmt: skip

    def records(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """``delta`` and ``changes`` as compliance.json carries them."""
        return (self.delta.record() if self.delta else None), [c.record() for c in self.changes]


def _by_path(f: Finding) -> tuple[str, ...] | None:
    return (f.source.value, f.rule_id, f.stack, f.construct_path) if f.construct_path else None


def _by_id(f: Finding) -> tuple[str, ...]:
    return (f.source.value, f.rule_id, f.stack, f.logical_id or f.waiver_id or f.template)


def _match(
    heads: list[Finding], bases: list[Finding], key: Callable[[Finding], tuple[str, ...] | None]
) -> tuple[list[tuple[Finding, Finding]], list[Finding], list[Finding]]:
    """Pairs with equal ``key`` (one to one, equal messages first), and what is left on each side."""
    groups: dict[tuple[str, ...], tuple[list[Finding], list[Finding]]] = defaultdict(lambda: ([], []))
    left_heads, left_bases = [], []
    for f in heads:
        k = key(f)
        (groups[k][0].append(f) if k is not None else left_heads.append(f))
    for f in bases:
        k = key(f)
        (groups[k][1].append(f) if k is not None else left_bases.append(f))
    pairs: list[tuple[Finding, Finding]] = []
    for _, (group_heads, group_bases) in sorted(groups.items()):
        hs, bs = sorted(group_heads, key=Finding.sort_key), sorted(group_bases, key=Finding.sort_key)
        for h in list(hs):
            b = next((b for b in bs if b.message == h.message), None)
            if b is not None:
                pairs.append((h, b))
                hs.remove(h)
                bs.remove(b)
        pairs += list(zip(hs, bs, strict=False))
        left_heads += hs[len(bs) :]
        left_bases += bs[len(hs) :]
    return pairs, left_heads, left_bases


def compare_findings(head: Iterable[Finding], base: Iterable[Finding], *, label: str, commit: str = "") -> Delta:
    heads = [f for f in head if f.source not in NOT_COMPARED]
    bases = [f for f in base if f.source not in NOT_COMPARED]
    first, heads, bases = _match(heads, bases, _by_path)
    second, heads, bases = _match(heads, bases, _by_id)
    pairs: list[tuple[Finding | None, Finding | None]] = [*first, *second]
    pairs += [(h, None) for h in heads] + [(None, b) for b in bases]
    introduced, fixed, unchanged = [], [], []
    for h, b in pairs:
        now = h.status.value if h else ABSENT
        before = b.status.value if b else ABSENT
        if h is not None and h.status.gates and (b is None or not b.status.gates):
            introduced.append(DeltaEntry(finding=h, status=now, base_status=before))
        elif b is not None and b.status.gates and (h is None or not h.status.gates):
            fixed.append(DeltaEntry(finding=b, status=now, base_status=before))
        elif h is not None and b is not None and h.status.gates:
            unchanged.append(DeltaEntry(finding=h, status=now, base_status=before))

    def ordered(entries: list[DeltaEntry]) -> tuple[DeltaEntry, ...]:
        return tuple(sorted(entries, key=lambda e: e.finding.sort_key()))

    return Delta(
        base=label, commit=commit, introduced=ordered(introduced), fixed=ordered(fixed), unchanged=ordered(unchanged)
    )


# ------------------------------------------------------------------------------------------- Markdown


def _resource(entry: dict[str, Any]) -> str:
    who = entry.get("logicalId") or "-"
    return f"{who} ({entry['type']})" if entry.get("type") else who


def _where(entry: dict[str, Any], link_base: str) -> str:
    source = entry.get("source")
    path = cell(entry.get("constructPath"))
    if not source:
        return path
    return f"{path}<br>{source_link(source['file'], source['line'], link_base)}"


def _finding_resource(entry: dict[str, Any]) -> str:
    finding = entry["finding"]
    who = finding["logical_id"] or "-"
    return f"{who} ({finding['resource_type']})" if finding["resource_type"] else who


def _finding_where(entry: dict[str, Any], link_base: str) -> str:
    finding = entry["finding"]
    path = cell(finding["construct_path"])
    if not finding["code_file"]:
        return path
    return f"{path}<br>{source_link(finding['code_file'], finding['code_line'], link_base)}"


def _finding_row(entry: dict[str, Any]) -> str:
    """Policy, tool and resource of a delta entry's finding: the first cells of each of its tables."""
    finding = entry["finding"]
    return f"| `{cell(finding['rule_id'])}` | {finding['source']} | {cell(_finding_resource(entry))} |"


def _more(total: int) -> list[str]:
    return ["", f"… and {total - MAX_ROWS} more in `reports/compliance.json`."] if total > MAX_ROWS else []


def render_delta_markdown(
    delta: dict[str, Any] | None, changes: Sequence[dict[str, Any]], *, link_base: str
) -> list[str]:
    """The section the report leads with when the head was compared with a base (empty otherwise)."""
    if delta is None:
        return []
    introduced, fixed, unchanged = delta["introduced"], delta["fixed"], delta["unchanged"]
    base = f"`{delta['base']}`" + (
        f" ({delta['commit'][:12]})" if delta.get("commit") and delta["commit"] != delta["base"] else ""
    )
    gated = [c for c in changes if c["stateful"] and c["action"] in ("replace", "remove")]
    by_action = {a: sum(1 for c in changes if c["action"] == a) for a in ("replace", "remove", "add", "modify")}
    lines = [
        f"## What this change does (against {base})",
        "",
        f"**{len(introduced)} introduced**, **{len(fixed)} fixed**, {len(unchanged)} unchanged violation(s). "
        f"Resources: {by_action['replace']} replaced, {by_action['remove']} removed, {by_action['add']} added, "
        f"{by_action['modify']} modified; **{len(gated)} stateful replacement(s) or removal(s)**.",
        "",
    ]
    if introduced:
        lines += [
            f"### Introduced ({len(introduced)})",
            "",
            "| Policy | Tool | Resource | Where | Detail |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"{_finding_row(e)} {_finding_where(e, link_base)} | "
            f"{cell(e['finding']['message'] or e['finding']['title'])} |"
            for e in introduced[:MAX_ROWS]
        ]
        lines += [*_more(len(introduced)), ""]
    if fixed:
        lines += [
            f"### Fixed ({len(fixed)})",
            "",
            "| Policy | Tool | Resource | Construct path | Now |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"{_finding_row(e)} {cell(e['finding']['construct_path'])} | "
            f"{'waived' if e['status'] == 'waived' else 'resolved'} |"
            for e in fixed[:MAX_ROWS]
        ]
        lines += [*_more(len(fixed)), ""]
    if changes:
        ordered = sorted(changes, key=lambda c: (not (c["stateful"] and c["action"] in ("replace", "remove")),
                                                 ("replace", "remove", "add", "modify").index(c["action"])))  # fmt: skip
        lines += [
            f"### Resource changes ({len(changes)})",
            "",
            "| Action | Resource | Stateful | Changed properties | Why replaced | Where |",
            "|---|---|---|---|---|---|",
        ]
        for c in ordered[:MAX_ROWS]:
            action = f"**{c['action']}**" if c["action"] in ("replace", "remove") else c["action"]
            stateful = f"**yes**: {c['statefulReason']}" if c["stateful"] else "no"
            lines.append(
                f"| {action} | {cell(_resource(c))} | {cell(stateful)} | {cell(', '.join(c['properties']))} | "
                f"{cell('; '.join(c['replacementCauses']))} | {_where(c, link_base)} |"
            )
        lines += [*_more(len(changes)), ""]
    broadening = [(c, b) for c in changes for b in c["broadening"]]
    if broadening:
        lines += [
            f"### Security-relevant broadening ({len(broadening)})",
            "",
            "New IAM statements, principals and security group rules the head adds (as `cdk diff` lists them); "
            "reported for review, the policies judge the result.",
            "",
            "| Resource | Kind | What | New actions / principals |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {cell(_resource(c))} | {b['kind']} | {cell(b['text'])} | "
            f"{cell(', '.join([*b['newActions'], *b['newPrincipals']]))} |"
            for c, b in broadening[:MAX_ROWS]
        ]
        lines += [*_more(len(broadening)), ""]
    if unchanged:
        lines += [
            f"<details><summary>Unchanged violations ({len(unchanged)}): already at the base</summary>",
            "",
            "| Policy | Tool | Resource | Construct path |",
            "|---|---|---|---|",
        ]
        lines += [f"{_finding_row(e)} {cell(e['finding']['construct_path'])} |" for e in unchanged[:MAX_ROWS]]
        lines += [*_more(len(unchanged)), "", "</details>", ""]
    return lines


def resource_comparison(
    base: CloudAssembly, head: CloudAssembly, *, base_label: str, rules: ChangeRules, book: WaiverBook,
    head_sources: SourceMap,
) -> tuple[Comparison, ToolRun]:  # fmt: skip
    """Each resource the change adds, removes, modifies or replaces (stateful ones gate), and the run's record."""
    changes = compare_assemblies(base, head, rules=rules, head_sources=head_sources)
    findings = change_findings(changes, rules=rules, book=book, head=head, base=base)
    run = ToolRun(
        source=Source.CHANGE,
        version=f"{len(rules.policies)} change policies",
        command=f"compare with base {base_label}",
        evaluated=len(changes),
        notes=["replacement from createOnlyProperties (cfn-lint's provider schemas); policies/stateful.yaml"],
    )
    return Comparison(changes=changes, findings=findings, rules=rules), run
