"""Every file a gate run (or ``python -m harness merge``) owns in its reports directory, and clearing them.

"Never a stale verdict": when a run starts, everything an earlier run may have left is removed
first (by name at the top level, whole directories for ``evidence/``, ``oscal/`` and
``attestation/``, and the staging folders of a run that was killed while writing), so whatever
ends this run, the directory holds this run's outcome or nothing. Files of other names beside
the reports (``--reports .`` is allowed) are never touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Top-level files, by name (harness.reporting.reports.REPORT_FILES, the pytest tiers' JUnit, the controls roll-up).
TOP_FILES = (
    "compliance.md",
    "compliance.json",
    "compliance.junit.xml",
    "compliance.sarif",
    "policy-catalog.md",
    "traceability.md",
    "controls.md",
    "tests.junit.xml",
)
# Directories only the gate writes into: removed whole (a file an older gate version wrote there too).
OWNED_DIRS = ("evidence", "oscal", "attestation")
# Staging folders (harness.reporting.report_files.write_reports, harness.audit.bundle.write_bundle, harness.audit.attest) of a killed run.
STAGING_PREFIXES = (".reports-", ".bundle-", ".attest-")


def clear_outputs(directory: Path) -> None:
    """Remove every file an earlier run may have left in ``directory`` (nothing else)."""
    if not directory.is_dir():
        return
    for name in TOP_FILES:
        (directory / name).unlink(missing_ok=True)
    for name in OWNED_DIRS:
        path = directory / name
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
    for entry in directory.iterdir():
        if entry.name.startswith(STAGING_PREFIXES) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def owned_files(directory: Path) -> list[Path]:
    """Every gate-owned file present in ``directory`` (what the statement binds and verify accounts for)."""
    found = [directory / name for name in TOP_FILES if (directory / name).is_file()]
    for name in OWNED_DIRS:
        root = directory / name
        if root.is_dir() and not root.is_symlink():
            found += [p for p in root.rglob("*") if p.is_file()]
    return sorted(found)
