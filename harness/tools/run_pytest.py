"""The test tiers (unit, snapshot, property) as pytest processes whose JUnit XML counts in the verdict.

The tiers are the gate's longest stage, so their test files are spread over one pytest
process per CPU, heaviest first onto the least loaded process (longest-processing-time
first), each process with its own ``--basetemp``; their JUnit files are merged into
``reports/tests.junit.xml``. Balancing by file rather than by tier matters: the property
tier alone is about half of the work, so one process per tier left a CPU idle at the end.
Each run records what each file took (``.cache/test-durations.json``, like pytest-split's
durations file) and the next run balances by it; the static FILE_WEIGHTS fill in the rest (a
fresh clone, a new file). The split decides only which process runs a file, never a result.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.proc import Started, last_line
from harness.tools.pytest_progress import PROGRESS_ENV

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


# CPU seconds per test file on the 2-core reference machine (HYPOTHESIS_PROFILE=ci), past
# what every pytest process pays to start (~1.5 s): only used to balance the processes, so
# a stale figure costs balance, never correctness. Files not listed weigh DEFAULT_FILE_WEIGHT.
FILE_WEIGHTS = {  # measured on 2026-12-07 (reports/tests.junit.xml of a gate run)
    "tests/property/test_template_properties.py": 16.3,  # ~56 synthesized examples, ~15 judged by checkov
    "tests/property/test_config_properties.py": 8.6,  # thousands of config examples, app.py in-process
    "tests/property/test_properties_catch_bugs.py": 1.6,
    "tests/unit/test_app_cli.py": 2.9,  # cold app.py processes
    "tests/unit/test_cdk_json_keys.py": 1.1,
    "tests/unit/test_layering.py": 0.3,
    "tests/unit/test_migration.py": 1.2,
    "tests/unit/test_tags_and_naming.py": 2.1,
    "tests/unit/test_determinism.py": 1.0,
    "tests/snapshot/test_templates.py": 1.0,
    "tests/snapshot/test_snapshot_catches_changes.py": 1.0,
}
DEFAULT_FILE_WEIGHT = 0.5
DURATIONS_FILE = Path(".cache") / "test-durations.json"  # under the checkout's root, ignored by git
# Files sharing one costly session fixture run in one process, or each process would pay it:
# test_app_cli and test_layering share one cold `python app.py` synthesis (tests/unit/conftest.py).
FILE_GROUPS = (("tests/unit/test_app_cli.py", "tests/unit/test_layering.py"),)
# pytest's default test file patterns (pyproject.toml does not change python_files).
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
PROGRESS_PLUGIN = "gate_test_progress"  # the module name harness/tools/pytest_progress.py is copied under


@dataclass(frozen=True, kw_only=True)
class PytestGroup:
    tiers: tuple[str, ...]  # the tiers this process runs files of
    junit_xml: Path
    started: Started
    progress_file: Path | None = None  # written by harness.tools.pytest_progress in the pytest process


def tier_files(root: Path, tier: str) -> list[str]:
    directory = root / "tests" / tier
    found = {path for pattern in TEST_FILE_PATTERNS for path in directory.rglob(pattern) if path.is_file()}
    return sorted(path.relative_to(root).as_posix() for path in found)


def plan_groups(
    files: Sequence[str], *, processes: int, measured: Mapping[str, float] | None = None
) -> list[tuple[str, ...]]:
    """Longest-processing-time-first split of the test files over ``processes`` pytest processes.

    A file weighs what ``measured`` (the last run: :func:`read_durations`) says, else its
    FILE_WEIGHTS entry, else DEFAULT_FILE_WEIGHT. The files of one FILE_GROUPS entry move
    together. Deterministic: ties are broken by file name, and each process gets its files in
    name order.
    """
    weights = {**FILE_WEIGHTS, **(measured or {})}
    units = [tuple(g) for g in FILE_GROUPS if set(g) <= set(files)]
    grouped = {f for unit in units for f in unit}
    units += [(f,) for f in files if f not in grouped]

    def weight(unit: tuple[str, ...]) -> float:
        return sum(weights.get(f, DEFAULT_FILE_WEIGHT) for f in unit)

    buckets: list[list[str]] = [[] for _ in range(max(1, min(processes, len(units))))]
    loads = [0.0] * len(buckets)
    for unit in sorted(units, key=lambda u: (-weight(u), u)):
        index = loads.index(min(loads))
        buckets[index] += unit
        loads[index] += weight(unit)
    return [tuple(sorted(bucket)) for bucket in buckets if bucket]


def _tier_of(file: str) -> str:
    parts = file.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else ""


def read_durations(path: Path) -> dict[str, float]:
    """Seconds per test file of the last run (:func:`write_durations`); {} when there is none.

    Only a hint for the split: an unreadable or malformed file balances by FILE_WEIGHTS instead.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(file): float(seconds)
        for file, seconds in data.items()
        if isinstance(seconds, int | float) and not isinstance(seconds, bool) and 0 <= seconds < 1e6
    }


