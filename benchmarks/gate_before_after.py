"""The gate on the staging assembly now, against the gate of a reference commit, side by side.

Issue 16 (deny by default, deployed bytes, reviewed code, reachability, behaviour) may cost at
most +20 % on one ``--assembly`` scan of the staging assembly. This prints, in one run on this
machine: the wall and CPU time of ``python -m harness --assembly A -q --no-tests`` in this
checkout and in a temporary worktree of ``BENCH_REFERENCE`` (default: the last commit before
issue 16), alternating the two ``BENCH_REPEAT`` times (default 5), the medians and the ratio.
Both judge the same assembly (synthesized once by this checkout) with the same venvs; each
reads its own ``policies/``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._timing import GATE_EXIT_CODES, ROOT, Timing, checkov_executable, timed

REFERENCE = os.environ.get("BENCH_REFERENCE", "b6cab85")  # main before issue 16 (stop 14's final commit)


def main() -> None:
    checkov = checkov_executable()
    repeat = int(os.environ.get("BENCH_REPEAT", "5"))
    with tempfile.TemporaryDirectory(prefix="bench-before-") as scratch:
        before = Path(scratch) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), REFERENCE], cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        try:
            assembly = Path(scratch) / "cdk.out"
            synth = [
                sys.executable,
                "-c",
                "from infra.app_builder import synthesize; import sys; synthesize(outdir=sys.argv[1])",
            ]
            timed([*synth, str(assembly)])
            runs: dict[str, list[Timing]] = {"now": [], REFERENCE: []}
            for _ in range(repeat):  # alternate, so both see the same machine
                for label, cwd in (("now", ROOT), (REFERENCE, before)):
                    argv = [sys.executable, "-m", "harness", "--assembly", str(assembly), "-q", "--checkov", checkov]
                    argv += ["--reports", f"{scratch}/reports-{label}"]
                    runs[label].append(timed(argv, ok=GATE_EXIT_CODES, cwd=cwd, env={"PYTHONPATH": str(cwd)}))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; reference {REFERENCE}; {repeat} runs each")
    medians = {}
    for label, timings in runs.items():
        wall = statistics.median(t.wall_s for t in timings)
        cpu = statistics.median(t.cpu_s for t in timings)
        medians[label] = (wall, cpu)
        shown = ", ".join(f"{t.wall_s:.1f}" for t in timings)
        print(f"  gate --assembly, {label:<10} wall {wall:6.2f} s  cpu {cpu:6.2f} s   runs: {shown}")
    (now_wall, now_cpu), (ref_wall, ref_cpu) = medians["now"], medians[REFERENCE]
    print(
        f"  now / {REFERENCE}: wall {now_wall / ref_wall:.2f}x, cpu {now_cpu / ref_cpu:.2f}x (issue 16: at most 1.20x)"
    )


if __name__ == "__main__":
    main()
