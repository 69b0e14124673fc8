"""Applying the waivers of policies/: one matching rule, one judgement, for every tool.

Rules (docs/compliance-gate.md):
- a waiver covers a finding when its tool and rule match, the finding's resource is one of
  its targets (logical id, or a construct path that exactly one resource of the stack
  carries), and the resource's type is the waiver's ``resource_type``; a ``subtree``
  waiver covers everything below one construct path (still bound to its type when it
  names one). A new resource placed under a waived path, or borrowing a waived path, does
  not inherit the waiver;
- an expired waiver covers nothing: the finding fails, and the waiver itself is a failure
  named in the report (exit 1);
- a waiver on a resource that carries code (harness.reading.code_carriers) covers it only while the code
  is what the waiver names (``code_sha256``, every content hash the resource carries): changed
  code leaves the waiver unmatched, so stale, and the finding gates; a waiver that names code
  covers no resource whose code differs or that carries none;
- a waiver that matched nothing in this run is *stale*: reported as a warning, not a failure;
- a suppression that no waiver explains (a ``Metadata.checkov.skip``, a CDK acknowledgement
  not written by the gate from policies/) fails the gate: every exception is auditable data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Tool, Waiver
from harness.model import Status, Subject, WaiverUse

_WAIVER_ID_IN_REASON = re.compile(r"^(?P<id>[A-Za-z0-9_.-]+): ")
# Tools whose waivers are matched on checkov results (the project's checks run inside checkov).
CHECKOV_TOOLS = frozenset({Tool.CHECKOV, Tool.PROJECT})


def code_matches(waiver: Waiver, subject: Subject) -> bool:
    """A waiver binds to the code a resource carries: exactly the hashes it names, or none on both sides."""
    return tuple(sorted(waiver.code_sha256)) == subject.code_sha256


def covers(waiver: Waiver, subject: Subject) -> bool:
    """Whether ``waiver``'s scope (targets, type, stack, subtree) includes ``subject``."""
    if waiver.stack and waiver.stack != subject.stack:
        return False
    if waiver.resource_type and waiver.resource_type != subject.resource_type:
        return False
    if not code_matches(waiver, subject):
        return False
    path = subject.construct_path if not subject.ambiguous_path else ""
    if waiver.subtree:
        root = waiver.targets[0].strip("/")
        return bool(path) and (path == root or path.startswith(root + "/"))
    return any(
        target == subject.logical_id if "/" not in target else (bool(path) and target.strip("/") == path)
        for target in waiver.targets
    )


@dataclass(frozen=True, kw_only=True)
class Judgement:
    status: Status
    message: str
    waiver_id: str = ""
    waiver_expires: str = ""


