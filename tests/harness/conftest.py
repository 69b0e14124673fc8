"""Fixtures for the gate's own tests: one real synthesis, assemblies built from it, a CLI runner.

The gate is exercised the way CI runs it: ``python -m harness`` in a subprocess, with the
checkov from ``$CHECKOV_BIN`` (``nox -s tests`` sets it). Every test that gates a template
uses ``--assembly``, so the app is synthesized once per session, here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.stacks.staging_database import STACK_ID
from tests.harness.assemblies import copy_assets, seal_assembly

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = f"{STACK_ID}.template.json"
# The files of an assembly the gate reads besides the asset manifests and their assets (copied by
# tests.harness.assemblies.copy_assets); the validation report is not needed.
ASSEMBLY_FILES = ("manifest.json", "tree.json", TEMPLATE)
# Copied too when the source assembly has it (harness.reading.sources: which infra/ line made each construct).
OPTIONAL_FILES = ("construct-sources.json",)


def checkov_bin() -> str:
    path = os.environ.get("CHECKOV_BIN") or str(ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov")
    if not Path(path).is_file():
        pytest.fail(f"checkov not found at {path}: run through `nox -s tests` or set CHECKOV_BIN", pytrace=False)
    return path


@dataclass(frozen=True)
class GateRun:
    returncode: int
    stdout: str
    stderr: str
    reports: Path

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.reports / "compliance.json").read_text(encoding="utf-8"))
        return data

    def assembly(self, label: str) -> dict[str, Any]:
        return next(a for a in self.report["assemblies"] if a["label"] == label)


GateRunner = Callable[..., GateRun]


@pytest.fixture(scope="session")
def synthesized(default_assembly: Path) -> Path:
    """The real app as tests/conftest.py synthesizes it once per session (as `cdk synth` does: no cdk-nag packs)."""
    return default_assembly


@pytest.fixture(scope="session")
def sourced_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real app synthesized with the gate's construct-source recorder: the assembly carries
    construct-sources.json, as one the gate synthesizes does (harness.tools.synth)."""
    from harness.reading.sources import SourceRecorder  # noqa: PLC0415
    from infra.app_builder import synthesize  # noqa: PLC0415

    recorder = SourceRecorder(root=ROOT)
    with recorder.recording():
        # No CDK validation plugin (tests/conftest.py): it changes no template and costs ~2.5 s of CPU.
        assembly = synthesize(outdir=str(tmp_path_factory.mktemp("cdk.sourced.out")), builtin_validation=False)
    recorder.write(assembly)
    return assembly


@pytest.fixture(scope="session")
def clean_template(default_template: dict[str, Any]) -> dict[str, Any]:
    return default_template


