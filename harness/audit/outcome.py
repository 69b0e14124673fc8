"""Publishing a run's outcome into its reports directory: the auditor's bundle, the reports, the statement.

Order: ``controls.md``, ``evidence/`` and ``oscal/`` (harness.audit.bundle), then the reports
(``compliance.json`` last of them, harness.reporting.reports), then the in-toto statement over all of them
(harness.audit.attest), so a statement exists only for a complete set. If any step fails, everything
this run wrote is removed again and an ERROR report (exit 2) takes its place: the directory holds
this run's outcome or nothing, never a mix and never an earlier run's files (harness.audit.outputs).
The gate and ``python -m harness merge`` publish through :func:`publish`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.audit.outputs import clear_outputs
from harness.errors import HarnessError
from harness.reporting.report_files import write_reports
from harness.reporting.report_json import render_json
from harness.reporting.reports import REPORT_FILES, ReportInput, counts_record

if TYPE_CHECKING:
    from securesystemslib.signer import Signer

    from harness.audit.bundle import Bundle, BundleInput
    from harness.audit.evidence import RunTimes


@dataclass(frozen=True, kw_only=True)
class Published:
    data: ReportInput  # what the reports say (an ERROR input when publishing failed)
    subjects: int  # files the statement binds (0 when none was written)
    signed: bool


def publish(
    data: ReportInput,
    *,
    reports_dir: Path,
    root: Path,
    bundle_input: Callable[[ReportInput], tuple[ReportInput, BundleInput]],
    signer: Signer | None,
    error_input: Callable[[str], ReportInput],
) -> Published:
    """Bundle, reports, statement; on failure, this run's ERROR report alone (see the module docstring)."""
    from harness.audit.attest import write_attestation  # noqa: PLC0415
    from harness.audit.bundle import write_bundle  # noqa: PLC0415

    bundle: Bundle | None = None
    try:
        try:
            data, made = bundle_input(data)
            bundle = write_bundle(made, reports_dir)
        except HarnessError as error:  # bad input to the bundle (e.g. policies/assessment.yaml): the run is an ERROR
            data = dataclasses.replace(error_input(str(error)), shard=data.shard)
            clear_outputs(reports_dir)
        write_reports(data, reports_dir)
        evidence = bundle.evidence if bundle is not None else {"verdict": evidence_verdict(data)}
        paths = write_attestation(
            reports_dir=reports_dir, evidence=evidence, counts=counts_record(data.findings), root=root, signer=signer
        )
        return Published(data=data, subjects=_lines(paths), signed=signer is not None)
    except Exception as error:  # a crash while writing is a harness failure too, never a partial outcome
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        if not isinstance(error, (HarnessError, OSError)):
            reason = f"crashed: {type(error).__name__}: {error}"
        failed = dataclasses.replace(
            error_input(f"cannot write this run's outcome to {reports_dir}: {reason}"), shard=data.shard
        )
        _write_error_reports(failed, reports_dir)
        return Published(data=failed, subjects=0, signed=False)


def _write_error_reports(failed: ReportInput, reports_dir: Path) -> None:
    """This run's ERROR reports; when a renderer itself is broken, compliance.json alone; else nothing.

    Never raises: whatever the renderers do, the caller exits 2 with one line (the exit-code contract).
    """
    try:
        clear_outputs(reports_dir)
        write_reports(failed, reports_dir)
    except Exception:  # a renderer that crashes on the ERROR report too, or a directory that cannot be written
        with contextlib.suppress(Exception):
            clear_outputs(reports_dir)  # nothing, rather than a part of this run
            (reports_dir / REPORT_FILES["json"]).write_text(render_json(failed), encoding="utf-8")


def _lines(paths: dict[str, Path]) -> int:
    from harness.audit.attest import SUBJECTS_FILE  # noqa: PLC0415

    return len(paths[SUBJECTS_FILE].read_text(encoding="utf-8").splitlines())


