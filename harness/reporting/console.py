"""Console output: one line per stage as it happens, then a short summary table."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from harness.model import Status
from harness.reporting.reports import ReportInput, counts, passed_cell


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
        columns = (Status.FAILED, Status.NOT_EVALUATED, Status.WARNING, Status.WAIVED)
        out = self._stream
        print("", file=out)
        print(f"{'tool':<14}{'failed':>8}{'not-ev':>8}{'warn':>8}{'waived':>8}{'passed':>8}", file=out)
        for source, counter in table.items():
            if sum(counter.values()):
                cells = [str(counter[c]) for c in columns] + [passed_cell(source, counter)]  # cdk-nag: no passes
                print(f"{source.value:<14}" + "".join(f"{c:>8}" for c in cells), file=out)
        for finding in [f for f in data.findings if f.status.gates][:25]:
            where = finding.logical_id or finding.template or finding.assembly or ""
            label = "FAIL" if finding.status is Status.FAILED else "NOT EVALUATED"
            print(f"  {label} {finding.rule_id} {where} {finding.message or finding.title}"[:240], file=out)
        # data.error is not repeated here: the gate and the merge print it once, as their last line.
        print(
            f"verdict: {data.verdict} (exit {int(data.exit_code)}) in {time.monotonic() - self._t0:.1f}s; "
            f"reports in {report_dir}/",
            file=out,
        )