def write_assembly(
    synthesized: Path,
    directory: Path,
    template: Mapping[str, Any] | None = None,
    *,
    extra_files: Mapping[str, Any] | None = None,
) -> Path:
    """A cloud assembly: the synthesized manifest, tree, asset manifest and assets plus ``template``
    (default: unchanged) and ``extra_files`` (name -> JSON, e.g. nested templates), sealed so that
    what deploys is what was written (tests.harness.assemblies.seal_assembly)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ASSEMBLY_FILES:
        shutil.copyfile(synthesized / name, directory / name)
    for name in OPTIONAL_FILES:
        if (synthesized / name).is_file():
            shutil.copyfile(synthesized / name, directory / name)
    copy_assets(synthesized, directory)
    if template is not None:
        (directory / TEMPLATE).write_text(json.dumps(template, indent=1), encoding="utf-8")
    for name, document in (extra_files or {}).items():
        (directory / name).write_text(json.dumps(document, indent=1), encoding="utf-8")
    return seal_assembly(directory)


@pytest.fixture
def make_assembly(synthesized: Path, tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, template: Mapping[str, Any] | None = None) -> Path:
        return write_assembly(synthesized, tmp_path / name, template)

    return make


# The day a test's gate run judges waiver expiry on: a fixed day, so no test starts failing the day a
# waiver of policies/waivers.yaml expires (nox -s compliance judges the real date; that is where it fails).
GATE_TODAY = "2026-12-07"


def run_gate(args: Sequence[str], *, reports: Path, env: Mapping[str, str] | None = None,
             prefix: Sequence[str] = (), python_code: str | None = None, timeout: float = 900) -> GateRun:  # fmt: skip
    """``python -m harness <args>`` (or ``python -c <python_code> <args>``) in a subprocess."""
    launcher = ["-c", python_code, *args] if python_code else ["-m", "harness", *args]
    argv = [*prefix, sys.executable, *launcher, "--reports", str(reports), "-q"]
    if list(args[:1]) not in (["verify"], ["merge"]) and not any(a.split("=")[0] == "--today" for a in args):
        argv += ["--today", GATE_TODAY]
    if not any(a == "--checkov" for a in args):
        argv += ["--checkov", checkov_bin()]
    completed = subprocess.run(
        argv, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout, check=False
    )
    assert_sarif_accepted(reports)
    return GateRun(completed.returncode, completed.stdout, completed.stderr, reports)


def assert_sarif_accepted(reports: Path) -> None:
    """The run's compliance.sarif (when it wrote one) is one upload-sarif accepts (tests/harness/sarif_schema.py)."""
    from tests.harness.sarif_schema import invalid_sarif_files  # noqa: PLC0415

    problems = invalid_sarif_files([reports / "compliance.sarif"]) if (reports / "compliance.sarif").is_file() else []
    if problems:
        pytest.fail(f"{len(problems)} SARIF schema problem(s):\n" + "\n".join(problems[:50]), pytrace=False)


@pytest.fixture
def gate(tmp_path: Path) -> GateRunner:
    def runner(*args: str, **kwargs: Any) -> GateRun:
        return run_gate(args, reports=tmp_path / "reports", **kwargs)

    return runner


@pytest.fixture(scope="session")
def mutation_run(
    synthesized: Path, clean_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> GateRun:
    """One gate run over the untouched stack and every mutant of harness.verdict.mutations (see test_mutations)."""
    from harness.verdict.mutations import MUTATIONS  # noqa: PLC0415

    base = tmp_path_factory.mktemp("mutants")
    paths = [write_assembly(synthesized, base / "untouched")]
    for mutation in MUTATIONS:
        paths.append(write_assembly(synthesized, base / mutation.name, mutation.mutate(clean_template)))
    args = [arg for path in paths for arg in ("--assembly", str(path))]
    return run_gate(args, reports=base / "reports")


@pytest.fixture(scope="session", autouse=True)
def oscal_documents_validate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every OSCAL document this session's gate runs and merges wrote validates against NIST's OSCAL 1.2.1
    JSON schemas (tests/harness/oscal_schema.py; test_oscal.py proves the check fails a broken one)."""
    yield
    from tests.harness.oscal_schema import invalid_documents  # noqa: PLC0415

    written = sorted(tmp_path_factory.getbasetemp().rglob("oscal/*.json"))
    problems = invalid_documents(written)
    if problems:
        pytest.fail(f"{len(problems)} OSCAL schema problem(s):\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def sarif_documents_validate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every SARIF this session's gate runs and merges wrote (run_gate checks its own at once; merges and
    in-process renders are swept here) validates against both SARIF schemas (test_sarif_schema.py)."""
    yield
    from tests.harness.sarif_schema import invalid_sarif_files  # noqa: PLC0415

    problems = invalid_sarif_files(tmp_path_factory.getbasetemp().rglob("*.sarif"))
    # test_sarif_schema.py writes broken ones on purpose, to prove the check fails them.
    problems = [p for p in problems if "broken.sarif" not in p and "missing.sarif" not in p]
    if problems:
        pytest.fail(f"{len(problems)} SARIF schema problem(s):\n" + "\n".join(problems[:50]), pytrace=False)