def refuse(reports_dir: Path | None, *, mode: str, error: str, error_input: Callable[..., ReportInput]) -> None:
    """A run refused before it started (bad arguments, a bad key): its ERROR report replaces an earlier run's files."""
    if reports_dir is None or not reports_dir.is_dir():
        return
    _write_error_reports(error_input(mode=mode, error=error), reports_dir)


def evidence_verdict(data: ReportInput) -> dict[str, Any]:
    """The verdict as evidence.json and the statement record it."""
    verdict: dict[str, Any] = {
        "verdict": data.verdict,
        "exit_code": int(data.exit_code),
        "mode": data.mode,
        "error": data.error,
        "assemblies": [
            {"label": a["label"], "exit_code": a["exit_code"], "failed_rules": a["failed_rules"]}
            for a in data.assemblies
        ],
    }
    if data.rules is not None:  # the rules that judged; with a base, its rules and any accepted change
        verdict["rules"] = dict(data.rules)
    if data.shard is not None:
        verdict["shard"] = dict(data.shard)
    if data.shards:
        verdict["shards"] = [dict(s) for s in data.shards]
    return verdict


def control_roll_up(data: ReportInput, catalog: Any) -> list[Any]:
    """One status per in-scope control (harness.verdict.controls.roll_up) from the report input; none without policies/."""
    from harness.verdict.controls import roll_up, tools_ran  # noqa: PLC0415

    if catalog is None or not catalog.frameworks:
        return []
    applicable = {str(c["policy"]): int(c["resources"]) for c in data.coverage}
    return roll_up(
        data.findings,
        list(catalog.mappings),
        list(catalog.frameworks),
        ran=tools_ran(data.tools),
        applicable=applicable,
    )


def tool_versions(root: Path) -> dict[str, str]:
    """The versions evidence.json records: Python, the judging packages and the harness's own code."""
    from harness.audit.evidence import harness_digest  # noqa: PLC0415

    versions = {"python": sys.version.split()[0], "harness": harness_digest(root)}
    for package in ("aws-cdk-lib", "cdk-nag", "cfn-lint", "compliance-trestle", "constructs", "jsii"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def sanitized(argv: Sequence[str], *, prefix: str, root: Path) -> str:
    from harness.audit.evidence import sanitize  # noqa: PLC0415

    return sanitize(" ".join([prefix, *argv]), root=root)


def gate_bundle_input(
    data: ReportInput,
    *,
    root: Path,
    argv: Sequence[str],
    catalog: Any,
    result: Any,
    given: Sequence[Path],
    times: RunTimes,
) -> tuple[ReportInput, BundleInput]:
    """What harness.audit.bundle renders for one gate run (``given``: its --assembly paths); ``data`` with the roll-up."""
    from harness.audit.bundle import BundleInput  # noqa: PLC0415
    from harness.audit.evidence import checkout_state  # noqa: PLC0415
    from harness.catalog import POLICIES_DIR  # noqa: PLC0415

    controls = control_roll_up(data, catalog)
    assemblies = list(data.assemblies) or [
        {"label": p.resolve().name, "abs_path": str(p.resolve())} for p in given if p.is_dir()
    ]
    made = BundleInput(
        root=root,
        policies_dir=catalog.policies_dir if catalog is not None else POLICIES_DIR,
        verdict=evidence_verdict(data),
        findings=data.findings,
        controls=controls,
        assemblies=assemblies,
        tools=data.tools,
        commands=[sanitized(argv, prefix="python -m harness", root=root), *(result.commands if result else [])],
        versions=tool_versions(root),
        times=times,
        checkout=checkout_state(root),
        frameworks=list(catalog.frameworks) if catalog is not None else [],
        mappings=list(catalog.mappings) if catalog is not None else [],
        policies=list(catalog.policies) if catalog is not None else [],
        waivers=data.waivers,
    )
    return dataclasses.replace(data, controls=[c.as_dict() for c in controls]), made
