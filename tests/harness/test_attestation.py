"""The signed statement and ``python -m harness verify``: an untouched signed run verifies; an attacker who
rewrites a template, a verdict or another file together with every hash does not; neither do reports
swapped in from another run. And no earlier run's verdict survives a run that errors.

Two real signed gate runs (``--assembly``, a full synthesized assembly with assets, metadata and the
construct source map): the untouched stack (PASS) and the ``public`` mutation (FAIL). Each attack works
on a copy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.audit.attest import PREDICATE_TYPE
from harness.verdict.mutations import MUTATIONS
from tests.harness.attested import (
    ENVELOPE,
    SignedRun,
    keypair,
    read_statement,
    rehash_everything,
    signed_gate_run,
    verify,
    write_statement,
)
from tests.harness.conftest import ROOT, TEMPLATE, checkov_bin, run_gate

PUBLIC = next(m for m in MUTATIONS if m.name == "public")


@dataclass(frozen=True)
class Runs:
    clean: SignedRun  # PASS
    public: SignedRun  # FAIL: the database publicly accessible


@pytest.fixture(scope="module")
def runs(sourced_assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("attested")
    private, public = keypair(base / "keys")
    clean = base / "clean" / "cdk.out"
    shutil.copytree(sourced_assembly, clean)
    mutant = base / "public" / "cdk.out"
    shutil.copytree(sourced_assembly, mutant)
    body = PUBLIC.mutate(json.loads((mutant / TEMPLATE).read_text(encoding="utf-8")))
    (mutant / TEMPLATE).write_text(json.dumps(body, indent=1), encoding="utf-8")
    return Runs(
        clean=signed_gate_run(clean, base / "clean" / "reports", key=private, public=public),
        public=signed_gate_run(mutant, base / "public" / "reports", key=private, public=public),
    )


def _problems(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    return done.stderr


# ------------------------------------------------------------------------------------ the statement


def test_the_runs_are_signed_statements_of_their_verdicts(runs: Runs) -> None:
    assert runs.clean.run.returncode == 0, runs.clean.run.stderr
    assert runs.public.run.returncode == 1, runs.public.run.stderr
    envelope, statement = read_statement(runs.clean.reports)
    assert envelope["payloadType"] == "application/vnd.in-toto+json" and len(envelope["signatures"]) == 1
    assert statement["_type"] == "https://in-toto.io/Statement/v1" and statement["predicateType"] == PREDICATE_TYPE
    names = {s["name"] for s in statement["subject"]}
    for needed in (
        "reports/compliance.json", "reports/compliance.md", "reports/compliance.sarif", "reports/evidence/evidence.json",
        "reports/oscal/assessment-results.json", "reports/oscal/plan-of-action-and-milestones.json",
        f"assembly/cdk.out/{TEMPLATE}", "assembly/cdk.out/construct-sources.json", "assembly/cdk.out/manifest.json",
        "rules/policies/waivers.yaml", "rules/infra/spec.toml", "locks/requirements/test.txt",
    ):  # fmt: skip
        assert needed in names, needed
    assert any(n.startswith("assembly/cdk.out/") and n.endswith(".metadata.json") for n in names)
    assert any(n.startswith("assembly/cdk.out/asset.") for n in names), "the custom resource's code"
    predicate = statement["predicate"]
    assert (predicate["verdict"], predicate["exitCode"]) == ("PASS", 0)
    assert predicate["counts"] == runs.clean.run.report["counts"]
    assert predicate["rules"]["digest"].startswith("sha256:") and predicate["rules"]["files"] > 100
    assert predicate["source"]["commit"] and isinstance(predicate["source"]["clean"], bool)
    assert predicate["run"]["timeSource"] == "clock" and predicate["run"]["startedOn"] <= predicate["run"]["finishedOn"]
    assert {"checkov", "cfn-lint", "cdk-nag", "harness", "python"} <= set(predicate["tools"])


def test_verify_passes_the_untouched_signed_run(runs: Runs) -> None:
    done = verify(runs.clean.reports, runs.clean.assembly, key=runs.clean.public)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("verified: signed statement of a PASS run (exit 0)")
    assert "every subject matches" in done.stdout and "every report agrees" in done.stdout


def test_an_intact_fail_run_verifies_only_as_what_it_is(runs: Runs) -> None:
    assert "verdict: the run's verdict is FAIL (exit 1), not PASS" in _problems(
        verify(runs.public.reports, runs.public.assembly, key=runs.public.public)
    )
    done = verify(runs.public.reports, runs.public.assembly, key=runs.public.public, flags=("--any-verdict",))
    assert done.returncode == 0 and "statement of a FAIL run" in done.stdout, done.stderr


def test_unsigned_is_accepted_only_when_asked_and_says_so(runs: Runs, tmp_path: Path) -> None:
    assert "signature not checked: give the signer's public key" in _problems(
        verify(runs.clean.reports, runs.clean.assembly)
    )
    done = verify(runs.clean.reports, runs.clean.assembly, flags=("--allow-unsigned",))
    assert done.returncode == 0 and "UNSIGNED" in done.stdout and "not authenticity" in done.stdout
    unsigned = runs.clean.copy(tmp_path)
    envelope, statement = read_statement(unsigned.reports)
    write_statement(unsigned.reports, statement, envelope={**envelope, "signatures": []})
    assert "the statement is unsigned" in _problems(verify(unsigned.reports, unsigned.assembly, key=unsigned.public))


# ------------------------------------------------------------------------------------ the attacks


def test_a_template_rewritten_with_its_hashes_fails(runs: Runs, tmp_path: Path) -> None:
    target = runs.clean.copy(tmp_path)
    template = target.assembly / TEMPLATE
    template.write_text(template.read_text(encoding="utf-8").replace('"5432"', '"6543"'), encoding="utf-8")
    assert f"differs: assembly/cdk.out/{TEMPLATE}" in _problems(
        verify(target.reports, target.assembly, key=target.public)
    )
    rehash_everything(target)
    stderr = _problems(verify(target.reports, target.assembly, key=target.public))
    assert "signature: no signature of key" in stderr and "differs" not in stderr
    # Re-signed with the attacker's own key: still not the gate's.
    attacker, _ = keypair(tmp_path / "attacker", "attacker")
    from harness.audit.attest import load_signer  # noqa: PLC0415

    rehash_everything(target, signer=load_signer(attacker))
    assert "signature: no signature of key" in _problems(verify(target.reports, target.assembly, key=target.public))
    # Without a key nothing tells them apart: that is what --allow-unsigned says.
    done = verify(target.reports, target.assembly, flags=("--allow-unsigned",))
    assert done.returncode == 0 and "UNSIGNED" in done.stdout


def test_a_verdict_rewritten_with_its_hashes_fails(runs: Runs, tmp_path: Path) -> None:
    target = runs.public.copy(tmp_path)
    report_path = target.reports / "compliance.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report.update(verdict="PASS", exit_code=0)
    report_path.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    markdown = target.reports / "compliance.md"
    markdown.write_text(
        markdown.read_text(encoding="utf-8").replace("❌ Compliance gate: FAIL", "✅ Compliance gate: PASS"),
        encoding="utf-8",
    )
    stderr = _problems(verify(target.reports, target.assembly, key=target.public, flags=("--any-verdict",)))
    assert "differs: reports/compliance.json" in stderr and "disagrees: compliance.json says 'PASS'" in stderr

    def passed(predicate: dict[str, Any]) -> None:
        predicate.update(verdict="PASS", exitCode=0)

    rehash_everything(target, predicate=passed)
    stderr = _problems(verify(target.reports, target.assembly, key=target.public))
    assert "signature: no signature of key" in stderr
    # The attacker forgot the other reports that state the verdict: they disagree even unsigned.
    stderr = _problems(verify(target.reports, target.assembly, flags=("--allow-unsigned",)))
    assert "disagrees: evidence/evidence.json says 'FAIL', the statement 'PASS'" in stderr
    assert "disagrees: oscal/assessment-results.json says 'FAIL'" in stderr


@pytest.mark.parametrize("name", ["construct-sources.json", "StagingDatabase.metadata.json", "tree.json"])
def test_a_file_no_earlier_evidence_hashed_is_bound(runs: Runs, tmp_path: Path, name: str) -> None:
    """construct-sources.json moves every alert; the metadata and tree are read too: all are subjects now."""
    target = runs.clean.copy(tmp_path)
    path = target.assembly / name
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(data, indent=3), encoding="utf-8")  # same content, other bytes: still an edit
    assert f"differs: assembly/cdk.out/{name}" in _problems(verify(target.reports, target.assembly, key=target.public))


def test_a_file_added_to_the_assembly_or_the_reports_is_named(runs: Runs, tmp_path: Path) -> None:
    target = runs.clean.copy(tmp_path)
    (target.assembly / "extra.template.json").write_text("{}", encoding="utf-8")
    (target.reports / "oscal" / "extra.txt").write_text("added", encoding="utf-8")
    stderr = _problems(verify(target.reports, target.assembly, key=target.public))
    assert "not in the statement: assembly/cdk.out/extra.template.json" in stderr
    assert "not in the statement: reports/oscal/extra.txt" in stderr


def test_reports_from_another_run_fail(runs: Runs, tmp_path: Path) -> None:
    target = runs.clean.copy(tmp_path)
    for name in ("compliance.json", "compliance.sarif", "oscal/assessment-results.json"):
        shutil.copyfile(runs.public.reports / name, target.reports / name)
    stderr = _problems(verify(target.reports, target.assembly, key=target.public))
    assert "differs: reports/compliance.json" in stderr and "differs: reports/compliance.sarif" in stderr
    assert "disagrees: compliance.json says 'FAIL', the statement 'PASS'" in stderr
    # The whole other run, statement included, is that run's: its assembly is not this one.
    other = runs.public.copy(tmp_path / "other")
    assert f"differs: assembly/cdk.out/{TEMPLATE}" in _problems(
        verify(other.reports, runs.clean.assembly, key=target.public, flags=("--any-verdict",))
    )


def test_rules_that_differ_from_the_checkout_are_named(runs: Runs, tmp_path: Path) -> None:
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "policies", root / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "requirements", root / "requirements")
    (root / "infra").mkdir()
    shutil.copyfile(ROOT / "infra" / "spec.toml", root / "infra" / "spec.toml")
    shutil.copyfile(
        ROOT / "cdk.json", root / "cdk.json"
    )  # a rules file too (harness.reading.rules: the spec-fixed context)
    shutil.copyfile(ROOT / "package-lock.json", root / "package-lock.json")
    assert (
        verify(runs.clean.reports, runs.clean.assembly, key=runs.clean.public, flags=("--root", str(root))).returncode
        == 0
    )
    with (root / "policies" / "waivers.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n# widened later\n")
    stderr = _problems(
        verify(runs.clean.reports, runs.clean.assembly, key=runs.clean.public, flags=("--root", str(root)))
    )
    assert "differs: rules/policies/waivers.yaml" in stderr and "rules digest: the statement records" in stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--reports", "missing-dir", "--assembly", "cdk.out"], "is not a directory"),
        (["--assembly", "."], "verify error: --assembly . is not a cloud assembly"),
        (["--key", "pyproject.toml", "--assembly", "."], "is not a PEM public key"),
        ([], "usage:"),
    ],
    ids=["no-reports", "not-an-assembly", "not-a-key", "no-arguments"],
)
def test_verify_refuses_unusable_input_in_one_line(runs: Runs, args: list[str], expected: str) -> None:
    argv = [sys.executable, "-m", "harness", "verify"]
    if args and "--reports" not in args:
        argv += ["--reports", str(runs.clean.reports)]
    done = subprocess.run([*argv, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 2 and expected in done.stderr and "Traceback" not in done.stderr, done.stderr
    if args:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# ------------------------------------------------------------------------------------ never a stale verdict


def _earlier_pass(runs: Runs, directory: Path) -> Path:
    reports = directory / "reports"
    shutil.copytree(runs.clean.reports, reports)
    assert verify(reports, runs.clean.assembly, key=runs.clean.public).returncode == 0
    return reports


def _no_pass_left(reports: Path) -> None:
    for path in reports.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "Compliance gate: PASS" not in text and '"verdict": "PASS"' not in text, path
            assert "Verdict of this run: **PASS**" not in text, path


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--checkov", "/nonexistent/checkov"], "checkov is missing"),
        (["--today", "not-a-date"], "'not-a-date' is not a date"),
        (["--sign-key", "pyproject.toml"], "is not a usable PEM private key"),
    ],
    ids=["harness-error", "bad-argument", "bad-key"],
)
def test_an_errored_run_after_a_pass_leaves_no_pass_and_verify_fails(
    runs: Runs, tmp_path: Path, args: list[str], error: str
) -> None:
    reports = _earlier_pass(runs, tmp_path)
    run = run_gate(["--assembly", str(runs.clean.assembly), *args], reports=reports)
    assert run.returncode == 2 and error in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run.report["verdict"] == "ERROR" and error in run.report["error"]
    _no_pass_left(reports)
    done = verify(reports, runs.clean.assembly, key=runs.clean.public)
    assert done.returncode == 1, done.stdout


_CRASH_WHILE_WRITING = """
import sys
import harness.audit.oscal
def crash(assessment):
    raise RuntimeError("disk on fire")
