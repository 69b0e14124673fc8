"""Fail closed: whenever the gate cannot prove a check ran, it exits 2 and says why.

Missing or crashing tools, unreadable input, an empty assembly and a cdk-nag pack that did
not run (missing from the report, or a plugin failure) must never look like a pass.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR
from harness.errors import HarnessError
from harness.tools.nag import PACK_NAMES, PackRun, judge_report
from tests.harness.conftest import ROOT, TEMPLATE, GateRunner, run_gate

pytestmark = pytest.mark.slow


def fake_tool(directory: Path, name: str, body: str, *, shebang: str = "#!/bin/sh") -> str:
    path = directory / name
    path.write_text(f"{shebang}\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def assert_harness_failure(run: Any, *fragments: str) -> None:
    assert run.returncode == 2, f"exit {run.returncode}: {run.stderr}"
    message = run.stderr
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"
    assert run.report["verdict"] == "ERROR"
    assert all(fragment in run.report["error"] for fragment in fragments)


def test_missing_checkov(gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", str(tmp_path / "no-such-checkov"))
    assert_harness_failure(run, "checkov is missing")


def test_checkov_crashing(gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    checkov = fake_tool(tmp_path, "checkov", "echo 'Traceback: boom' >&2; exit 2")
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", checkov)
    assert_harness_failure(run, "checkov crashed (exit 2)", "boom")


def test_checkov_printing_garbage(gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    checkov = fake_tool(tmp_path, "checkov", "echo 'all good, trust me'; exit 0")
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", checkov)
    assert_harness_failure(run, "checkov output is not JSON")


def test_checkov_that_scanned_too_little(gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    report = {"check_type": "cloudformation", "results": {"passed_checks": [], "failed_checks": []},
              "summary": {"passed": 0, "failed": 0, "parsing_errors": 0, "resource_count": 1}}  # fmt: skip
    checkov = fake_tool(tmp_path, "checkov", f"echo '{json.dumps(report)}'; exit 0")
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", checkov)
    assert_harness_failure(run, "checkov counted 1 resources")


def test_checkov_whose_interpreter_cannot_import_it(
    gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path
) -> None:
    # A Python console script is prewarmed through its interpreter; this one has no checkov.
    checkov = fake_tool(tmp_path, "checkov", "raise SystemExit(0)", shebang=f"#!{sys.executable}")
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", checkov)
    assert_harness_failure(run, "checkov crashed (exit 2)", "checkov import failed")


def test_missing_cfn_lint(gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    run = gate("--assembly", str(make_assembly("clean")), "--cfn-lint", str(tmp_path / "no-such-cfn-lint"))
    assert_harness_failure(run, "cfn-lint is missing")


def test_unparseable_template(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("broken")
    (assembly / TEMPLATE).write_text('{"Resources": {', encoding="utf-8")
    run = gate("--assembly", str(assembly))
    assert_harness_failure(run, "unparseable template", TEMPLATE)


def test_empty_assembly(gate: GateRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": {}}), encoding="utf-8")
    run = gate("--assembly", str(empty))
    assert_harness_failure(run, "empty cloud assembly")


def test_directory_without_manifest(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--assembly", str(tmp_path))
    assert_harness_failure(run, "is not a cloud assembly: manifest.json is missing")


def test_template_without_resources(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("hollow", {"Resources": {}})
    run = gate("--assembly", str(assembly))
    assert_harness_failure(run, "empty cloud assembly")


def test_missing_test_tier(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--tiers", "unit,no-such-tier", "--out", str(tmp_path / "cdk.out"))
    assert_harness_failure(run, "no-such-tier")


# A cdk-nag pack that did not run: the gate's own process with one pack patched out or broken.
_WITHOUT_PCI = """
import sys
import harness.tools.nag as nag
nag.PACKS = tuple(p for p in nag.PACKS if p.name != "PCI.DSS.321")
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""
_PCI_PLUGIN_FAILURE = """
import sys
import cdk_nag
def broken(self, context):
    raise RuntimeError("appConstruct missing from the validation context")
cdk_nag.PCIDSS321Checks.validate = broken
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_pack_missing_from_the_report(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    run = gate("--assembly", str(make_assembly("clean")), python_code=_WITHOUT_PCI)
    assert_harness_failure(run, "cdk-nag pack PCI.DSS.321 did not run")


def test_pack_plugin_failure(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    run = gate("--assembly", str(make_assembly("clean")), python_code=_PCI_PLUGIN_FAILURE)
    assert_harness_failure(run, "cdk-nag pack PCI.DSS.321 reported a plugin failure", "appConstruct missing")


def test_pack_missing_in_synth_mode(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--no-tests", "--out", str(tmp_path / "cdk.out"), python_code=_WITHOUT_PCI)
    assert_harness_failure(run, "cdk-nag pack PCI.DSS.321 did not run")


# The report judge on its own, with reports shaped like aws-cdk-lib 2.275 writes them.
def _report(*plugins: dict[str, Any]) -> dict[str, Any]:
    return {"version": "55.0.0", "title": "Validation Report", "pluginReports": list(plugins)}


def _ran(*names: str, violations: int = 0) -> dict[str, PackRun]:
    return {n: PackRun(name=n, calls=1, resources=40, violations=violations) for n in names}


def test_judge_rejects_a_pack_absent_from_report_and_record() -> None:
    with pytest.raises(HarnessError, match=re.escape("PCI.DSS.321 did not run")):
        judge_report(_report(), runs=_ran("AwsSolutions", "NIST.800.53.R5"))


def test_judge_rejects_a_report_alone_that_lacks_a_pack() -> None:
    with pytest.raises(HarnessError, match="missing from the validation report"):
        judge_report(_report(), runs=None)


def test_judge_rejects_plugin_failure_metadata() -> None:
    failure = {"pluginName": "AwsSolutions", "conclusion": "failure", "violations": [],
               "metadata": {"error": "Validation plugin 'AwsSolutions' failed: NagPack requires a construct tree"}}  # fmt: skip
    with pytest.raises(HarnessError, match=r"AwsSolutions reported a plugin failure: .*construct tree"):
        judge_report(_report(failure), runs=_ran(*PACK_NAMES))


def test_judge_rejects_a_pack_that_evaluated_nothing() -> None:
    runs = _ran(*PACK_NAMES)
    runs["NIST.800.53.R5"].resources = 0
    with pytest.raises(HarnessError, match=re.escape("NIST.800.53.R5 evaluated nothing")):
        judge_report(_report(), runs=runs)


def test_judge_rejects_a_recorded_violation_missing_from_the_report() -> None:
    with pytest.raises(HarnessError, match="AwsSolutions did not run: it is missing"):
        judge_report(_report(), runs={**_ran(*PACK_NAMES), **_ran("AwsSolutions", violations=2)})


def test_judge_accepts_clean_packs_that_the_framework_omits() -> None:
    outcome = judge_report(_report(), runs=_ran(*PACK_NAMES))
    assert outcome.violations == [] and outcome.suppressed == []


# A synthesis-time rule aspect (required tags, no Retain) refusing the app is a violation, not a crash.
_RETAIN_ON_THE_KEY = """
import sys
from aws_cdk import CfnResource
from infra.aspects import removal_policies
def check(self, node):
    if isinstance(node, CfnResource) and node.cfn_resource_type == "AWS::KMS::Key":
        return f"{node.node.path} (AWS::KMS::Key) has DeletionPolicy Retain: every resource must be destroyable"
    return ""
