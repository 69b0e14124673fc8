"""What the auditor's bundle (controls.md, evidence/, oscal/) adds to a gate run, and the size of each file.

Runs the gate once (``--no-tests`` on a synthesized cloud assembly, reports in a temp dir), then,
in this process and from that run's compliance.json, times the parts the bundle adds:

* importing compliance-trestle's OSCAL models in a fresh interpreter (the gate does it in a
  background thread from its start, overlapping checkov and cfn-lint);
* the per-control roll-up and writing every file of the bundle (hashing included), median of 5.

``nox -s bench -- evidence_cost``
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._timing import checkov_executable  # noqa: E402


def main() -> None:
    checkov = checkov_executable()
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as scratch:
        reports, out = Path(scratch) / "reports", Path(scratch) / "cdk.out"
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "harness", "--no-tests", "--out", str(out), "--reports", str(reports), "-q",
             "--checkov", checkov],
            cwd=ROOT, capture_output=True, check=False, env={**os.environ, "SOURCE_DATE_EPOCH": "1767225600"},
        )  # fmt: skip
        print(f"gate --no-tests (synthesis, every check, every report): {time.perf_counter() - began:.1f} s")
        imports = []
        for _ in range(3):
            code = "import time; t=time.perf_counter(); import trestle.oscal.component, trestle.oscal.assessment_results; print(time.perf_counter()-t)"
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            imports.append(float(done.stdout))
        print(
            f"import trestle's OSCAL models, fresh interpreter (overlapped in the gate): {statistics.median(imports):.2f} s"
        )
        print(
            f"bundle (roll-up + evidence hashes + controls.md + OSCAL), median of 5: {_bundle_seconds(reports, out):.2f} s"
        )
        for name in ("controls.md", "evidence/evidence.json", "evidence/SHA256SUMS", "oscal/component-definition.json",
                     "oscal/assessment-results.json", "compliance.json"):  # fmt: skip
            path = reports / name
            print(f"  {name}: {path.stat().st_size / 1024:.0f} KiB" if path.is_file() else f"  {name}: missing")


def _bundle_seconds(reports: Path, out: Path) -> float:
    sys.path.insert(0, str(ROOT))
    import harness.oscal  # noqa: PLC0415
    from harness.bundle import BundleInput, write_bundle  # noqa: PLC0415
    from harness.controls import annotate, roll_up, tools_ran  # noqa: PLC0415
    from harness.evidence import reproducible_time  # noqa: PLC0415
    from harness.gate import load_catalog  # noqa: PLC0415
    from harness.model import Finding, Source, Status  # noqa: PLC0415

    harness.oscal._import_models()
    report = json.loads((reports / "compliance.json").read_text(encoding="utf-8"))
    catalog = load_catalog()
    keys = [f.key for f in catalog.frameworks]
    findings = [
        Finding(**{**f, "source": Source(f["source"]), "status": Status(f["status"])}) for f in report["findings"]
    ]
    times = []
    for _ in range(5):
        began = time.perf_counter()
        annotated = annotate(findings, catalog.mappings, keys=keys)
        applicable = {c["policy"]: c["resources"] for c in report["coverage"]}
        controls = roll_up(annotated, catalog.mappings, catalog.frameworks, ran=tools_ran(report["tools"]),
                           applicable=applicable)  # fmt: skip
        write_bundle(
            BundleInput(
                root=ROOT, policies_dir=ROOT / "policies", verdict={k: report[k] for k in ("verdict", "exit_code", "mode", "error")},
                findings=annotated, controls=controls, assemblies=[{"label": out.name, "abs_path": str(out)}],
                tools=report["tools"], commands=[], versions={}, timestamp=reproducible_time(ROOT),
                frameworks=catalog.frameworks, mappings=catalog.mappings, policies=catalog.policies,
            ),
            reports.parent / "bundle",
        )  # fmt: skip
        times.append(time.perf_counter() - began)
    return statistics.median(times)


if __name__ == "__main__":
    main()
