"""Finding.to_record / Finding.from_record: the one conversion between a finding and its JSON record.

compliance.json (``findings`` and each ``delta`` entry's ``finding``), the base's findings cache and
``python -m harness merge`` all go through it; a record it cannot read is refused in one line naming
the key, never read in part.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.comparison.base import read_findings, write_findings
from harness.comparison.delta import DeltaEntry
from harness.model import Finding, FindingRecordError, Source, Status

FINDING = Finding(
    source=Source.PROJECT,
    rule_id="CKV_STG_RDS_1",
    status=Status.FAILED,
    title="deletion protection",
    assembly="staging",
    logical_id="DatabaseB269D8BB",
    construct_path="StagingDatabase/Database/Instance/Resource",
    code_file="infra/domains/database.py",
    code_line=42,
    template_line=7,
    controls={"pci": ("10.5.1",), "nist": ("CP-9", "SI-12")},
)


def test_a_finding_survives_its_json_record() -> None:
    record = json.loads(json.dumps(FINDING.to_record()))
    again = Finding.from_record(record)
    assert again == FINDING and again.template_line == 7 and dict(again.controls) == dict(FINDING.controls)
    assert record["rule_id"] == "CKV_STG_RDS_1" and record["logical_id"] == "DatabaseB269D8BB"
    assert record["source"] == "project" and record["status"] == "failed"


def test_a_delta_entry_carries_the_same_record() -> None:
    entry = DeltaEntry(finding=FINDING, status="failed", base_status="passed").record()
    assert entry == {"finding": FINDING.to_record(), "status": "failed", "base_status": "passed"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rule": "CKV_STG_RDS_1"}, "unknown key 'rule' in the finding record of rule 'CKV_STG_RDS_1' (known keys: "),
        ({"logicalId": "X"}, "unknown key 'logicalId'"),
        ({"status": "fine"}, "status='fine' is not valid"),
        ({"code_line": "42"}, "code_line='42' is not valid"),
        ({"controls": {"pci": "10.5.1"}}, "controls={'pci': '10.5.1'} is not valid"),
    ],
)
def test_a_record_this_harness_cannot_read_is_refused_naming_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(FindingRecordError, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        Finding.from_record({**FINDING.to_record(), **change})
    assert "\n" not in str(refused.value)


def test_a_record_without_its_rule_is_refused() -> None:
    record = FINDING.to_record()
    del record["rule_id"]
    with pytest.raises(FindingRecordError, match="the finding record lacks 'rule_id' \\(example: "):
        Finding.from_record(record)


def test_the_base_cache_reads_its_records_back_and_judges_again_on_one_it_cannot_read(tmp_path: Path) -> None:
    cache = tmp_path / "findings.json"
    write_findings(cache, [FINDING])
    assert read_findings(cache) == [FINDING]
    data = json.loads(cache.read_text(encoding="utf-8"))
    data["findings"][0]["judged_by"] = "a newer harness"
    cache.write_text(json.dumps(data), encoding="utf-8")
    assert read_findings(cache) is None  # a cache miss: the base is judged again, never read in part