harness.audit.oscal.render_documents = crash
from harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_crash_while_writing_leaves_this_runs_error_alone(runs: Runs, tmp_path: Path) -> None:
    reports = _earlier_pass(runs, tmp_path)
    run = run_gate(["--assembly", str(runs.clean.assembly)], reports=reports, python_code=_CRASH_WHILE_WRITING)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert "crashed: RuntimeError: disk on fire" in run.report["error"]
    assert not (reports / "oscal").exists() and not (reports / "evidence").exists()
    _no_pass_left(reports)
    assert "no statement at" in _problems(verify(reports, runs.clean.assembly, key=runs.clean.public))


def test_a_run_killed_by_sigterm_leaves_no_pass(runs: Runs, tmp_path: Path) -> None:
    """CI cancelling a job sends SIGTERM: the run stops its tools and says it was interrupted."""
    reports = _earlier_pass(runs, tmp_path)
    argv = [sys.executable, "-m", "harness", "--assembly", str(runs.clean.assembly), "--reports", str(reports),
            "--checkov", checkov_bin()]  # fmt: skip
    process = subprocess.Popen(argv, cwd=ROOT, stderr=subprocess.PIPE, text=True, env={**os.environ})
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    for line in process.stderr:  # progress lines: stop it while the tools run
        if "checkov + cfn-lint" in line or time.monotonic() > deadline:
            break
    process.send_signal(signal.SIGTERM)
    remaining = process.stderr.read()
    assert process.wait(timeout=120) == 2, remaining
    assert "interrupted (SIGTERM) before the verdict" in remaining and "Traceback" not in remaining
    report = json.loads((reports / "compliance.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "ERROR" and "interrupted (SIGTERM)" in report["error"]
    _no_pass_left(reports)
    assert not (reports / ENVELOPE).exists()
    assert "no statement at" in _problems(verify(reports, runs.clean.assembly, key=runs.clean.public))


# ------------------------------------------------------------------------------------ CI


@pytest.mark.parametrize(("workflow", "job"), [("compliance.yml", "gate"), ("compliance-matrix.yml", "merge")])
def test_ci_signs_the_same_statement_with_artifact_attestations(workflow: str, job: str) -> None:
    """actions/attest (Sigstore) gets the subjects and predicate the gate wrote, with the permissions it needs."""
    import yaml  # noqa: PLC0415

    from harness.audit.attest import ATTESTATION_DIR, PREDICATE_FILE, SUBJECTS_FILE  # noqa: PLC0415

    spec = yaml.safe_load((ROOT / ".github" / "workflows" / workflow).read_text(encoding="utf-8"))["jobs"][job]
    assert spec["permissions"]["id-token"] == "write" and spec["permissions"]["attestations"] == "write"
    steps = [s for s in spec["steps"] if s.get("uses", "").startswith("actions/attest@")]
    assert len(steps) == 1, "one attestation of the run"
    attest = steps[0]
    assert attest["with"] == {
        "subject-checksums": f"reports/{ATTESTATION_DIR}/{SUBJECTS_FILE}",
        "predicate-type": PREDICATE_TYPE,
        "predicate-path": f"reports/{ATTESTATION_DIR}/{PREDICATE_FILE}",
    }
    names = [s.get("name", "") for s in spec["steps"]]
    keep = next(i for i, s in enumerate(spec["steps"]) if "upload-artifact" in s.get("uses", ""))
    assert names.index(attest["name"]) < keep, "attested before the reports are kept"
