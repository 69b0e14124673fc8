"""Writing every report: rendered into a staging folder beside ``reports/``, then moved into place."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from harness.reporting.report_json import render_json
from harness.reporting.report_junit import render_junit
from harness.reporting.report_markdown import render_markdown
from harness.reporting.report_traceability import render_catalog, render_traceability
from harness.reporting.reports import REPORT_FILES, ReportInput
from harness.reporting.sarif import render_sarif


def write_reports(data: ReportInput, directory: Path) -> dict[str, Path]:
    """Render every report into a temporary folder beside ``directory``, then move each into place."""
    rendered = {
        "markdown": render_markdown(data),
        "json": render_json(data),
        "junit": render_junit(data),
        "sarif": render_sarif(data),
        "catalog": render_catalog(data),
        "traceability": render_traceability(data),
    }
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".reports-", dir=directory))
    try:
        for kind, text in rendered.items():
            (staging / REPORT_FILES[kind]).write_text(text, encoding="utf-8")
        paths = {}
        # compliance.json (the verdict machines read) moves last: it never precedes the others.
        for kind in sorted(rendered, key=lambda k: k == "json"):
            path = directory / REPORT_FILES[kind]
            os.replace(staging / REPORT_FILES[kind], path)
            paths[kind] = path
        return paths
    finally:
        shutil.rmtree(staging, ignore_errors=True)
