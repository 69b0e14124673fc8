"""The compliance gate's wall time against the tools it wraps, run one after another.

Prints, in one run on this machine:

* the baseline: ``python app.py`` (synth, into a temp dir) + ``checkov`` (offline, the
  project's checks) + ``cfn-lint``, sequentially, and their sum;
* ``nox -s compliance`` cold (``--reuse-venv=never``: nox rebuilds the session venv from the
  lock file, from uv's local cache) and warm (venvs reused), full (with the test tiers) and
  ``-- --no-tests`` (the template-level work the baseline also does, plus cdk-nag, waivers and
  reports).

checkov's own venv is built once by ``ensure_checkov`` and reused by both (it is keyed on
requirements/checkov.txt). Without ``nox`` on PATH the gate is timed as ``python -m harness``.
``BENCH_FULL=0`` skips the full-gate runs (they include the ~40 s test tiers).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.run_checkov import CHECKOV_OFFLINE_ENV  # noqa: E402  (standard library only)


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


def baseline(checkov: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-cdk-out-") as outdir:
        synth = timed([sys.executable, "app.py"], env={"CDK_OUTDIR": outdir})
        scan = timed(
            [checkov, "-d", outdir, "--framework", "cloudformation", "--skip-download", "--external-checks-dir",
             str(ROOT / "policies" / "checks"), "-o", "json", "--quiet"],
            env=CHECKOV_OFFLINE_ENV, ok=(0, 1),
        )  # fmt: skip
        cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
        lint = timed(
            [cfn_lint, "--regions", "us-east-1", "--", *glob.glob(f"{outdir}/*.template.json")],
            ok=(0, 2, 4, 6, 8, 10, 12, 14),
        )
    return {"synth (python app.py)": synth, "checkov": scan, "cfn-lint": lint}


def gate(extra: Sequence[str], *, cold: bool) -> float:
    nox = shutil.which("nox")
    if nox is None:
        return timed([sys.executable, "-m", "harness", "-q", *extra])
    reuse = ["--reuse-venv=never"] if cold else ["--reuse-venv=yes"]
    return timed([nox, *reuse, "-s", "compliance", "--", *extra])


def main() -> None:
    checkov = os.environ.get("CHECKOV_BIN") or str(ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov")
    if not Path(checkov).is_file():
        sys.exit(f"checkov not found at {checkov}: run `nox -s bench` (it sets CHECKOV_BIN)")
    print(f"machine: {os.cpu_count()} CPUs; nox: {shutil.which('nox') or 'not on PATH (timing python -m harness)'}")
    parts = baseline(checkov)
    total = sum(parts.values())
    for name, seconds in parts.items():
        print(f"  {name:<28}{seconds:7.1f} s")
    print(f"  {'sum (one after another)':<28}{total:7.1f} s")
    runs = [("gate --no-tests", ["--no-tests"])]
    if os.environ.get("BENCH_FULL", "1") != "0":
        runs.append(("gate (with test tiers)", []))
    for label, extra in runs:
        cold = gate(extra, cold=True)
        warm = gate(extra, cold=False)
        print(f"  nox -s compliance {label:<24} cold {cold:6.1f} s   warm {warm:6.1f} s   "
              f"(warm / sum = {warm / total:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
