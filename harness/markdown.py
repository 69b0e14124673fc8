"""Markdown helpers shared by every generated document (reports, catalog, traceability)."""

from __future__ import annotations

import re
from typing import Any


def cell(text: str | None) -> str:
    """Text safe inside a Markdown table cell ("-" for empty)."""
    return (text or "").replace("|", "\\|").replace("\n", " ").strip() or "-"


def natural_key(text: str) -> list[Any]:
    """Sort key that orders CKV_STG_RDS_2 before CKV_STG_RDS_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def source_link(file: str, line: int, base: str) -> str:
    """``[infra/x.py:12](<base>infra/x.py#L12)``: a link to a line of the repository (``base`` ends with ``/``)."""
    return f"[{file}:{line}]({base}{file}#L{line})"
