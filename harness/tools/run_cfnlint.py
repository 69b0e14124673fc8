"""cfn-lint on the templates: deployability (deprecated engine versions, invalid values).

Gate rule (docs/compliance-gate.md): every Error and every Warning fails the gate, because
deployability problems such as W3691 (an engine version RDS no longer creates, e.g.
PostgreSQL 13.7) are warnings in cfn-lint. Informational findings are reported only. An
exception is a waiver in policies/waivers.yaml (tool cfn-lint), like any other.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.proc import Completed, Started, last_line

# cfn-lint could not evaluate the template at all: that is a harness failure, not a finding.
UNEVALUATED_RULES = frozenset({"E0000", "E0001", "E0002"})


@dataclass(frozen=True, kw_only=True)
class LintMatch:
    rule_id: str
    level: str  # Error | Warning | Informational
    message: str
    description: str
    template: Path
    logical_id: str
    path: str  # JSON path inside the template, e.g. Resources/X/Properties/EngineVersion


@dataclass(frozen=True, kw_only=True)
class LintRun:
    matches: list[LintMatch]
    templates: list[Path]
    duration_s: float

    @property
    def by_template(self) -> dict[Path, list[LintMatch]]:
        grouped: dict[Path, list[LintMatch]] = {}
        for match in self.matches:
            grouped.setdefault(match.template, []).append(match)
        return grouped


def default_executable() -> str:
    # cfn-lint lives in the same venv as the gate (the test venv); it has no __main__ module.
    return str(Path(sys.executable).with_name("cfn-lint"))


def cfnlint_version(executable: str) -> str:
    """The version of the cfn-lint that runs: from this venv's metadata, or by asking a foreign executable."""
    if Path(executable).resolve() == Path(default_executable()).resolve():
        try:
            return importlib.metadata.version("cfn-lint")
        except importlib.metadata.PackageNotFoundError:
            pass
    try:
        done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (done.stdout.strip().split()[-1:] or ["unknown"])[0]


def start_cfnlint(*, executable: str, templates: Sequence[Path], regions: Sequence[str], cwd: Path) -> list[Started]:
    """One cfn-lint process per chunk of templates (~1.4 s of CPU each), so many templates use the spare cores.

    checkov and cdk-nag's Node.js each hold a core meanwhile: on 2 cores a second cfn-lint process
    only adds its start-up (16 templates: 1.3x the gate's wall time with two, measured by
    ``nox -s bench -- many_stacks``)."""
    chunks = max(1, min((os.cpu_count() or 1) - 2, len(templates) // 6))
    started = []
    for index in range(chunks):
        chunk = list(templates[index::chunks])
        argv = [executable, "--format", "json", "--regions", *sorted(set(regions)), "--", *map(str, chunk)]
        started.append(Started(tool="cfn-lint", argv=argv, env=dict(os.environ), cwd=cwd))
    return started


def collect_cfnlint(processes: Sequence[Started], *, templates: Sequence[Path], timeout_s: float = 600) -> LintRun:
    matches: list[LintMatch] = []
    duration = 0.0
    for started in processes:
        done = started.wait(timeout_s=timeout_s)
        duration = max(duration, done.duration_s)
        matches += parse_cfnlint(done)
    return LintRun(matches=matches, templates=list(templates), duration_s=duration)


def parse_cfnlint(done: Completed) -> list[LintMatch]:
    # Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; 1 (or more) means cfn-lint failed.
    if done.returncode & 1 or done.returncode > 15 or done.returncode < 0:
        raise HarnessError(f"cfn-lint crashed (exit {done.returncode}): {last_line(done.stderr or done.stdout)}")
    try:
        data: Any = json.loads(done.stdout or "null")
    except ValueError as error:
        raise HarnessError(f"cfn-lint output is not JSON (exit {done.returncode}): {last_line(done.stdout)}") from error
    if not isinstance(data, list):
        raise HarnessError(f"cfn-lint output is not a JSON list (exit {done.returncode}): {last_line(done.stdout)}")
    if done.returncode == 0 and data:
        raise HarnessError("cfn-lint reported findings but exited 0")
    matches: list[LintMatch] = []
    for item in data:
        rule = item.get("Rule") or {}
        path = [str(p) for p in (item.get("Location") or {}).get("Path") or []]
        match = LintMatch(
            rule_id=str(rule.get("Id", "")),
            level=str(item.get("Level", "")),
            message=str(item.get("Message", "")),
            description=str(rule.get("ShortDescription") or rule.get("Description") or ""),
            template=Path(str(item.get("Filename", ""))).resolve(),
            logical_id=path[1] if len(path) > 1 and path[0] == "Resources" else "",
            path="/".join(path),
        )
        if match.rule_id in UNEVALUATED_RULES:
            raise HarnessError(f"cfn-lint could not evaluate {match.template}: {match.rule_id} {match.message}")
        matches.append(match)
    return matches
