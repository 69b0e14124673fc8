"""pytest plugin the gate loads into its tier processes, so its heartbeat can say how far they are.

The file named by ``GATE_TEST_PROGRESS`` gets the number of collected tests on its first line, then
one ``.`` per finished test: reading it is a stat and a short read, no parsing of pytest's output.
Copied next to the gate's scratch files and loaded with ``-p``, so it works for any checkout's tests.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the gate copies this file; pytest is imported only by the process that loads it
    import pytest

PROGRESS_ENV = "GATE_TEST_PROGRESS"


def _append(text: str) -> None:
    path = os.environ.get(PROGRESS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(text)


def pytest_collection_finish(session: pytest.Session) -> None:
    _append(f"{len(session.items)}\n")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # One mark per test: its call, or the setup that failed or skipped it instead.
    if report.when == "call" or (report.when == "setup" and not report.passed):
        _append(".")
