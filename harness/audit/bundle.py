"""The auditor's bundle of one gate run: ``controls.md``, ``evidence/`` and ``oscal/`` under ``reports/``.

Written by the CLI before the other reports (the statement over all of them, ``harness.audit.attest``,
moves into place last), from the same findings, the control mappings and the run's inputs. Each
file is rendered first and moved into place whole; a previous run's files are removed when a run
starts (``harness.audit.outputs``), so a killed run never leaves another run's evidence beside its reports.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.audit.evidence import (
    EVIDENCE_DIR,
    EVIDENCE_FILE,
    SUMS_FILE,
    RunTimes,
    build_evidence,
    render_evidence,
    render_sums,
)
from harness.catalog import ControlMapping, Framework, Policy
from harness.model import Finding
from harness.reading.rules import rules_digest
from harness.verdict.controls import ControlResult, render_controls_markdown

CONTROLS_FILE = "controls.md"
STACK = "StagingDatabase"


@dataclass(frozen=True, kw_only=True)
class BundleInput:
    root: Path
    policies_dir: Path
    verdict: Mapping[str, Any]  # verdict, exit_code, mode, error, failed rules per assembly
    findings: Sequence[Finding]  # with controls (harness.verdict.controls.annotate)
    controls: Sequence[ControlResult]
    assemblies: Sequence[Mapping[str, Any]]  # label, abs_path
    tools: Sequence[Mapping[str, Any]]
    commands: Sequence[str]
    versions: Mapping[str, str]
    times: RunTimes
    checkout: Mapping[str, Any]  # harness.audit.evidence.checkout_state
    frameworks: Sequence[Framework] = ()
    mappings: Sequence[ControlMapping] = ()
    policies: Sequence[Policy] = ()
    waivers: Sequence[Mapping[str, Any]] = ()  # WaiverUse records (the POA&M's items)


@dataclass(frozen=True, kw_only=True)
class Bundle:
    files: dict[str, bytes]  # path under the reports directory -> content
    evidence: dict[str, Any]  # evidence.json as a document (the statement takes the assembly hashes from it)


def render_bundle(data: BundleInput, *, reports_dir: Path) -> Bundle:
    """Every file of the bundle, rendered (controls and OSCAL only when policies/ was loaded)."""
    evidence = build_evidence(
        root=data.root,
        policies_dir=data.policies_dir,
        assemblies=data.assemblies,
        tools=data.tools,
        commands=data.commands,
        verdict=data.verdict,
        times=data.times,
        versions=data.versions,
        checkout=data.checkout,
    )
    evidence_text = render_evidence(evidence).encode("utf-8")
    files = {
        f"{EVIDENCE_DIR}/{EVIDENCE_FILE}": evidence_text,
        f"{EVIDENCE_DIR}/{SUMS_FILE}": render_sums(evidence, root=data.root).encode("utf-8"),
    }
    if not data.frameworks:
        return Bundle(files=files, evidence=evidence)
    files[CONTROLS_FILE] = render_controls_markdown(
        data.controls, data.frameworks, verdict=str(data.verdict["verdict"])
    ).encode("utf-8")
    from harness.audit import oscal  # noqa: PLC0415  (trestle's models, imported in the background since start)
    from harness.audit.oscal.common import load_parties  # noqa: PLC0415
    from harness.audit.oscal.run import Assessment  # noqa: PLC0415

    parties = load_parties(
        data.policies_dir,
        gate_version=str(data.versions.get("harness", "")),
        commit=str(data.checkout.get("commit", "")),
        owners=[str(w["owner"]) for w in data.waivers if not w.get("expired")],
    )
    assessment = Assessment(
        stack=STACK,
        times=data.times,
        parties=parties,
        frameworks=data.frameworks,
        mappings=data.mappings,
        policies=data.policies,
        controls=data.controls,
        findings=data.findings,
        waivers=data.waivers,
        evidence=evidence,
        evidence_sha256=hashlib.sha256(evidence_text).hexdigest(),
        oscal_dir=reports_dir / oscal.OSCAL_DIR,
        root=data.root,
        rules_digest=rules_digest(data.root),
    )
    for name, content in oscal.render_documents(assessment).items():
        files[f"{oscal.OSCAL_DIR}/{name}"] = content
    return Bundle(files=files, evidence=evidence)


def write_bundle(data: BundleInput, directory: Path) -> Bundle:
    """Render the bundle and move each file into ``directory``; the rendered bundle (files and evidence)."""
    bundle = render_bundle(data, reports_dir=directory)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=directory))
    try:
        for name, content in sorted(bundle.files.items()):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, directory / name)
        return bundle
    finally:
        shutil.rmtree(staging, ignore_errors=True)
