"""A pull request is judged by rules it cannot change: the head under the base's rules as well as its own.

With a base (``--base REF``, or ``--base-assembly PATH --base-rules DIR``) the gate judges the
head's templates a second time with the base's rules (harness.reading.rules: policies, waivers, registry,
``infra/spec.toml``, ``cdk.json``). A violation (failed or not evaluated) under the base's rules
that does not gate under the head's (passed, waived or absent) is a **policy change** finding
(``gate:policy-change``): the head's own edit to the rules is what lets it pass. It fails the gate
(exit 1) unless the run accepts the head's rules with ``--accept-policy-change "REASON"``, which
CI passes only for a pull request the policy owners approved (docs/compliance-gate.md).

Identity of a finding across the two judgements is harness.comparison.delta's (tool, rule, stack, construct
path, then logical id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.comparison.delta import compare_findings
from harness.model import Finding, Source, Status
from harness.reading.rules import WEAKENING, RuleChange

RULE_ID = "gate:policy-change"
TITLE = "the head passes only because it changes the rules it is judged by (the base's rules fail it)"
REMEDIATION = (
    "land the rules change (policies/, infra/spec.toml, cdk.json) on the base first, reviewed by the policy "
    "owners (.github/CODEOWNERS), or have them approve this pull request so CI runs the gate with "
    '--accept-policy-change "REASON"'
)


@dataclass(frozen=True, kw_only=True)
class RulesRecord:
    """What compliance.json, the reports and the evidence say about the rules that judged."""

    digest: str  # the head's rules (harness.reading.rules.rules_digest)
    base_digest: str = ""  # the base's rules ("" without a base, or a base without its rules)
    base_source: str = ""  # where the base's rules came from: "<ref> (<commit>)", a directory, or why none
    changes: tuple[RuleChange, ...] = ()
    policy_changes: int = 0  # gate:policy-change findings
    accepted_reason: str = ""  # --accept-policy-change
    accepted: tuple[str, ...] = field(default_factory=tuple)  # the changes (and findings) the acceptance covered

    def record(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "base_digest": self.base_digest,
            "base_source": self.base_source,
            "changes": [c.record() for c in self.changes],
            "weakening": sum(1 for c in self.changes if c.direction == WEAKENING),
            "policy_changes": self.policy_changes,
            "accepted_policy_change": (
                {"reason": self.accepted_reason, "base_digest": self.base_digest, "head_digest": self.digest,
                 "accepted": list(self.accepted)}
                if self.accepted_reason else None
            ),
        }  # fmt: skip


def _related(finding: Finding, head_waiver: str, changes: Sequence[RuleChange]) -> list[str]:
    """The rules changes that can explain why this finding passes under the head's rules."""
    rule = finding.rule_id.lower()
    # A waiver listing several tools' rules is loaded as <id>.1, <id>.2...: the diff names the entry.
    entry = head_waiver.rsplit(".", 1)[0] if "." in head_waiver else head_waiver
    related = [c.text for c in changes if c.kind == "waiver" and head_waiver and c.name in (head_waiver, entry)]
    related += [c.text for c in changes if c.kind in ("policy", "rules-file") and rule and rule in c.name.lower()]
    if not related and finding.source is Source.PROJECT:
        related += [c.text for c in changes if c.kind in ("spec", "context")]
    if not related:
        related += [c.text for c in changes if c.direction == WEAKENING][:3]
    return related


def policy_change_findings(
    *,
    head: Sequence[Finding],
    under_base_rules: Sequence[Finding],
    changes: Sequence[RuleChange],
    accept_reason: str = "",
) -> list[Finding]:
    """One finding per violation of the base's rules that the head's rules let pass (sorted)."""
    delta = compare_findings(under_base_rules, head, label="head's rules")
    head_index = {(f.source, f.rule_id, f.stack, f.construct_path or f.logical_id): f for f in head}
    found = []
    for entry in delta.introduced:
        f = entry.finding
        mine = head_index.get((f.source, f.rule_id, f.stack, f.construct_path or f.logical_id))
        waiver = mine.waiver_id if mine is not None else ""
        now = f"waived by {waiver}" if waiver and entry.base_status == Status.WAIVED.value else entry.base_status
        related = _related(f, waiver, changes)
        message = (
            f"{f.source.value} {f.rule_id} is {entry.status} under the base's rules ({f.message or f.title}) "
            f"but {now} under the head's" + (f"; rules changed: {'; '.join(related)}" if related else "")
        )
        status = Status.FAILED
        if accept_reason:
            status, message = Status.WAIVED, f"accepted with --accept-policy-change ({accept_reason}): {message}"
        found.append(
            Finding(
                source=Source.GATE, rule_id=RULE_ID, status=status, title=TITLE, assembly=f.assembly,
                template=f.template, logical_id=f.logical_id, construct_path=f.construct_path,
                resource_type=f.resource_type, message=message, severity="HIGH", remediation=REMEDIATION,
                stack=f.stack, world=f.world, code_file=f.code_file, code_line=f.code_line,
            )
        )  # fmt: skip
    return sorted(found, key=Finding.sort_key)
