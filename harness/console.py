"""Console output: one line per stage as it happens, then a short summary table."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from harness.model import Status
from harness.reports import ReportInput, counts


class Console:
    def __init__(self, *, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._stream = stream or sys.stderr
        self._quiet = quiet
        self._t0 = time.monotonic()

    def progress(self, message: str) -> None:
        if not self._quiet:
            print(f"[gate {time.monotonic() - self._t0:5.1f}s] {message}", file=self._stream, flush=True)

    def summary(self, data: ReportInput, *, report_dir: str) -> None:
        table = counts(data.findings)
        rows = [
            (s.value, c[Status.FAILED], c[Status.WARNING], c[Status.WAIVED], c[Status.PASSED])
            for s, c in table.items()
            if sum(c.values())
        ]
        out = self._stream
        print("", file=out)
        print(f"{'tool':<14}{'failed':>8}{'warn':>8}{'waived':>8}{'passed':>8}", file=out)
        for name, failed, warn, waived, passed in rows:
            print(f"{name:<14}{failed:>8}{warn:>8}{waived:>8}{passed:>8}", file=out)
        for finding in [f for f in data.findings if f.status is Status.FAILED][:25]:
            where = finding.logical_id or finding.template or ""
            print(f"  FAIL {finding.rule_id} {where} {finding.message or finding.title}"[:200], file=out)
        if data.error:
            print(f"  ERROR {data.error}", file=out)
        print(
            f"verdict: {data.verdict} (exit {int(data.exit_code)}) in {time.monotonic() - self._t0:.1f}s; "
            f"reports in {report_dir}/",
            file=out,
        )
