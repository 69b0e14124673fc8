"""The test tiers (unit, snapshot, property) as pytest processes whose JUnit XML counts in the verdict.

The tiers are the gate's longest stage (~40 s on 2 CPUs, serially), so they are split over
up to one pytest process per CPU, longest tiers first, each with its own ``--basetemp``;
their JUnit files are merged into ``reports/tests.junit.xml``.
"""

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


# Rough serial seconds per tier on the reference machine: only used to balance the processes.
TIER_WEIGHTS = {"property": 16.0, "unit": 14.0, "snapshot": 8.0}


@dataclass(frozen=True, kw_only=True)
class PytestGroup:
    tiers: tuple[str, ...]
    junit_xml: Path
    started: Started


def plan_groups(tiers: Sequence[str], *, processes: int) -> list[tuple[str, ...]]:
    """Longest-processing-time-first split of the tiers over ``processes`` pytest processes."""
    buckets: list[list[str]] = [[] for _ in range(max(1, min(processes, len(tiers))))]
    loads = [0.0] * len(buckets)
    for tier in sorted(tiers, key=lambda t: (-TIER_WEIGHTS.get(t, 10.0), t)):
        index = loads.index(min(loads))
        buckets[index].append(tier)
        loads[index] += TIER_WEIGHTS.get(tier, 10.0)
    return [tuple(sorted(b, key=tiers.index)) for b in buckets if b]


def start_pytest(*, root: Path, tiers: Sequence[str], scratch: Path, processes: int | None = None) -> list[PytestGroup]:
    missing = [t for t in tiers if not (root / "tests" / t).is_dir()]
    if missing:
        raise HarnessError(f"test tier(s) {', '.join(missing)} missing: no tests/{missing[0]}/ directory")
    env = dict(os.environ)
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    groups = []
    for index, group in enumerate(plan_groups(tiers, processes=processes or os.cpu_count() or 1)):
        junit_xml = scratch / f"pytest-{index}.junit.xml"
        argv = [sys.executable, "-m", "pytest", *(f"tests/{t}" for t in group), "-q", "-p", "no:cacheprovider"]
        argv += [f"--basetemp={scratch / f'pytest-{index}'}", f"--junitxml={junit_xml}"]
        argv += ["-o", "junit_family=xunit2", "-o", f"junit_suite_name=tests-{'-'.join(group)}"]
        groups.append(
            PytestGroup(tiers=group, junit_xml=junit_xml, started=Started(tool="pytest", argv=argv, env=env, cwd=root))
        )
    return groups


def collect_pytest(groups: Sequence[PytestGroup], *, junit_xml: Path, timeout_s: float = 900) -> TestRun:
    cases: list[TestCase] = []
    duration = 0.0
    suites = ET.Element("testsuites", name="test-tiers")
    for group in groups:
        done = group.started.wait(timeout_s=timeout_s)
        duration = max(duration, done.duration_s)
        if done.returncode not in PYTEST_RAN:
            raise HarnessError(
                f"test tier(s) {', '.join(group.tiers)} did not run (pytest exit {done.returncode}): "
                f"{last_line(done.stdout + done.stderr)}"
            )
        group_cases = parse_junit(group.junit_xml)
        for tier in group.tiers:
            if not any(c.tier == tier for c in group_cases):
                raise HarnessError(f"test tier {tier} collected no tests")
        cases += group_cases
        suites.extend(ET.parse(group.junit_xml).getroot().iter("testsuite"))
    junit_xml.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(suites)
    junit_xml.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n", encoding="utf-8"
    )
    return TestRun(cases=sorted(cases, key=lambda c: c.nodeid), duration_s=duration)


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
