"""Each finding points at the line of its logical id in its template (SARIF regions, report links)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.model import Finding, Source, Status
from harness.reporting.reports import with_template_lines


def _finding(logical_id: str, *, line: int = 0) -> Finding:
    return Finding(
        source=Source.PROJECT, rule_id="STG_X", status=Status.FAILED, title="x", assembly="a",
        template="t.template.json", logical_id=logical_id, template_line=line,
    )  # fmt: skip


def test_each_logical_id_gets_the_first_line_that_opens_it(tmp_path: Path) -> None:
    template = {
        "Parameters": {"Db": {"Type": "String"}},
        "Resources": {
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Tags": [{"Key": "Db", "Value": "x"}]}},
            "Key": {"Type": "AWS::KMS::Key", "Properties": {"Nested": {"Db": {}}}},
        },
    }
    (tmp_path / "t.template.json").write_text(json.dumps(template, indent=1), encoding="utf-8")
    lines = (tmp_path / "t.template.json").read_text(encoding="utf-8").splitlines()
    found = with_template_lines(
        [_finding("Db"), _finding("Key"), _finding("Gone"), _finding("Key", line=7)], {"a": str(tmp_path)}
    )
    first_db = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith('"Db": {'))
    key = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith('"Key": {'))
    assert [f.template_line for f in found] == [first_db, key, 1, 7]


def test_a_missing_template_points_at_line_one(tmp_path: Path) -> None:
    assert [f.template_line for f in with_template_lines([_finding("Db")], {"a": str(tmp_path)})] == [1]
