"""The parts of a report input the gate and ``python -m harness merge`` build alike.

What the reports take from policies/ (:func:`catalog_fields`), the ERROR input of a run that
could not judge (:func:`error_input`), and :func:`plain`, which turns catalog and run records
into the JSON values the reports carry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

from harness.model import ExitCode
from harness.paths import ROOT, relative_to_root
from harness.reporting.reports import ReportInput


def plain(obj: Any) -> Any:  # noqa: PLR0911
    """A dataclass, mapping, sequence, path, date or enum as plain JSON values (paths relative to the root)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, Path):
        return relative_to_root(obj)
    if isinstance(obj, (dt.date,)):
        return obj.isoformat()
    if hasattr(obj, "value") and isinstance(obj.value, (str, int)):
        return obj.value
    return obj


def catalog_fields(catalog: Any) -> dict[str, Any]:
    """What the reports take from policies/ (the gate and ``python -m harness merge`` alike)."""
    from harness.catalog import render_catalog_markdown  # noqa: PLC0415
    from harness.catalog.registry_summary import summary as registry_summary  # noqa: PLC0415
    from harness.verdict.mutations import MUTATIONS  # noqa: PLC0415

    return {
        "requirements": [plain(r) for r in catalog.requirements],
        "policies": [{**plain(p), "test_ids": list(p.test_ids)} for p in catalog.policies],
        "mappings": [plain(m) for m in catalog.mappings],
        "mutations": [{"name": m.name, "policies": sorted(m.expected)} for m in MUTATIONS],
        "catalog_markdown": render_catalog_markdown(
            requirements=catalog.requirements,
            policies=catalog.policies,
            mappings=catalog.mappings,
            waivers=catalog.waivers,
            registry=catalog.registry,
        ),
        "registry": registry_summary(catalog.registry) if catalog.registry is not None else [],
    }


def error_input(*, mode: str, error: str) -> ReportInput:
    """The report input of a run that could not judge: ERROR, exit 2, nothing else."""
    return ReportInput(
        exit_code=ExitCode.HARNESS_FAILURE,
        mode=mode,
        error=error,
        findings=[],
        assemblies=[],
        waivers=[],
        tools=[],
        requirements=[],
        policies=[],
        mappings=[],
        mutations=[],
        root=ROOT,
    )
