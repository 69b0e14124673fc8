"""The compliance gate against the bare scan it wraps, side by side in one run (issue 12's ratios).

Each round runs, one after another on this machine:

* the bare scan: ``python app.py`` (synth, into a temp dir), ``checkov`` (offline, the
  project's policies) and ``cfn-lint``, sequentially: what a developer would run by hand;
* ``nox -s compliance -- --no-tests``, warm (venvs reused): the same template checks plus
  cdk-nag, waivers and every report;
* ``nox -s compliance``, warm: the full gate, with the unit, snapshot and property tiers;
* by hand (issue 20): the bare scan and then plain ``pytest`` over the same tiers, one process,
  the same Hypothesis profile: the same work done one step after another.

Printed: the median over ``BENCH_ROUNDS`` rounds (default 3) of each, as wall time and CPU
seconds, and the ratios the issues set goals for (full gate / bare scan <= 2.5; full gate / by
hand <= 0.6). Rounds
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


def plain_pytest() -> Timing:
    """The gate's tiers as a developer runs them: one pytest process, no plugin switched off."""
    from harness.tools.run_pytest import TIERS  # noqa: PLC0415

    tiers = [f"tests/{tier}" for tier in TIERS]
    return timed(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tiers], env={"HYPOTHESIS_PROFILE": "ci"}
    )


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


def report(parts: dict[str, list[Timing]], gates: dict[str, list[Timing]]) -> Timing:
    """Each step's median, the bare scan (their sum), each gate against it, and the full gate against by hand."""
    bare = Timing(0.0, 0.0)
    for name, timings in parts.items():
        show(name, median(timings))
        if not name.startswith("pytest"):
            bare = bare + median(timings)
    show("bare scan (one after another)", bare)
    for label, timings in gates.items():
        show(f"{label}", median(timings), against=bare)
    if "pytest (the same tiers)" in parts:
        by_hand = bare + median(parts["pytest (the same tiers)"])
        show("by hand: bare scan, then pytest", by_hand)
        show("full gate against by hand", median(gates["full gate (unit, snapshot, property)"]), against=by_hand)
    return bare


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
        if "full gate (unit, snapshot, property)" in runs:
            parts.setdefault("pytest (the same tiers)", []).append(plain_pytest())
        for label, extra in runs.items():
            gates[label].append(gate(extra))
    bare = report(parts, gates)
    if os.environ.get("BENCH_COLD") == "1":
        for label, extra in runs.items():
            show(f"{label}, cold", gate(extra, cold=True), against=bare)
    print(f"  at end: {load()}")
    print("  goals: full gate / bare scan <= 2.5 (issue 12); full gate / by hand <= 0.6 (issue 20), wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
