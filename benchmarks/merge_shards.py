"""The merge step of the CI matrix (``python -m harness merge``) for 2 and 8 shards, against one shard's gate.

In one run on this machine:

1. synthesizes the app once (``python app.py``) and writes two cloud assemblies from it, the
   untouched stack and one with the ``public`` mutation (a real violation);
2. gates each as a real shard (``python -m harness --assembly A --shard I/2 --no-tests``), one
   after the other; the first one's wall time is the reference;
3. times ``python -m harness merge`` (a fresh interpreter, as CI runs it, every report and the
   evidence and OSCAL written) over those 2 real shards, and over 8 shards made by copying the
   two real shards' reports with renamed shard indices, names and assembly labels (8 real gates
   would take 8 gate runs; the merge reads reports only, so copies cost it exactly what real
   shards of the same size cost). Median of 3 each.

``nox -s bench -- merge_shards``
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._timing import GATE_EXIT_CODES, checkov_executable  # noqa: E402
from benchmarks._timing import timed as timing  # noqa: E402

REPEATS = 3
ASSEMBLY_FILES = ("manifest.json", "tree.json", "StagingDatabase.template.json")


def timed(argv: Sequence[str], *, env: Mapping[str, str] | None = None, ok: Sequence[int] = GATE_EXIT_CODES) -> float:
    """Wall seconds; by default a gate's verdict (0 or 1) is not a failed step."""
    return timing(argv, env=env, ok=ok).wall_s


def assemblies(scratch: Path) -> list[Path]:
    from harness.verdict.mutations import MUTATIONS  # noqa: PLC0415  (standard library only)

    app = scratch / "app"
    timed([sys.executable, "app.py"], env={"CDK_OUTDIR": str(app)}, ok=(0,))
    template = json.loads((app / ASSEMBLY_FILES[2]).read_text(encoding="utf-8"))
    public = next(m for m in MUTATIONS if m.name == "public")
    paths = []
    for name, body in (("untouched", template), ("public", public.mutate(template))):
        directory = scratch / name
        directory.mkdir()
        for file in ASSEMBLY_FILES[:2]:
            shutil.copyfile(app / file, directory / file)
        (directory / ASSEMBLY_FILES[2]).write_text(json.dumps(body, indent=1), encoding="utf-8")
        paths.append(directory)
    return paths


def relabel(source: Path, target: Path, *, index: int, total: int) -> Path:
    """A copy of a shard's reports as shard ``index``/``total``, its assembly labels made unique."""
    shutil.copytree(source, target)
    suffix = f"-{index}"
    report_path, evidence_path = target / "compliance.json", target / "evidence" / "evidence.json"
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    evidence: dict[str, Any] = json.loads(evidence_path.read_text(encoding="utf-8"))
    shard = {"index": index, "total": total, "name": f"shard-{index}"}
    report["shard"] = evidence["verdict"]["shard"] = shard
    for assembly in (*report["assemblies"], *evidence["assemblies"], *evidence["verdict"]["assemblies"]):
        assembly["label"] += suffix
    for finding in report["findings"]:
        if finding["assembly"]:
            finding["assembly"] += suffix
    report_path.write_text(json.dumps(report), encoding="utf-8")
    evidence_path.write_text(json.dumps(evidence), encoding="utf-8")
    return target


def merge_seconds(shards: Sequence[Path], out: Path) -> float:
    argv = [sys.executable, "-m", "harness", "merge", *map(str, shards), "--reports", str(out), "-q"]
    return statistics.median(timed(argv) for _ in range(REPEATS))


def main() -> None:
    checkov = checkov_executable()
    with tempfile.TemporaryDirectory(prefix="bench-merge-") as scratch_dir:
        scratch = Path(scratch_dir)
        real = []
        gate_times = []
        for index, assembly in enumerate(assemblies(scratch), start=1):
            reports = scratch / f"shard-{index}"
            argv = [sys.executable, "-m", "harness", "--assembly", str(assembly), "--shard", f"{index}/2",
                    "--reports", str(reports), "--checkov", checkov, "-q"]  # fmt: skip
            gate_times.append(timed(argv))
            real.append(reports)
        eight = [relabel(real[i % 2], scratch / f"copy-{i + 1}", index=i + 1, total=8) for i in range(8)]
        two_s = merge_seconds(real, scratch / "merged-2")
        eight_s = merge_seconds(eight, scratch / "merged-8")
        findings = len(json.loads((scratch / "merged-8" / "compliance.json").read_text(encoding="utf-8"))["findings"])
    gate_s = min(gate_times)  # the reference: the faster of the two real shards' gates (the first warms caches)
    print(f"one shard's gate (--assembly, no tiers), real: {gate_s:.1f} s (the two shards: "
          f"{gate_times[0]:.1f} s, {gate_times[1]:.1f} s)")  # fmt: skip
    print(f"merge, 2 real shards (python -m harness merge, every report), median of {REPEATS}: {two_s:.2f} s")
    print(
        f"merge, 8 shards (copies of the 2 real shards' reports, relabelled; {findings} findings), "
        f"median of {REPEATS}: {eight_s:.2f} s"
    )
    print(f"  per shard: {two_s / 2:.2f} s at 2, {eight_s / 8:.2f} s at 8; 8 / 2 shards: {eight_s / two_s:.2f}x")
    print(f"  merge / one shard's gate: {two_s / gate_s:.2f}x at 2 shards, {eight_s / gate_s:.2f}x at 8")


if __name__ == "__main__":
    main()
