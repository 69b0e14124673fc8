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
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.run_checkov import CHECKOV_OFFLINE_ENV  # noqa: E402  (standard library only)

SIZES = tuple(int(n) for n in os.environ.get("BENCH_STACKS", "1,4,16").split(","))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))

_SYNTH = """
import sys
from infra.app_builder import synthesize
for index, outdir in enumerate(sys.argv[1:]):
    synthesize(outdir=outdir, context={"environmentSuffix": f"bench-{index}"})
"""


def timed(argv: Sequence[str], *, env: Mapping[str, str] | None = None, ok: Sequence[int] = (0,)) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in ok:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        sys.exit(f"benchmark step failed (exit {done.returncode}): {' '.join(argv[:4])}...\n" + "\n".join(tail))
    return elapsed


def synthesize(assemblies: Sequence[Path]) -> None:
    """One process for all of them (setup, not timed)."""
    subprocess.run(
        [sys.executable, "-c", _SYNTH, *map(str, assemblies)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )


def gate(assemblies: Sequence[Path], reports: Path) -> float:
    argv = [sys.executable, "-m", "harness", "-q", "--reports", str(reports)]
    for assembly in assemblies:
        argv += ["--assembly", str(assembly)]
    return timed(argv, ok=(0, 1))


def tools(checkov: str, templates: Sequence[Path]) -> float:
    files = [arg for template in templates for arg in ("--file", str(template))]
    scan = timed(
        [checkov, *files, "--framework", "cloudformation", "--skip-download", "--external-checks-dir",
         str(ROOT / "policies" / "checks"), "-o", "json", "--quiet"],
        env=CHECKOV_OFFLINE_ENV, ok=(0, 1),
    )  # fmt: skip
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    lint = timed([cfn_lint, "--regions", "us-east-1", "--", *map(str, templates)], ok=(0, 2, 4, 6, 8, 10, 12, 14))
    return scan + lint


def main() -> int:
    checkov = os.environ.get("CHECKOV_BIN") or str(ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov")
    if not Path(checkov).is_file():
        sys.exit(f"checkov not found at {checkov}: run `nox -s bench` (it sets CHECKOV_BIN)")
    print(
        f"many stacks: N = {', '.join(map(str, SIZES))}, median of {ROUNDS} interleaved rounds, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="bench-stacks-") as tmp:
        scratch = Path(tmp)
        assemblies = [scratch / f"assembly-{i:02d}" for i in range(max(SIZES))]
        synthesize(assemblies)
        templates = [next(a.glob("*.template.json")) for a in assemblies]
        samples: dict[int, dict[str, list[float]]] = {n: {"gate": [], "tools": []} for n in SIZES}
        for _ in range(ROUNDS):
            for n in SIZES:
                samples[n]["gate"].append(gate(assemblies[:n], scratch / f"reports-{n}"))
                samples[n]["tools"].append(tools(checkov, templates[:n]))
    print(f"  {'N':>3}  {'gate':>8}  {'per stack':>9}  {'checkov+cfn-lint':>16}  {'per stack':>9}  {'gate/tools':>10}")
    for n in SIZES:
        gate_s = statistics.median(samples[n]["gate"])
        tools_s = statistics.median(samples[n]["tools"])
        print(
            f"  {n:>3}  {gate_s:7.1f}s  {gate_s / n:8.2f}s  {tools_s:15.1f}s  {tools_s / n:8.2f}s  {gate_s / tools_s:10.2f}"
        )
    first, last = SIZES[0], SIZES[-1]
    growth = {
        kind: statistics.median(samples[last][kind]) / statistics.median(samples[first][kind])
        for kind in ("gate", "tools")
    }
    print(
        f"  growth N={first} -> N={last}: gate x{growth['gate']:.2f}, checkov+cfn-lint x{growth['tools']:.2f} "
        f"(goal: gate <= tools)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
