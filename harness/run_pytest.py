"""The test tiers (unit, snapshot, property) as one pytest process whose JUnit XML counts in the verdict."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.proc import Started, last_line

TIERS = ("unit", "snapshot", "property")
# pytest exit codes: 0 passed, 1 some tests failed; 2 interrupted, 3 internal error, 4 usage error, 5 none collected.
PYTEST_RAN = (0, 1)


@dataclass(frozen=True, kw_only=True)
class TestCase:
    nodeid: str
    tier: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class TestRun:
    cases: list[TestCase] = field(default_factory=list)
    duration_s: float = 0.0

    def count(self, outcome: str) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)


def start_pytest(*, root: Path, tiers: Sequence[str], junit_xml: Path) -> Started:
    missing = [t for t in tiers if not (root / "tests" / t).is_dir()]
    if missing:
        raise HarnessError(f"test tier(s) {', '.join(missing)} missing: no tests/{missing[0]}/ directory")
    junit_xml.parent.mkdir(parents=True, exist_ok=True)
    junit_xml.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "pytest", *(f"tests/{t}" for t in tiers), "-q", "-p", "no:cacheprovider"]
    argv += [f"--junitxml={junit_xml}", "-o", "junit_family=xunit2", "-o", "junit_suite_name=test-tiers"]
    env = dict(os.environ)
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    return Started(tool="pytest", argv=argv, env=env, cwd=root)


def collect_pytest(started: Started, *, tiers: Sequence[str], junit_xml: Path, timeout_s: float = 900) -> TestRun:
    done = started.wait(timeout_s=timeout_s)
    if done.returncode not in PYTEST_RAN:
        raise HarnessError(
            f"test tiers did not run (pytest exit {done.returncode}): {last_line(done.stdout + done.stderr)}"
        )
    cases = parse_junit(junit_xml)
    for tier in tiers:
        if not any(c.tier == tier for c in cases):
            raise HarnessError(f"test tier {tier} collected no tests")
    return TestRun(cases=cases, duration_s=done.duration_s)


def parse_junit(path: Path) -> list[TestCase]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        raise HarnessError(f"pytest wrote no readable JUnit XML at {path}: {error}") from error
    cases: list[TestCase] = []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        parts = classname.split(".")
        tier = parts[1] if len(parts) > 1 and parts[0] == "tests" else ""
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = (
                    (element.get("message") or element.text or "").strip().splitlines()[0][:300]
                    if (element.get("message") or element.text)
                    else ""
                )
                break
        cases.append(
            TestCase(
                nodeid=f"{classname}::{case.get('name', '')}" if classname else case.get("name", ""),
                tier=tier,
                outcome=outcome,
                message=message,
                duration_s=float(case.get("time") or 0),
            )
        )
    return sorted(cases, key=lambda c: c.nodeid)