@dataclass(kw_only=True)
class WaiverBook:
    waivers: Sequence[Waiver]
    today: dt.date
    uses: Counter[str] = field(default_factory=Counter)

    def by_id(self, waiver_id: str) -> Waiver | None:
        return next((w for w in self.waivers if w.id == waiver_id), None)

    def expired(self, waiver: Waiver) -> bool:
        return waiver.is_expired(self.today)

    def match(self, *, tools: Iterable[Tool], rule: str, subject: Subject) -> Waiver | None:
        wanted = set(tools)
        for waiver in self.waivers:
            if waiver.tool in wanted and waiver.rule == rule and covers(waiver, subject):
                self.uses[waiver.id] += 1
                return waiver
        return None

    def judge(self, *, status: Status, message: str, waiver: Waiver | None) -> Judgement:
        """The status a gating finding ends with, given the waiver that matched it (if any)."""
        if waiver is None or not status.gates:
            return Judgement(status=status, message=message)
        expires = waiver.expires.isoformat()
        if self.expired(waiver):
            return Judgement(
                status=Status.FAILED,
                message=f"waiver {waiver.id} expired on {expires}: {message}",
                waiver_id=waiver.id,
                waiver_expires=expires,
            )
        return Judgement(status=Status.WAIVED, message=message, waiver_id=waiver.id, waiver_expires=expires)

    def apply(self, *, tools: Iterable[Tool], rule: str, subject: Subject, status: Status, message: str) -> Judgement:
        """Match and judge in one step (the usual case for every tool's findings)."""
        waiver = self.match(tools=tools, rule=rule, subject=subject) if status.gates else None
        return self.judge(status=status, message=message, waiver=waiver)

    def acknowledged(self, *, reason: str, rule: str, tool: Tool, subject: Subject, message: str) -> Judgement:
        """A finding CDK reports as acknowledged: only a waiver of policies/ whose scope covers it may explain it.

        The gate writes ``<waiver id>: <reason>`` as the acknowledgement reason; CDK applies an
        acknowledgement to a construct and everything below it, so the gate re-checks the
        waiver's exact scope (targets, type) here.
        """
        found = _WAIVER_ID_IN_REASON.match(reason or "")
        waiver = self.by_id(found["id"]) if found else None
        if waiver is None or waiver.tool is not tool or waiver.rule != rule:
            return Judgement(
                status=Status.FAILED,
                message=f"acknowledged without a waiver in policies/ ({rule}): {reason or 'no reason given'}",
            )
        if not covers(waiver, subject):
            code = "" if code_matches(waiver, subject) else f", code {', '.join(subject.code_sha256) or 'none'}"
            return Judgement(
                status=Status.FAILED,
                message=f"acknowledged by {waiver.id}, whose scope ({waiver.resource_type or 'any type'} "
                f"{waiver.target}) does not include this {subject.resource_type or 'resource'} at "
                f"{subject.construct_path or subject.logical_id}{code}: {message}",
            )
        self.uses[waiver.id] += 1
        return self.judge(status=Status.FAILED, message=message, waiver=waiver)

    def report(self) -> list[WaiverUse]:
        return [
            WaiverUse(
                waiver_id=w.id,
                tool=str(w.tool),
                rule=w.rule,
                target=w.target,
                owner=w.owner,
                expires=w.expires.isoformat(),
                reason=w.reason,
                matched=self.uses[w.id],
                expired=self.expired(w),
            )
            for w in sorted(self.waivers, key=lambda w: w.id)
        ]


# ------------------------------------------------------------------------------------------- one judgement for the tests


def template_subject(template: Mapping[str, Any], logical_id: str, *, stack: str) -> Subject:
    """A resource of a template (no assembly) as a waiver sees it: its construct path (aws:cdk:path) and type.

    The code a resource carries is not read here (it needs the assembly's assets): a waiver that names code
    (``code_sha256``) covers nothing through this subject, so the tiers fail closed where the gate would judge.
    """
    resources = template.get("Resources") or {}
    resource = resources.get(logical_id) or {}
    paths = Counter(str((r.get("Metadata") or {}).get("aws:cdk:path", "")) for r in resources.values())
    path = str((resource.get("Metadata") or {}).get("aws:cdk:path", ""))
    return Subject(
        stack=stack,
        logical_id=logical_id,
        construct_path=path,
        resource_type=str(resource.get("Type", "")),
        ambiguous_path=bool(path) and paths[path] > 1,
    )


def accepted_exception(
    *,
    waivers: Sequence[Waiver],
    today: dt.date,
    template: Mapping[str, Any],
    stack: str,
    rule: str,
    logical_id: str,
    tools: Iterable[Tool] = CHECKOV_TOOLS,
) -> Waiver | None:
    """The unexpired waiver of policies/ that covers ``rule`` on ``logical_id``, judged as the gate judges (None: none).

    The test tiers that assert the stack is compliant judge through this, so a stack with an accepted
    exception passes both the gate and the tiers, and an unwaived violation fails both.
    """
    book = WaiverBook(waivers=waivers, today=today)
    judgement = book.apply(
        tools=tools, rule=rule, subject=template_subject(template, logical_id, stack=stack), status=Status.FAILED,
        message="",
    )  # fmt: skip
    return book.by_id(judgement.waiver_id) if judgement.status is Status.WAIVED else None
