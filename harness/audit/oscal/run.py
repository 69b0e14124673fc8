"""What the four OSCAL documents are built from: one gate run (or one merge), and the ids they share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.audit.evidence import RunTimes
from harness.audit.oscal.common import Parties, stable_uuid
from harness.catalog import ControlMapping, Framework, Policy, Tool
from harness.model import Finding
from harness.verdict.controls import ControlResult, ControlStatus


@dataclass(frozen=True, kw_only=True)
class Assessment:
    stack: str
    times: RunTimes
    parties: Parties
    frameworks: Sequence[Framework]
    mappings: Sequence[ControlMapping]
    policies: Sequence[Policy]
    controls: Sequence[ControlResult]  # harness.verdict.controls.roll_up
    findings: Sequence[Finding]  # with controls (harness.verdict.controls.annotate)
    waivers: Sequence[Mapping[str, Any]]  # WaiverUse records: waiver_id, tool, rule, target, owner, expires, ...
    evidence: Mapping[str, Any]  # evidence.json
    evidence_sha256: str
    oscal_dir: Path  # where the documents are written: every href is relative to it
    root: Path
    rules_digest: str

    @property
    def run_key(self) -> str:
        """What makes this run's result, observations and findings unique (their uuids derive from it)."""
        return self.evidence_sha256

    @property
    def assessed(self) -> list[ControlResult]:
        """Controls a template-time check covers (the others are not assessed: no finding, excluded from the plan)."""
        return [c for c in self.controls if c.status is not ControlStatus.NOT_ASSESSED]

    @property
    def active_waivers(self) -> list[Mapping[str, Any]]:
        """Waivers that are not expired (an expired one fails the gate instead): each an accepted risk."""
        return sorted((w for w in self.waivers if not w.get("expired")), key=lambda w: str(w["waiver_id"]))


def tool_uuid(tool: Tool | str) -> str:
    """The assessment asset (a tool component of the plan) that produced an observation."""
    return stable_uuid("tool", str(tool))


def risk_uuid(waiver_id: str) -> str:
    """One risk per waiver, the same in the assessment results and the POA&M (and across runs)."""
    return stable_uuid("risk", waiver_id)


def subject_uuid(*, assembly: str, stack: str, logical_id: str) -> str:
    return stable_uuid("inventory-item", assembly, stack, logical_id)
