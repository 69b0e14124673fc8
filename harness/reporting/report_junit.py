"""compliance.junit.xml: one test suite per tool, one test case per finding (CI test tabs read it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from harness.model import Finding, Source, Status
from harness.reporting.reports import SOURCE_ORDER, ReportInput


def render_junit(data: ReportInput) -> str:
    suites = ET.Element("testsuites", name="compliance-gate")
    by_source: dict[Source, list[Finding]] = {}
    for f in data.findings:
        by_source.setdefault(f.source, []).append(f)
    if data.error:
        suite = ET.SubElement(suites, "testsuite", name="harness", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="harness", name="gate ran every check")
        ET.SubElement(case, "error", message=data.error, type="HarnessError").text = data.error
    for source in SOURCE_ORDER:
        items = by_source.get(source, [])
        if not items:
            continue
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=source.value,
            tests=str(len(items)),
            failures=str(sum(f.status.gates for f in items)),
            errors="0",
            skipped=str(sum(f.status is Status.WAIVED for f in items)),
        )
        for f in items:
            where = "/".join(p for p in (f.assembly, f.template, f.logical_id) if p) or f.rule_id
            case = ET.SubElement(suite, "testcase", classname=f"{source.value}.{f.rule_id}", name=where)
            if f.status.gates:
                text = "\n".join(
                    p
                    for p in (
                        f.message,
                        f"construct path: {f.construct_path}" if f.construct_path else "",
                        f"remediation: {f.remediation}" if f.remediation else "",
                    )
                    if p
                )
                kind = "not-evaluated" if f.status is Status.NOT_EVALUATED else f.rule_id
                ET.SubElement(case, "failure", message=(f.message or f.title)[:500], type=kind).text = text
            elif f.status is Status.WAIVED:
                ET.SubElement(case, "skipped", message=f"waived by {f.waiver_id} until {f.waiver_expires or 'n/a'}")
            elif f.status is Status.WARNING:
                ET.SubElement(case, "system-out").text = f"warning: {f.message or f.title}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
