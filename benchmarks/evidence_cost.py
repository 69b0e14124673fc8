"""What the auditor's bundle and the signed statement add to a gate run, and the size of each file.

Runs the gate once (``--no-tests --sign-key`` on a synthesized cloud assembly, reports in a temp
dir), then, in this process and from that run's compliance.json, times (median of 5, CPU seconds
of this process beside the wall time, since the machine is shared):

* the bundle without OSCAL (controls roll-up, evidence hashes, controls.md): what a run pays anyway;
* the four OSCAL documents (component definition, assessment plan, assessment results, POA&M);
* the statement: hashing every subject, the in-toto Statement, the DSSE envelope, unsigned and
  signed (ed25519);

and prints what OSCAL + signing add against the gate run's own wall time, and each file's size
with, for the OSCAL documents, what the same JSON would weigh indented (the earlier format).

``nox -s bench -- evidence_cost``
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._timing import checkov_executable  # noqa: E402

ROUNDS = 5


def main() -> None:
    checkov = checkov_executable()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as scratch:
        base = Path(scratch)
        reports, out = base / "reports", base / "cdk.out"
        key = _key(base)
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "harness", "--no-tests", "--out", str(out), "--reports", str(reports), "-q",
             "--checkov", checkov, "--sign-key", str(key)],
            cwd=ROOT, capture_output=True, check=False, env={**os.environ},
        )  # fmt: skip
        gate = time.perf_counter() - began
        print(f"gate --no-tests --sign-key (synthesis, every check, every report, signed): {gate:.1f} s")
        print(f"import trestle's OSCAL models, fresh interpreter (overlapped in the gate): {_import_seconds():.2f} s")
        costs = _costs(reports, out, key, base / "bench")
        for label, (wall, cpu) in costs.items():
            print(f"  {label}, median of {ROUNDS}: {wall:.3f} s wall, {cpu:.3f} s CPU")
        added = costs["four OSCAL documents"][0] + costs["statement, signed"][0]
        print(f"OSCAL + signing add {added:.2f} s to the gate run ({added / gate:.1%} of its {gate:.1f} s)")
        for name in ("controls.md", "evidence/evidence.json", "evidence/SHA256SUMS", "attestation/statement.intoto.jsonl",
                     "attestation/subjects.sha256", "compliance.json"):  # fmt: skip
            path = reports / name
            print(f"  {name}: {path.stat().st_size / 1024:.0f} KiB" if path.is_file() else f"  {name}: missing")
        for path in sorted((reports / "oscal").glob("*.json")):
            indented = len(json.dumps(json.loads(path.read_bytes()), indent=2).encode("utf-8"))
            print(f"  oscal/{path.name}: {path.stat().st_size / 1024:.0f} KiB (indented: {indented / 1024:.0f} KiB)")


def _key(base: Path) -> Path:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    path = base / "bench-signing.pem"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


def _import_seconds() -> float:
    samples = []
    for _ in range(3):
        code = ("import time; t=time.perf_counter(); from harness import oscal; oscal.import_models(); "
                "print(time.perf_counter()-t)")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        samples.append(float(done.stdout))
    return statistics.median(samples)


def _median(action: Callable[[], Any]) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _costs(reports: Path, out: Path, key: Path, target: Path) -> dict[str, tuple[float, float]]:
    from harness.audit import oscal  # noqa: PLC0415
    from harness.audit.attest import load_signer, write_attestation  # noqa: PLC0415
    from harness.audit.bundle import BundleInput, write_bundle  # noqa: PLC0415
    from harness.audit.evidence import RunClock, checkout_state  # noqa: PLC0415
    from harness.gate import load_catalog  # noqa: PLC0415
    from harness.model import Finding, Source, Status  # noqa: PLC0415
    from harness.verdict.controls import annotate, roll_up, tools_ran  # noqa: PLC0415

    oscal.import_models()
    report = json.loads((reports / "compliance.json").read_text(encoding="utf-8"))
    catalog = load_catalog()
    findings = [
        Finding(**{**f, "source": Source(f["source"]), "status": Status(f["status"])}) for f in report["findings"]
    ]
    annotated = annotate(findings, catalog.mappings, keys=[f.key for f in catalog.frameworks])
    applicable = {c["policy"]: c["resources"] for c in report["coverage"]}
    controls = roll_up(annotated, catalog.mappings, catalog.frameworks, ran=tools_ran(report["tools"]),
                       applicable=applicable)  # fmt: skip
    full = BundleInput(
        root=ROOT, policies_dir=catalog.policies_dir,
        verdict={k: report[k] for k in ("verdict", "exit_code", "mode", "error")} | {"assemblies": []},
        findings=annotated, controls=controls, assemblies=[{"label": out.name, "abs_path": str(out)}],
        tools=report["tools"], commands=[], versions={}, times=RunClock().times(), checkout=checkout_state(ROOT),
        frameworks=catalog.frameworks, mappings=catalog.mappings, policies=catalog.policies, waivers=report["waivers"],
    )  # fmt: skip
    evidence_only = dataclasses.replace(full, frameworks=())
    costs = {
        "bundle without OSCAL (roll-up, evidence hashes)": _median(lambda: write_bundle(evidence_only, target)),
        "bundle with the four OSCAL documents": _median(lambda: write_bundle(full, target)),
    }
    with_oscal, without = (
        costs["bundle with the four OSCAL documents"],
        costs["bundle without OSCAL (roll-up, evidence hashes)"],
    )
    costs["four OSCAL documents"] = (with_oscal[0] - without[0], with_oscal[1] - without[1])
    # The statement hashes every report on disk: the gate run's own, copied beside the bundle.
    bundle = write_bundle(full, target)
    for name in ("compliance.md", "compliance.json", "compliance.sarif", "policy-catalog.md", "traceability.md",
                 "compliance.junit.xml"):  # fmt: skip
        (target / name).write_bytes((reports / name).read_bytes())
    signer = load_signer(key)
    counts = report["counts"]
    costs["statement, unsigned"] = _median(
        lambda: write_attestation(reports_dir=target, evidence=bundle.evidence, counts=counts, root=ROOT, signer=None)
    )
    costs["statement, signed"] = _median(
        lambda: write_attestation(reports_dir=target, evidence=bundle.evidence, counts=counts, root=ROOT, signer=signer)
    )
    return costs


if __name__ == "__main__":
    main()
