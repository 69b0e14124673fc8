"""How the gate scales with the number of stacks: ``--assembly`` x N against checkov + cfn-lint alone.

For N = 1, 4 and 16 (``BENCH_STACKS``), N cloud assemblies of the app (one stack each, a
different ``environmentSuffix`` per assembly) are synthesized once, untimed. Then, in the
same run and interleaved round by round (``BENCH_ROUNDS``, median):

* the gate: ``python -m harness --assembly A1 ... --assembly AN`` (no test tiers: they test
  the app, not the given templates): cdk-nag over the templates, checkov with the project's
  policies, cfn-lint, waivers and every report;
* the tools alone over the same templates, one after another: one ``checkov`` process (the
  same offline flags and policies) and one ``cfn-lint`` process.

Printed: wall time, cost per stack (time / N), and gate / tools per N. The goal (issue 12):
the gate's cost grows no faster with N than the tools' cost does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
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

SIZES = tuple(int(n) for n in os.environ.get("BENCH_STACKS", "1,4,16").split(","))

_SYNTH = """
import sys
from infra.app_builder import synthesize
for index, outdir in enumerate(sys.argv[1:]):
    synthesize(outdir=outdir, context={"environmentSuffix": f"bench-{index}"})
"""


def synthesize(assemblies: Sequence[Path]) -> None:
    """One process for all of them (setup, not timed)."""
    subprocess.run(
        [sys.executable, "-c", _SYNTH, *map(str, assemblies)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )


def gate(assemblies: Sequence[Path], reports: Path) -> Timing:
    argv = [sys.executable, "-m", "harness", "-q", "--reports", str(reports)]
    for assembly in assemblies:
        argv += ["--assembly", str(assembly)]
    return timed(argv, ok=GATE_EXIT_CODES)


def tools(checkov: str, templates: Sequence[Path]) -> Timing:
    scan, lint = bare_tools(checkov, [a for t in templates for a in ("--file", str(t))], [str(t) for t in templates])
    return scan + lint


def main() -> int:
    checkov = checkov_executable()
    print(f"many stacks: gate --assembly x N vs checkov + cfn-lint alone, median of {ROUNDS} interleaved rounds")
    print(f"  at start: {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-stacks-") as tmp:
        scratch = Path(tmp)
        assemblies = [scratch / f"assembly-{i:02d}" for i in range(max(SIZES))]
        synthesize(assemblies)
        templates = [next(a.glob("*.template.json")) for a in assemblies]
        samples: dict[int, dict[str, list[Timing]]] = {n: {"gate": [], "tools": []} for n in SIZES}
        for _ in range(ROUNDS):
            for n in SIZES:
                samples[n]["gate"].append(gate(assemblies[:n], scratch / f"reports-{n}"))
                samples[n]["tools"].append(tools(checkov, templates[:n]))
    print(
        f"  {'N':>3}  {'gate wall':>9} {'per stack':>9} {'CPU':>7}   {'tools wall':>10} {'per stack':>9} {'CPU':>7}   gate/tools"
    )
    for n in SIZES:
        g, t = median(samples[n]["gate"]), median(samples[n]["tools"])
        print(
            f"  {n:>3}  {g.wall_s:8.1f}s {g.wall_s / n:8.2f}s {g.cpu_s:6.1f}s   {t.wall_s:9.1f}s {t.wall_s / n:8.2f}s "
            f"{t.cpu_s:6.1f}s   {g.wall_s / t.wall_s:6.2f}x"
        )
    first, last = SIZES[0], SIZES[-1]
    growth = {
        kind: median(samples[last][kind]).wall_s / median(samples[first][kind]).wall_s for kind in ("gate", "tools")
    }
    print(
        f"  growth N={first} -> N={last} (wall): gate x{growth['gate']:.2f}, checkov + cfn-lint x{growth['tools']:.2f} "
        "(goal: gate grows no faster)"
    )
    print(f"  at end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
