"""The coverage contract and the folding of verdicts over deploy-time worlds, on small assemblies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from harness.catalog import Policy, Severity
from harness.model import Status
from harness.reading.assembly import load_assembly
from harness.reading.worlds import expand
from harness.tools.run_checkov import CheckovResult, CheckovRun, PolicyVerdict
from harness.tools.waivers import WaiverBook
from harness.verdict.coverage import attribute_value, coverage_findings, unresolved_attributes
from harness.verdict.judge import checkov_findings
from policies.lib import cfn_resolver as cfn


def _policy(policy_id: str, *types: str, engine: str = "python", requires: tuple[str, ...] = (),
            attributes: tuple[str, ...] = ()) -> Policy:  # fmt: skip
    return Policy(id=policy_id, title=f"{policy_id} title", severity=Severity.HIGH, rationale="r", requirements=("REQ-DB-01",),
                  remediation="fix", resource_types=types, check_file=Path("x.py"), engine=engine, category="GENERAL_SECURITY",
                  requires=requires, attributes=attributes)  # fmt: skip


def _assembly(root: Path, template: dict[str, Any]) -> Any:
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"artifacts": {"S": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
                                    "properties": {"templateFile": "S.template.json"}}}}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (root / "S.template.json").write_text(json.dumps(template), encoding="utf-8")
    return load_assembly(root)


DB = {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": True}}


def test_a_resource_without_a_verdict_is_not_evaluated(tmp_path: Path) -> None:
    assembly = _assembly(tmp_path / "a", {"Resources": {"Db": DB, "Db2": DB}})
    expansion = expand([assembly], directory=tmp_path / "w")
    (target,) = expansion.targets
    judged = {("CKV_STG_RDS_1", target.path, "Db"): Status.PASSED}
    gaps, coverage = coverage_findings([_policy("CKV_STG_RDS_1", "AWS::RDS::DBInstance")], assemblies=[assembly],
                                       expansion=expansion, judged=judged)  # fmt: skip
    assert [(g.rule_id, g.logical_id, g.status) for g in gaps] == [("CKV_STG_RDS_1", "Db2", Status.NOT_EVALUATED)]
    assert "gave no verdict" in gaps[0].message
    assert [(c.policy, c.resources, c.judged) for c in coverage] == [("CKV_STG_RDS_1", 2, 1)]


def test_a_required_resource_behind_a_condition_does_not_count(tmp_path: Path) -> None:
    conditional = {**DB, "Condition": "Maybe"}
    template = {"Parameters": {"Flag": {"Type": "String"}},
                "Conditions": {"Maybe": {"Fn::Equals": [{"Ref": "Flag"}, "yes"]}}, "Resources": {"Db": conditional}}  # fmt: skip
    assembly = _assembly(tmp_path / "a", template)
    expansion = expand([assembly], directory=tmp_path / "w")
    assert len(expansion.targets) == 2  # the resource exists in one world, not the other
    policy = _policy("CKV_STG_RDS_1", "AWS::RDS::DBInstance", requires=("AWS::RDS::DBInstance",))
    judged = {("CKV_STG_RDS_1", t.path, "Db"): Status.PASSED for t in expansion.targets}
    gaps, _ = coverage_findings([policy], assemblies=[assembly], expansion=expansion, judged=judged)
    (gap,) = gaps
    assert gap.status is Status.FAILED and "behind a Condition" in gap.message
    empty = _assembly(tmp_path / "b", {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    gaps, _ = coverage_findings(
        [policy], assemblies=[empty], expansion=expand([empty], directory=tmp_path / "w2"), judged={}
    )
    assert [g.message for g in gaps] == [
        "CKV_STG_RDS_1 needs a AWS::RDS::DBInstance in every deploy-time world: the assembly has none"
    ]


def test_a_yaml_policy_reading_an_undetermined_attribute_is_overridden(tmp_path: Path) -> None:
    template = {"Parameters": {"Protect": {"Type": "String", "Default": "true"}},
                "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": {"Ref": "Protect"},
                                     "Parameters": {"rds.force_ssl": "1"}}}}}  # fmt: skip
    assembly = _assembly(tmp_path / "a", template)
    expansion = expand([assembly], directory=tmp_path / "w")
    policy = _policy("CKV_STG_RDS_1", "AWS::RDS::DBInstance", engine="yaml", attributes=("DeletionProtection",))
    overrides = unresolved_attributes([policy], expansion)
    (target,) = expansion.targets
    assert "no AllowedValues" in overrides[("CKV_STG_RDS_1", target.path, "Db")]
    assert attribute_value(target.resolver(), "Db", "Parameters.rds.force_ssl") == "1"  # dotted keys resolve too
    assert attribute_value(target.resolver(), "Db", "Parameters.missing") is cfn.NO_VALUE


def _result(check: str, path: Path, logical_id: str, result: str) -> CheckovResult:
    return CheckovResult(check_id=check, check_name="n", result=result, resource_type="AWS::RDS::DBInstance",
                         logical_id=logical_id, template=path)  # fmt: skip


def test_verdicts_fold_over_worlds_and_policy_reasons_win(tmp_path: Path) -> None:
    template = {"Parameters": {"Class": {"Type": "String", "AllowedValues": ["db.t3.medium", "db.m5.large"]}},
                "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": {"Ref": "Class"}}}}}  # fmt: skip
    assembly = _assembly(tmp_path / "a", template)
    expansion = expand([assembly], directory=tmp_path / "w")
    first, second = expansion.targets
    run = CheckovRun(
        results=[_result("CKV_STG_RDS_5", first.path, "Db", "PASSED"), _result("CKV_STG_RDS_5", second.path, "Db", "FAILED"),
                 _result("CKV_STG_RDS_9", first.path, "Db", "FAILED"), _result("CKV_STG_RDS_9", second.path, "Db", "PASSED")],
        resource_count=2, duration_s=0.0, command="checkov",
        verdicts={("CKV_STG_RDS_9", first.path, "Db"): PolicyVerdict(status="not-evaluated", reason="interval unknown")},
    )  # fmt: skip
    policies = {
        p.id: p
        for p in (_policy("CKV_STG_RDS_5", "AWS::RDS::DBInstance"), _policy("CKV_STG_RDS_9", "AWS::RDS::DBInstance"))
    }
    book = WaiverBook(waivers=[], today=dt.date(2026, 11, 30))
    folding = checkov_findings(run, expansion=expansion, policies=policies, book=book, overrides={})
    by_rule = {f.rule_id: f for f in folding.findings}
    assert by_rule["CKV_STG_RDS_5"].status is Status.FAILED
    assert by_rule["CKV_STG_RDS_5"].world == "parameter Class='db.m5.large'"
    assert by_rule["CKV_STG_RDS_9"].status is Status.NOT_EVALUATED
    assert by_rule["CKV_STG_RDS_9"].message == "interval unknown (when parameter Class='db.t3.medium')"
