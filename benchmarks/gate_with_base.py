"""The gate compared with a cached base, against the gate on the head alone, side by side.

Prints, in one run on this machine: the warm wall time of ``python -m harness --no-tests``
(synthesis mode, the head alone) and of the same command with ``--base REF`` once the base
is in the cache (its assembly and findings), alternating the two ``BENCH_REPEAT`` times
(default 3), the median of each and their ratio (target: at most 1.3x). The first run with
the base fills the cache (a fresh cache directory, so it also shows the cold cost of a base).

``BENCH_BASE`` names the ref (default ``HEAD``); the cache lives in a temporary directory.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import GATE_EXIT_CODES, checkov_executable
from benchmarks._timing import timed as timing


def timed(argv: Sequence[str]) -> float:
    """Wall seconds; a gate's verdict (0 or 1) is not a failed step."""
    return timing(argv, ok=GATE_EXIT_CODES).wall_s


def main() -> None:
    checkov = checkov_executable()
    ref = os.environ.get("BENCH_BASE", "HEAD")
    repeat = int(os.environ.get("BENCH_REPEAT", "3"))
    with tempfile.TemporaryDirectory(prefix="bench-base-") as scratch:
        common = [sys.executable, "-m", "harness", "-q", "--no-tests", "--checkov", checkov]
        common += ["--out", f"{scratch}/cdk.out", "--reports", f"{scratch}/reports"]
        head = common
        compared = [*common, "--base", ref, "--base-cache", f"{scratch}/cache"]
        cold = timed(compared)  # fills the cache: the base synthesized and judged once
        print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; base {ref}; {repeat} warm runs each")
        print(f"  {'gate --base, empty cache':<34}{cold:7.1f} s")
        alone: list[float] = []
        with_base: list[float] = []
        for _ in range(repeat):  # alternate, so both see the same machine
            alone.append(timed(head))
            with_base.append(timed(compared))
    a, b = statistics.median(alone), statistics.median(with_base)
    print(f"  {'gate on the head alone (median)':<34}{a:7.1f} s   runs: {', '.join(f'{t:.1f}' for t in alone)}")
    print(f"  {'gate --base, cached (median)':<34}{b:7.1f} s   runs: {', '.join(f'{t:.1f}' for t in with_base)}")
    print(f"  {'ratio (target <= 1.3x)':<34}{b / a:7.2f} x")


if __name__ == "__main__":
    main()
