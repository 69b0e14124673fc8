"""The compliance gate against the bare scan it wraps, side by side in one run (issue 12's ratios).

Each round runs, one after another on this machine:

* the bare scan: ``python app.py`` (synth, into a temp dir), ``checkov`` (offline, the
  project's policies) and ``cfn-lint``, sequentially: what a developer would run by hand;
* ``nox -s compliance -- --no-tests``, warm (venvs reused): the same template checks plus
  cdk-nag, waivers and every report;
* ``nox -s compliance``, warm: the full gate, with the unit, snapshot and property tiers.

Printed: the median over ``BENCH_ROUNDS`` rounds (default 3) of each, as wall time and CPU
seconds, and the two ratios the issue sets goals for (full gate / bare scan <= 2.5). Rounds
interleave the three so the shared machine's load hits all of them alike; one untimed run of
each gate comes first (venv install after a lock change, first bytecode caches). ``BENCH_FULL=0``
skips the full gate; ``BENCH_COLD=1`` adds one cold run of each gate (``--reuse-venv=never``:
nox rebuilds the session venv from uv's cache). Without ``nox`` on PATH the gate is timed as
``python -m harness``. A gate verdict of 1 (violations) still times the whole gate; 2 stops.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._timing import (  # noqa: E402
    GATE_EXIT_CODES,
    ROUNDS,
    Timing,
    bare_tools,
    checkov_executable,
    load,
    median,
    timed,
)


def bare_scan(checkov: str) -> dict[str, Timing]:
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as outdir:
        synth = timed([sys.executable, "app.py"], env={"CDK_OUTDIR": outdir})
        scan, lint = bare_tools(checkov, ["-d", outdir], sorted(glob.glob(f"{outdir}/*.template.json")))
    return {"synth (python app.py)": synth, "checkov": scan, "cfn-lint": lint}


def gate(extra: list[str], *, cold: bool = False) -> Timing:
    nox = shutil.which("nox")
    if nox is None:
        return timed([sys.executable, "-m", "harness", "-q", *extra], ok=GATE_EXIT_CODES)
    return timed(
        [nox, "--reuse-venv=never" if cold else "--reuse-venv=yes", "-s", "compliance", "--", *extra],
        ok=GATE_EXIT_CODES,
    )


def show(label: str, timing: Timing, *, against: Timing | None = None) -> None:
    ratio = (
        f"   {timing.wall_s / against.wall_s:5.2f}x wall  {timing.cpu_s / against.cpu_s:5.2f}x CPU" if against else ""
    )
    print(f"  {label:<34}{timing.wall_s:7.1f} s wall {timing.cpu_s:7.1f} s CPU{ratio}")


def main() -> int:
    checkov = checkov_executable()
    runs = {"gate without tiers (--no-tests)": ["--no-tests"]}
    if os.environ.get("BENCH_FULL", "1") != "0":
        runs["full gate (unit, snapshot, property)"] = []
    print(f"gate vs bare scan: median of {ROUNDS} interleaved rounds; nox: {shutil.which('nox') or 'not on PATH'}")
    print(f"  at start: {load()}")
    # Warm-up, untimed: nox (re)installs the session venv from the lock file if it changed, and
    # the first run writes the bytecode caches; "warm" is every run after that.
    for extra in runs.values():
        gate(extra)
    parts: dict[str, list[Timing]] = {}
    gates: dict[str, list[Timing]] = {label: [] for label in runs}
    for _ in range(ROUNDS):
        for name, timing in bare_scan(checkov).items():
            parts.setdefault(name, []).append(timing)
        for label, extra in runs.items():
            gates[label].append(gate(extra))
    bare = Timing(0.0, 0.0)
    for name, timings in parts.items():
        show(name, median(timings))
        bare = bare + median(timings)
    show("bare scan (one after another)", bare)
    for label, timings in gates.items():
        show(f"{label}", median(timings), against=bare)
    if os.environ.get("BENCH_COLD") == "1":
        for label, extra in runs.items():
            show(f"{label}, cold", gate(extra, cold=True), against=bare)
    print(f"  at end: {load()}")
    print("  goals (issue 12): full gate / bare scan <= 2.5 (wall)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
