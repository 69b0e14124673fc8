"""What ``nox -s compliance -- ARGS`` hands to the gate: every option verbatim, checked first where nox needs it.

The gate (``python -m harness``, harness/cli.py) owns its options and judges them (exit 2 with one
line); the session only adds the checkov of its own venv (unless ``--checkov`` is given) and needs
to know the reports directory, whose ``compliance.json`` holds the verdict nox exits with. Standard
library only, so the tests check the translation without nox (tests/harness/test_session_arguments.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class SessionArgumentError(ValueError):
    """An argument the session cannot hand on: one line, exit 2 (as the gate's own refusals)."""


@dataclass(frozen=True, kw_only=True)
class GateCommand:
    argv: list[str]  # after ``python -m harness``
    reports: Path  # where the verdict (compliance.json) is read from


class _Lenient(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SessionArgumentError(f"nox -s compliance: {message}")


def _context_pair(value: str) -> str:
    key, equals, _ = value.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(
            f"context override {value!r} is not KEY=VALUE (valid example: -c environmentSuffix=pr42)"
        )
    return value


def gate_command(posargs: Sequence[str], *, checkov: str, default_reports: Path) -> GateCommand:
    """The gate's arguments for the session's ``posargs`` (passed on unchanged, in order)."""
    lenient = _Lenient(prog="nox -s compliance --", add_help=False)
    lenient.add_argument("--reports", type=Path, default=default_reports)
    lenient.add_argument("--checkov", default=None)
    lenient.add_argument("-c", "--context", action="append", default=[], type=_context_pair)
    known, _ = lenient.parse_known_args(list(posargs))
    reports: Path = known.reports
    blocker = next((p for p in (reports, *reports.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise SessionArgumentError(
            f"nox -s compliance: --reports {reports}: {blocker} is a file, not a directory "
            "(valid example: --reports reports)"
        )
    argv = [] if known.checkov else ["--checkov", checkov]
    if "--reports" not in posargs and not any(a.startswith("--reports=") for a in posargs):
        argv += ["--reports", str(reports)]
    return GateCommand(argv=[*argv, *posargs], reports=reports)