removal_policies.ForbidRetainPolicies.check = check
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_synthesis_rejected_by_a_rule_aspect_is_a_violation(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--no-tests", "--out", str(tmp_path / "cdk.out"), python_code=_RETAIN_ON_THE_KEY)
    assert run.returncode == 1, run.stderr
    (finding,) = [f for f in run.report["findings"] if f["status"] == "failed"]
    assert finding["rule_id"] == "synthesis-rule"
    assert "Encryption/Key" in finding["message"] and "Retain" in finding["message"]
    assert finding["construct_path"] == "StagingDatabase/Encryption/Key/Resource"


# Harness faults never look like a verdict (issue 8, section 5).


def _no_traceback(run: Any) -> None:
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    errors = [line for line in run.stderr.splitlines() if line.startswith("compliance gate error:")]
    assert len(errors) == 1, run.stderr[-2000:]


def test_a_fifo_template_is_refused_without_blocking(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("fifo")
    (assembly / TEMPLATE).unlink()
    os.mkfifo(assembly / TEMPLATE)
    run = gate("--assembly", str(assembly), timeout=120)
    assert_harness_failure(run, "it is a FIFO, not a regular file", TEMPLATE)
    _no_traceback(run)


def test_an_undecodable_template_is_one_line(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("latin1")
    (assembly / TEMPLATE).write_bytes('{"Description": "caf\xe9", "Resources": {}}'.encode("latin-1"))
    run = gate("--assembly", str(assembly))
    assert_harness_failure(run, "is not UTF-8 text")
    _no_traceback(run)


def test_runaway_nesting_is_one_line(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("deep")
    depth = 50_000
    (assembly / TEMPLATE).write_text('{"Resources": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    run = gate("--assembly", str(assembly))
    assert_harness_failure(run, "nested too deeply")
    _no_traceback(run)


def test_a_manifest_of_the_wrong_shape_is_one_line(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    assembly = make_assembly("shape")
    manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack":
            artifact["properties"]["templateFile"] = "../../outside.template.json"
    (assembly / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run = gate("--assembly", str(assembly))
    assert_harness_failure(run, "points outside the assembly")
    _no_traceback(run)


def test_a_reports_folder_that_cannot_be_written_is_one_line(
    make_assembly: Callable[..., Path], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the reports folder should go", encoding="utf-8")
    run = run_gate(["--assembly", str(make_assembly("clean"))], reports=blocker / "reports")
    assert run.returncode == 2, run.stderr
    assert "cannot write the reports to" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_gate_killed_midway_leaves_no_earlier_pass(make_assembly: Callable[..., Path], tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "compliance.json").write_text(json.dumps({"verdict": "PASS", "exit_code": 0}), encoding="utf-8")
    (reports / "compliance.md").write_text("# PASS\n", encoding="utf-8")
    slow = fake_tool(tmp_path, "checkov", "sleep 60")
    argv = [sys.executable, "-m", "harness", "--assembly", str(make_assembly("clean")), "--checkov", slow,
            "--reports", str(reports), "-q"]  # fmt: skip
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (reports / "compliance.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert not (reports / "compliance.json").exists(), "an earlier PASS survived a run that never finished"
    assert not (reports / "compliance.md").exists()


def test_a_custom_check_that_does_not_load_is_a_harness_failure(
    gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path
) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies)
    broken = policies / "checks" / "rds" / "ckv_stg_rds_99_broken.py"
    metadata = {"id": "CKV_STG_RDS_99", "name": "broken", "category": "GENERAL_SECURITY", "severity": "LOW",
                "rationale": "r", "requirements": ["REQ-DB-01"], "remediation": "r",
                "resource_types": ["AWS::RDS::DBInstance"]}  # fmt: skip
    broken.write_text(f"METADATA = {metadata!r}\nimport no_such_module  # cannot load\n", encoding="utf-8")
    run = gate("--assembly", str(make_assembly("clean")), "--policies", str(policies))
    assert_harness_failure(run, "checkov could not load a custom check", "ckv_stg_rds_99_broken")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            ["--today", "2026-13-01"],
            "argument --today: '2026-13-01' is not a date YYYY-MM-DD (valid example: 2026-11-30)",
        ),
        (["--shard", "3/2"], "argument --shard: '3/2' is not I/N with 1 <= I <= N (valid example: 2/4)"),
    ],
)
def test_bad_options_are_one_line_with_a_valid_example(arguments: list[str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "--no-tests", *arguments],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_a_base_assembly_that_is_not_one_fails_before_the_head_is_judged(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "--no-tests", "--reports", str(tmp_path / "reports"),
         "--base-assembly", str(tmp_path / "missing"), "--assembly", str(tmp_path / "head")],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"--base-assembly {tmp_path / 'missing'} is not a cloud assembly: no manifest.json" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_template_cdk_nag_cannot_synthesize_is_not_evaluated_and_the_others_are_judged(
    gate: GateRunner, make_assembly: Callable[..., Path], clean_template: dict[str, Any]
) -> None:
    """CfnInclude checks property types only at synthesis: one template with a structure of the wrong
    type must not stop the packs for the others (nor end the run as a harness failure)."""
    broken = json.loads(json.dumps(clean_template))
    database = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")
    database["Properties"]["MasterUserSecret"] = "not-an-object"
    run = gate("--assembly", str(make_assembly("good")), "--assembly", str(make_assembly("broken", broken)))
    assert run.returncode == 1, run.stderr
    by_assembly = {a["label"]: a["exit_code"] for a in run.report["assemblies"]}
    assert by_assembly == {"good": 0, "broken": 1}
    unloadable = [f for f in run.report["findings"] if f["rule_id"] == "cdk-nag:template"]
    assert [f["assembly"] for f in unloadable] == ["broken"]
    assert "CfnDBInstanceProps" in unloadable[0]["message"]
    judged = [f for f in run.report["findings"] if f["source"] == "cdk-nag" and f["assembly"] == "good"]
    assert judged, "the loadable template was judged by the packs"