def write_durations(path: Path, run: TestRun, *, root: Path) -> None:
    """What each test file took in ``run`` (setup, call and teardown, as JUnit counts them), for the next split."""
    per_file: dict[str, float] = {}
    for case in run.cases:
        file = pytest_node_id(case.nodeid, root=root).partition("::")[0]
        per_file[file] = per_file.get(file, 0.0) + case.duration_s
    text = json.dumps({f: round(s, 2) for f, s in sorted(per_file.items())}, indent=1) + "\n"
    with contextlib.suppress(OSError):  # a cache that cannot be written costs balance next time, nothing else
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)


def start_pytest(
    *,
    root: Path,
    tiers: Sequence[str],
    scratch: Path,
    processes: int | None = None,
) -> list[PytestGroup]:
    """One pytest process per CPU over the tiers' files, split by what each file took last time (DURATIONS_FILE)."""
    missing = [t for t in tiers if not (root / "tests" / t).is_dir()]
    if missing:
        raise HarnessError(f"test tier(s) {', '.join(missing)} missing: no tests/{missing[0]}/ directory")
    files: list[str] = []
    for tier in tiers:
        found = tier_files(root, tier)
        if not found:
            raise HarnessError(f"test tier {tier} collected no tests: no test_*.py file under tests/{tier}/")
        files += found
    env = dict(os.environ)
    env.setdefault("HYPOTHESIS_PROFILE", "ci")
    # The progress plugin is copied out of the gate so the tiers of any checkout load it as is.
    plugins = scratch / "pytest-plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).with_name("pytest_progress.py"), plugins / f"{PROGRESS_PLUGIN}.py")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(plugins), env.get("PYTHONPATH", "")) if p)
    groups = []
    for index, group in enumerate(
        plan_groups(files, processes=processes or os.cpu_count() or 1, measured=read_durations(root / DURATIONS_FILE))
    ):
        junit_xml = scratch / f"pytest-{index}.junit.xml"
        group_tiers = tuple(t for t in tiers if any(_tier_of(f) == t for f in group))
        # No xdist or typeguard plugin: unused here, and importing them is ~0.15 s of CPU per process.
        argv = [sys.executable, "-m", "pytest", *group, "-q", "-p", "no:cacheprovider", "-p", "no:xdist"]
        argv += ["-p", "no:typeguard", "-p", PROGRESS_PLUGIN]
        progress_file = scratch / f"pytest-{index}.progress"
        argv += [f"--basetemp={scratch / f'pytest-{index}'}", f"--junitxml={junit_xml}"]
        argv += ["-o", "junit_family=xunit2", "-o", f"junit_suite_name=tests-{index}-{'-'.join(group_tiers)}"]
        groups.append(
            PytestGroup(
                tiers=group_tiers,
                junit_xml=junit_xml,
                started=Started(tool="pytest", argv=argv, env=env | {PROGRESS_ENV: str(progress_file)}, cwd=root),
                progress_file=progress_file,
            )
        )
    return groups


def read_progress(path: Path) -> tuple[int, int] | None:
    """(tests done, tests collected) from one progress file; None before its collection has finished."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    total, newline, marks = text.partition("\n")
    return (marks.count("."), int(total)) if newline else None


def tiers_progress(groups: Sequence[PytestGroup]) -> str:
    """'N of M test(s) done' over every process that has collected; empty before any has."""
    read = [read_progress(g.progress_file) for g in groups if g.progress_file is not None]
    counted = [r for r in read if r is not None]
    if not counted:
        return "collecting"
    done, total = sum(r[0] for r in counted), sum(r[1] for r in counted)
    waiting = len(groups) - len(counted)
    return f"{done} of {total} test(s) done" + (f" ({waiting} process(es) still collecting)" if waiting else "")


def collect_pytest(
    groups: Sequence[PytestGroup], *, junit_xml: Path, timeout_s: float = 900, root: Path | None = None
) -> TestRun:
    """Wait for the processes; their cases, merged into ``junit_xml`` (and, with ``root``, each file's duration)."""
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
        cases += parse_junit(group.junit_xml)
        suites.extend(ET.parse(group.junit_xml).getroot().iter("testsuite"))
    for tier in sorted({t for group in groups for t in group.tiers}):
        if not any(c.tier == tier for c in cases):
            raise HarnessError(f"test tier {tier} collected no tests")
    junit_xml.parent.mkdir(parents=True, exist_ok=True)
    ET.indent(suites)
    junit_xml.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n", encoding="utf-8"
    )
    run = TestRun(cases=sorted(cases, key=lambda c: c.nodeid), duration_s=duration)
    if root is not None:
        write_durations(root / DURATIONS_FILE, run, root=root)
    return run


def pytest_node_id(junit_id: str, *, root: Path) -> str:
    """The node id pytest takes (``tests/unit/test_x.py::TestY::test_z``) for one the JUnit XML names
    (``tests.unit.test_x.TestY::test_z``: pytest writes the module dotted): the longest dotted prefix
    that is a file under ``root`` is the path; as given when none is."""
    classname, separator, name = junit_id.partition("::")
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        path = "/".join(parts[:end]) + ".py"
        if (root / path).is_file():
            return "::".join([path, *parts[end:], *([name] if separator else [])])
    return junit_id


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
