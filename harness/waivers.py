"""Applying the waivers of policies/: match, expire, and find the stale ones.

Rules (docs/compliance-gate.md):
- a waiver covers a finding when its tool and rule match and its target is the finding's
  logical id or construct path (or an ancestor construct path);
- an expired waiver covers nothing: the finding fails, and the waiver itself is a failure
  named in the report (exit 1);
- a waiver that matched nothing in this run is *stale*: reported as a warning, not a failure
  (the exception is no longer needed; failing would also fail ``--assembly`` runs of older
  assemblies for waivers only a newer stack needs);
- a suppression that no waiver explains (a ``Metadata.checkov.skip`` or a cdk-nag
  acknowledgement not in policies/) fails the gate: every exception must be auditable data.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.catalog import Tool, Waiver
from harness.model import WaiverUse

_WAIVER_ID_IN_REASON = re.compile(r"^(?P<id>[A-Za-z0-9_.-]+): ")
# Tools whose waivers are matched on checkov results (the project's checks run inside checkov).
CHECKOV_TOOLS = frozenset({Tool.CHECKOV, Tool.PROJECT})


def target_covers(target: str, *, logical_id: str, construct_path: str) -> bool:
    target = target.strip("/")
    if not target:
        return False
    if target == logical_id:
        return True
    return bool(construct_path) and (construct_path == target or construct_path.startswith(target + "/"))


@dataclass(kw_only=True)
class WaiverBook:
    waivers: Sequence[Waiver]
    today: dt.date
    uses: Counter[str] = field(default_factory=Counter)

    def by_id(self, waiver_id: str) -> Waiver | None:
        return next((w for w in self.waivers if w.id == waiver_id), None)

    def expired(self, waiver: Waiver) -> bool:
        return waiver.is_expired(self.today)

    def match(self, *, tools: Iterable[Tool], rule: str, logical_id: str, construct_path: str) -> Waiver | None:
        wanted = set(tools)
        for waiver in self.waivers:
            if (
                waiver.tool in wanted
                and waiver.rule == rule
                and target_covers(waiver.target, logical_id=logical_id, construct_path=construct_path)
            ):
                self.uses[waiver.id] += 1
                return waiver
        return None

    def from_ack_reason(self, reason: str, *, rule: str) -> Waiver | None:
        """The waiver behind a cdk-nag acknowledgement (the gate writes '<waiver id>: <reason>')."""
        found = _WAIVER_ID_IN_REASON.match(reason or "")
        waiver = self.by_id(found["id"]) if found else None
        if waiver is None or waiver.tool is not Tool.CDK_NAG or waiver.rule != rule:
            return None
        self.uses[waiver.id] += 1
        return waiver

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
