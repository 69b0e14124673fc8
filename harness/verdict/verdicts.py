"""The verdict of each assembly a gate run judged, and the findings of an app its own synthesis refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from harness.model import ExitCode, Finding, Source, Status


@dataclass(kw_only=True)
class AssemblyVerdict:
    label: str
    path: str
    exit_code: ExitCode
    failed_rules: list[str]


def assembly_verdict(*, label: str, path: str, findings: Sequence[Finding]) -> AssemblyVerdict:
    """Violations if any gating finding is of this assembly (or of the run as a whole, ``assembly == ""``)."""
    failed = sorted({f.rule_id for f in findings if f.status.gates and f.assembly in (label, "")})
    return AssemblyVerdict(
        label=label,
        path=path,
        exit_code=ExitCode.VIOLATIONS if failed else ExitCode.CLEAN,
        failed_rules=failed,
    )


def synthesis_rule_findings(message: str, *, label: str) -> list[Finding]:
    """The app refused by its own synthesis-time rules (``"; "``-joined offences): a violation per construct."""
    return [
        Finding(
            source=Source.GATE,
            rule_id="synthesis-rule",
            status=Status.FAILED,
            title="the app synthesizes under its own rule aspects (required tags, no Retain)",
            assembly=label,
            construct_path=offence.split(" ", 1)[0],
            message=offence,
            remediation="fix the construct the message names; the other checks run once the app synthesizes",
        )
        for offence in sorted(message.split("; "))
    ]
