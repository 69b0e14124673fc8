"""Where the project is: the root of the checkout and paths as the reports name them (ground module)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def link_base(source_url: str | None, reports_dir: Path) -> str:
    """How compliance.md links a source line: the given URL prefix, or the way back from reports/ to the root."""
    if source_url:
        return source_url if source_url.endswith("/") else source_url + "/"
    return Path(os.path.relpath(ROOT, reports_dir)).as_posix() + "/"


def relative_to_root(path: Path) -> str:
    """``path`` relative to the root as POSIX, or as given when it lies outside the checkout."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()
