"""Issue 19: the cdk-nag "Passed" count was always 0. cdk-nag 3 reports violations only (CDK's
policy-validation report has no record of a rule that passed), so the report shows its pass count
as unknown with a legend saying why, never a 0 that reads as "nothing passed"."""

from __future__ import annotations

import dataclasses
import io

from harness.model import Finding, Source, Status
from harness.reporting.console import Console
from harness.reporting.report_fields import error_input
from harness.reporting.report_markdown import render_markdown
from harness.reporting.reports import PASSES_UNREPORTED_LEGEND, PASSES_UNREPORTED_MARK, ReportInput


def _finding(source: Source, status: Status, rule: str) -> Finding:
    return Finding(source=source, rule_id=rule, status=status, title="t", stack="S", logical_id="Db1", assembly="a")


def _data(*findings: Finding) -> ReportInput:
    return dataclasses.replace(error_input(mode="synth", error=""), findings=list(findings))


def _row(markdown: str, tool: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {tool} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_cdk_nag_passes_are_unknown_with_the_reason_and_checkov_passes_are_counted() -> None:
    data = _data(
        _finding(Source.CDK_NAG, Status.FAILED, "AwsSolutions-RDS11"),
        _finding(Source.CHECKOV, Status.PASSED, "CKV_AWS_16"),
        _finding(Source.CHECKOV, Status.PASSED, "CKV_AWS_17"),
    )
    markdown = render_markdown(data)
    assert _row(markdown, "cdk-nag") == ["cdk-nag", "1", "0", "0", "0", PASSES_UNREPORTED_MARK]
    assert _row(markdown, "checkov") == ["checkov", "0", "0", "0", "0", "2"]
    assert PASSES_UNREPORTED_LEGEND in markdown
    assert "violations only" in PASSES_UNREPORTED_LEGEND


def test_no_legend_without_a_tool_that_reports_no_passes() -> None:
    markdown = render_markdown(_data(_finding(Source.CHECKOV, Status.PASSED, "CKV_AWS_16")))
    assert PASSES_UNREPORTED_LEGEND not in markdown


def test_the_console_summary_shows_the_same_unknown() -> None:
    out = io.StringIO()
    data = _data(_finding(Source.CDK_NAG, Status.FAILED, "AwsSolutions-RDS11"))
    Console(stream=out, quiet=True).summary(data, report_dir="reports")
    [row] = [line for line in out.getvalue().splitlines() if line.startswith("cdk-nag")]
    assert row.split() == ["cdk-nag", "1", "0", "0", "0", PASSES_UNREPORTED_MARK]
