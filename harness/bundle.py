"""The auditor's bundle of one gate run: ``controls.md``, ``evidence/`` and ``oscal/`` under ``reports/``.

Written by the CLI before the other reports (``compliance.json``, the verdict machines read, still
moves into place last), from the same findings, the control mappings and the run's inputs. Each
file is rendered first and moved into place whole; a previous run's bundle is removed when a run
starts, so a killed run never leaves another run's evidence beside its reports.
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

from harness.catalog import ControlMapping, Framework, Policy
from harness.controls import ControlResult, render_controls_markdown
from harness.evidence import (
    EVIDENCE_DIR,
    EVIDENCE_FILE,
    SUMS_FILE,
    Timestamp,
    build_evidence,
    render_evidence,
    render_sums,
)
from harness.model import Finding

CONTROLS_FILE = "controls.md"
BUNDLE_FILES = (
    CONTROLS_FILE,
    f"{EVIDENCE_DIR}/{EVIDENCE_FILE}",
    f"{EVIDENCE_DIR}/{SUMS_FILE}",
    "oscal/component-definition.json",
    "oscal/assessment-results.json",
)
STACK = "StagingDatabase"


@dataclass(frozen=True, kw_only=True)
class BundleInput:
    root: Path
    policies_dir: Path
    verdict: Mapping[str, Any]  # verdict, exit_code, mode, error, failed rules per assembly
    findings: Sequence[Finding]  # with controls (harness.controls.annotate)
    controls: Sequence[ControlResult]
    assemblies: Sequence[Mapping[str, Any]]  # label, abs_path
    tools: Sequence[Mapping[str, Any]]
    commands: Sequence[str]
    versions: Mapping[str, str]
    timestamp: Timestamp
    frameworks: Sequence[Framework] = ()
    mappings: Sequence[ControlMapping] = ()
    policies: Sequence[Policy] = ()


def clear_bundle(directory: Path) -> None:
    for name in BUNDLE_FILES:
        (directory / name).unlink(missing_ok=True)


def render_bundle(data: BundleInput) -> dict[str, bytes]:
    """Every file of the bundle, rendered (OSCAL only when policies/ was loaded)."""
    evidence = build_evidence(
        root=data.root,
        policies_dir=data.policies_dir,
        assemblies=data.assemblies,
        tools=data.tools,
        commands=data.commands,
        verdict=data.verdict,
        timestamp=data.timestamp,
        versions=data.versions,
    )
    evidence_text = render_evidence(evidence).encode("utf-8")
    files = {
        f"{EVIDENCE_DIR}/{EVIDENCE_FILE}": evidence_text,
        f"{EVIDENCE_DIR}/{SUMS_FILE}": render_sums(evidence, root=data.root).encode("utf-8"),
    }
    if not data.frameworks:
        return files
    files[CONTROLS_FILE] = render_controls_markdown(
        data.controls, data.frameworks, verdict=str(data.verdict["verdict"])
    ).encode("utf-8")
    from harness import oscal  # noqa: PLC0415  (trestle's models, imported in the background since start)

    policy_files = evidence["policies"]["files"]
    digest = hashlib.sha256("".join(f"{f['path']}\0{f['sha256']}\n" for f in policy_files).encode("utf-8")).hexdigest()
    component = oscal.serialize(
        oscal.component_definition(
            frameworks=data.frameworks,
            mappings=data.mappings,
            policies=data.policies,
            stack=STACK,
            policies_digest=digest,
            timestamp=data.timestamp,
            root=data.root,
        )
    )
    results = oscal.assessment_results(
        findings=data.findings,
        results=data.controls,
        frameworks=data.frameworks,
        evidence=evidence,
        evidence_sha256=hashlib.sha256(evidence_text).hexdigest(),
        component_sha256=hashlib.sha256(component).hexdigest(),
        stack=STACK,
        timestamp=data.timestamp,
    )
    files[f"oscal/{oscal.COMPONENT_DEFINITION}"] = component
    files[f"oscal/{oscal.ASSESSMENT_RESULTS}"] = oscal.serialize(results)
    return files


def write_bundle(data: BundleInput, directory: Path) -> dict[str, Path]:
    rendered = render_bundle(data)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bundle-", dir=directory))
    try:
        paths = {}
        for name, content in sorted(rendered.items()):
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(content)
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, directory / name)
            paths[name] = directory / name
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
