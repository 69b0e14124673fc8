"""Shared by the benchmarks (``nox -s bench`` skips files starting with ``_``): timed commands.

Every figure is a wall time and the CPU seconds the command's processes used (user + system,
children included), because the machine is shared: wall times move with other people's load,
CPU seconds much less, and the ratios are only taken between commands timed in the same run.
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.wall_s + other.wall_s, self.cpu_s + other.cpu_s)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, ok: Sequence[int] = (0,), cwd: Path = ROOT
) -> Timing:
    """Run ``argv`` to completion; exit the benchmark with the command's last lines if it failed.

    The command gets its own process group, killed as a whole if the benchmark is interrupted,
    so an aborted gate leaves no pytest or checkov behind. Its grandchildren's CPU is counted
    when they are waited for, which every tool here does.
    """
    cpu_before = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    timing = Timing(time.perf_counter() - started, _children_cpu() - cpu_before)
    if process.returncode not in ok:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        sys.exit(f"benchmark step failed (exit {process.returncode}): {' '.join(argv[:4])}...\n" + "\n".join(tail))
    return timing


ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
GATE_EXIT_CODES = (0, 1)  # a verdict, clean or not; 2 would be a harness failure
LINT_EXIT_CODES = (0, 2, 4, 6, 8, 10, 12, 14)  # cfn-lint: a bit mask of finding levels; 1 would be a crash


def bare_tools(checkov: str, sources: Sequence[str], templates: Sequence[str]) -> tuple[Timing, Timing]:
    """checkov (``sources``: ``-d DIR`` or ``--file F``...) with the project's policies, then cfn-lint
    on ``templates``: the two scanners as a team would run them without the gate."""
    from harness.tools.run_checkov import CHECKOV_OFFLINE_ENV  # noqa: PLC0415  (standard library only)

    scan = timed(
        [checkov, *sources, "--framework", "cloudformation", "--skip-download", "--external-checks-dir",
         str(ROOT / "policies" / "checks"), "-o", "json", "--quiet"],
        env=CHECKOV_OFFLINE_ENV, ok=GATE_EXIT_CODES,
    )  # fmt: skip
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    return scan, timed([cfn_lint, "--regions", "us-east-1", "--", *templates], ok=LINT_EXIT_CODES)


def median(timings: Sequence[Timing]) -> Timing:
    return Timing(statistics.median(t.wall_s for t in timings), statistics.median(t.cpu_s for t in timings))


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def checkov_executable() -> str:
    checkov = os.environ.get("CHECKOV_BIN") or str(ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov")
    if not Path(checkov).is_file():
        sys.exit(f"checkov not found at {checkov}: run `nox -s bench` (it sets CHECKOV_BIN)")
    return checkov
