"""A tool's verdict on a value it could not read is settled by the project policy that judged the resolved value.

In-process: findings as the gate folds them, the settlement file as policies/ holds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR, load_policies
from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.assets import AssetBook, Environment
from harness.reading.digests import DigestCache
from harness.verdict.settle import Settlement, load_settled_by, settle_tool_findings

DB = "Db"
THREW = "AwsSolutions-RDS10: The rule threw an error during validation"
SETTLED_BY = {
    (Source.CDK_NAG, "AwsSolutions-RDS10"): Settlement(policies=("CKV_STG_RDS_1",)),
    (Source.CHECKOV, "CKV_AWS_16"): Settlement(policies=("CKV_STG_RDS_13",), reads=("StorageEncrypted",)),
}


def _assembly(properties: dict[str, Any]) -> CloudAssembly:
    root = Path("/nonexistent")
    body = {"Resources": {DB: {"Type": "AWS::RDS::DBInstance", "Properties": properties}}}
    assets = AssetBook(root=root, environment=Environment(region="us-east-1"), digests=DigestCache())
    stack = StackTemplate(
        assembly="a",
        root=root,
        path=root / "t.json",
        stack_id="S",
        region="us-east-1",
        body=body,
        construct_paths={},
        assets=assets,
    )
    return CloudAssembly(label="a", root=root, stacks=(stack,))


def _finding(source: Source, rule: str, status: Status, message: str = "") -> Finding:
    return Finding(
        source=source, rule_id=rule, status=status, title=rule, assembly="a", stack="S", logical_id=DB, message=message
    )


def _settle(findings: list[Finding], properties: dict[str, Any] | None = None) -> dict[str, Finding]:
    settled = settle_tool_findings(findings, settled_by=SETTLED_BY, assemblies=[_assembly(properties or {})])
    return {f.rule_id: f for f in settled}


@pytest.mark.parametrize("project", [Status.PASSED, Status.FAILED])
def test_a_rule_that_threw_takes_the_policys_verdict_and_says_so(project: Status) -> None:
    found = _settle(
        [
            _finding(Source.CDK_NAG, "AwsSolutions::AwsSolutions-RDS10", Status.NOT_EVALUATED, THREW),
            _finding(Source.PROJECT, "CKV_STG_RDS_1", project, "deletion protection on"),
        ]
    )
    settled = found["AwsSolutions::AwsSolutions-RDS10"]
    assert settled.status is project
    assert "settled by the gate's resolved verdict (CKV_STG_RDS_1" in settled.message
    assert "threw an error" in settled.message


@pytest.mark.parametrize("project", [Status.NOT_EVALUATED, Status.WAIVED, None])
def test_a_policy_that_did_not_decide_settles_nothing(project: Status | None) -> None:
    findings = [_finding(Source.CDK_NAG, "AwsSolutions::AwsSolutions-RDS10", Status.NOT_EVALUATED, THREW)]
    if project is not None:
        findings.append(_finding(Source.PROJECT, "CKV_STG_RDS_1", project))
    assert _settle(findings)["AwsSolutions::AwsSolutions-RDS10"].status is Status.NOT_EVALUATED


@pytest.mark.parametrize(
    ("written", "settled"),
    [
        ("true", Status.PASSED),
        ({"Fn::Join": ["", ["true"]]}, Status.PASSED),
        (False, Status.FAILED),
        (True, Status.FAILED),
    ],
)
def test_a_checkov_failure_is_settled_only_where_the_value_is_written_indirectly(written: Any, settled: Status) -> None:
    found = _settle(
        [
            _finding(Source.CHECKOV, "CKV_AWS_16", Status.FAILED),
            _finding(Source.PROJECT, "CKV_STG_RDS_13", Status.PASSED),
        ],
        {"StorageEncrypted": written},
    )
    assert found["CKV_AWS_16"].status is settled


def test_an_unmapped_rule_keeps_its_verdict() -> None:
    found = _settle(
        [
            _finding(Source.CDK_NAG, "AwsSolutions::AwsSolutions-RDS11", Status.NOT_EVALUATED, THREW),
            _finding(Source.PROJECT, "CKV_STG_RDS_1", Status.PASSED),
        ]
    )
    assert found["AwsSolutions::AwsSolutions-RDS11"].status is Status.NOT_EVALUATED


def test_the_projects_settlements_name_known_policies() -> None:
    settled_by = load_settled_by(POLICIES_DIR, known=[p.id for p in load_policies()])
    assert (Source.CDK_NAG, "AwsSolutions-RDS10") in settled_by


def test_a_malformed_settlement_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "settled_by.yaml").write_text("cdk-nag:\n  AwsSolutions-RDS10: {policies: [CKV_STG_NOPE_1]}\n")
    with pytest.raises(ValueError, match=r"settled_by\.yaml: cdk-nag AwsSolutions-RDS10: needs policies") as raised:
        load_settled_by(tmp_path, known=["CKV_STG_RDS_1"])
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("written", "settled"),
    [({"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, "MultiAZ"]}, Status.PASSED), (False, Status.FAILED)],
)
def test_a_cdk_nag_failure_on_an_intrinsic_is_settled_like_checkovs(written: Any, settled: Status) -> None:
    """cdk-nag fails a Fn::FindInMap it cannot look up; the policy that resolved the mapping decides (its reads)."""
    settled_by = {(Source.CDK_NAG, "AwsSolutions-RDS3"): Settlement(policies=("CKV_STG_RDS_6",), reads=("MultiAZ",))}
    findings = [
        _finding(Source.CDK_NAG, "AwsSolutions::AwsSolutions-RDS3", Status.FAILED),
        _finding(Source.PROJECT, "CKV_STG_RDS_6", Status.PASSED),
    ]
    found = settle_tool_findings(findings, settled_by=settled_by, assemblies=[_assembly({"MultiAZ": written})])
    assert {f.rule_id: f for f in found}["AwsSolutions::AwsSolutions-RDS3"].status is settled
