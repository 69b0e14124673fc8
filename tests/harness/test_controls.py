"""harness.verdict.controls: controls on findings and the per-control roll-up (pure functions, no gate run)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.catalog import ControlMapping, Framework, ScopeEntry, Tool, load_frameworks, load_mappings
from harness.model import Finding, Source, Status
from harness.verdict.controls import ControlResult, ControlStatus, annotate, roll_up

KEYS = ["aws-fsbp", "nist-800-53-r5", "pci-dss-4.0.1"]


@pytest.fixture(scope="module")
def frameworks() -> list[Framework]:
    return load_frameworks()


def _framework(frameworks: list[Framework], key: str, *controls: str) -> Framework:
    base = next(f for f in frameworks if f.key == key)
    return replace(base, scope=tuple(ScopeEntry(control=c, why=f"{c} is in scope") for c in controls))


def _mapping(check: str, *controls: str, tool: Tool = Tool.PROJECT, key: str = "nist-800-53-r5") -> ControlMapping:
    return ControlMapping(framework="NIST SP 800-53 Rev. 5", framework_key=key, check_id=check, controls=controls,
                          tool=tool, rationale="test")  # fmt: skip


def _finding(rule: str, status: Status, source: Source = Source.PROJECT, logical_id: str = "Db") -> Finding:
    return Finding(source=source, rule_id=rule, status=status, title=rule, logical_id=logical_id, template="t.json")


def _status(results: list[ControlResult], control: str) -> ControlStatus:
    return next(r for r in results if r.control == control).status


def test_every_finding_carries_every_framework_key() -> None:
    findings = [
        _finding("CKV_STG_RDS_1", Status.PASSED),
        _finding("AwsSolutions::AwsSolutions-IAM5[Resource::*]", Status.WAIVED, Source.CDK_NAG),
        _finding("tests.unit.test_x::test_y", Status.PASSED, Source.TESTS),
    ]
    annotated = annotate(findings, load_mappings(), keys=KEYS)
    assert all(set(f.controls) == set(KEYS) for f in annotated)
    assert annotated[0].controls["aws-fsbp"] == ["RDS.8"] and annotated[0].controls["nist-800-53-r5"] == ["CM-3"]
    assert annotated[1].controls["pci-dss-4.0.1"] == ["7.2.2"] and annotated[1].controls["aws-fsbp"] == ["IAM.21"]
    assert annotated[2].controls == {key: [] for key in KEYS}
    assert [f.sort_key() for f in annotated] == [f.sort_key() for f in findings]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([Status.PASSED, Status.PASSED], ControlStatus.SATISFIED),
        ([Status.PASSED, Status.WAIVED], ControlStatus.RISK_ACCEPTED),  # a waiver is not a pass
        ([Status.WAIVED, Status.FAILED], ControlStatus.NOT_SATISFIED),
        ([Status.PASSED, Status.FAILED], ControlStatus.NOT_SATISFIED),
        ([Status.NOT_EVALUATED, Status.FAILED], ControlStatus.NOT_SATISFIED),
        ([Status.PASSED, Status.NOT_EVALUATED], ControlStatus.NOT_EVALUATED),
        ([Status.PASSED, Status.WARNING], ControlStatus.NOT_SATISFIED),
    ],
)
def test_control_status_follows_its_policies(
    frameworks: list[Framework], statuses: list[Status], expected: ControlStatus
) -> None:
    framework = _framework(frameworks, "nist-800-53-r5", "SC-28")
    findings = [_finding("CKV_STG_RDS_13", status, logical_id=f"R{i}") for i, status in enumerate(statuses)]
    results = roll_up(findings, [_mapping("CKV_STG_RDS_13", "SC-28")], [framework], ran={"project"})
    assert _status(results, "SC-28") is expected


def test_a_policy_without_verdict_leaves_its_control_not_evaluated(frameworks: list[Framework]) -> None:
    framework = _framework(frameworks, "nist-800-53-r5", "SC-28", "CM-3")
    mappings = [_mapping("CKV_STG_RDS_13", "SC-28"), _mapping("CKV_STG_RDS_1", "CM-3")]
    results = roll_up([_finding("CKV_STG_RDS_1", Status.PASSED)], mappings, [framework], ran={"project"})
    assert _status(results, "SC-28") is ControlStatus.NOT_EVALUATED
    assert "gave no verdict" in next(r for r in results if r.control == "SC-28").reason
    assert _status(results, "CM-3") is ControlStatus.SATISFIED
    # A policy that applies to no resource of the templates gives no evidence either way.
    results = roll_up([], mappings[:1], [framework], ran={"project"}, applicable={"CKV_STG_RDS_13": 0})
    assert _status(results, "SC-28") is ControlStatus.NOT_EVALUATED
    assert "no mapped check produced evidence" in next(r for r in results if r.control == "SC-28").reason


def test_in_scope_control_without_check_is_listed(frameworks: list[Framework]) -> None:
    framework = _framework(frameworks, "nist-800-53-r5", "SC-28", "AU-6")
    results = roll_up([], [_mapping("CKV_STG_RDS_13", "SC-28")], [framework], ran=set())
    row = next(r for r in results if r.control == "AU-6")
    assert row.status is ControlStatus.NOT_ASSESSED and row.reason == "AU-6 is in scope"
    assert _status(results, "SC-28") is ControlStatus.NOT_EVALUATED  # nothing ran


def test_cdk_nag_rule_without_finding_passes_only_when_its_pack_ran(frameworks: list[Framework]) -> None:
    framework = _framework(frameworks, "aws-fsbp", "RDS.3")
    mappings = [_mapping("AwsSolutions-RDS2", "RDS.3", tool=Tool.CDK_NAG, key="aws-fsbp")]
    assert _status(roll_up([], mappings, [framework], ran={"cdk-nag:AwsSolutions"}), "RDS.3") is ControlStatus.SATISFIED
    assert (
        _status(roll_up([], mappings, [framework], ran={"cdk-nag:PCI.DSS.321"}), "RDS.3") is ControlStatus.NOT_EVALUATED
    )


def test_content_left_to_deploy_time_leaves_passing_controls_not_evaluated(frameworks: list[Framework]) -> None:
    framework = _framework(frameworks, "nist-800-53-r5", "CM-3")
    findings = [
        _finding("CKV_STG_RDS_1", Status.PASSED),
        Finding(source=Source.GATE, rule_id="gate:transform", status=Status.NOT_EVALUATED, title="transform"),
    ]
    results = roll_up(findings, [_mapping("CKV_STG_RDS_1", "CM-3")], [framework], ran={"project"})
    assert _status(results, "CM-3") is ControlStatus.NOT_EVALUATED
    assert "gate:transform" in results[0].reason


def test_a_waived_finding_leaves_its_control_not_satisfied_naming_the_waiver(frameworks: list[Framework]) -> None:
    framework = _framework(frameworks, "nist-800-53-r5", "SC-28")
    findings = [
        _finding("CKV_STG_RDS_13", Status.PASSED, logical_id="A"),
        replace(_finding("CKV_STG_RDS_13", Status.WAIVED, logical_id="B"), waiver_id="WVR-900"),
    ]
    result = roll_up(findings, [_mapping("CKV_STG_RDS_13", "SC-28")], [framework], ran={"project"})[0]
    assert result.status is ControlStatus.RISK_ACCEPTED and not result.status.satisfied
    assert "WVR-900" in result.reason and "on B" in result.reason
    assert result.checks[0].waived_on == ("B",) and result.checks[0].waivers == ("WVR-900",)


def test_pass_run_names_every_unsatisfied_control_first(frameworks: list[Framework]) -> None:
    from harness.verdict.controls import render_unsatisfied  # noqa: PLC0415

    framework = _framework(frameworks, "nist-800-53-r5", "SC-28", "CM-3", "AU-6")
    findings = [
        replace(_finding("CKV_STG_RDS_13", Status.WAIVED), waiver_id="WVR-900"),
        _finding("CKV_STG_RDS_1", Status.PASSED),
    ]
    mappings = [_mapping("CKV_STG_RDS_13", "SC-28"), _mapping("CKV_STG_RDS_1", "CM-3")]
    controls = [r.as_dict() for r in roll_up(findings, mappings, [framework], ran={"project"})]
    waivers = [{"waiver_id": "WVR-900", "owner": "db-team", "expires": "2027-01-31"}]
    lines = "\n".join(render_unsatisfied(controls, waivers, verdict="PASS"))
    assert "| SC-28 | not satisfied: risk accepted |" in lines and "WVR-900: db-team, expires 2027-01-31" in lines
    assert "CM-3" not in lines and "AU-6" not in lines  # satisfied, and not assessed, are not listed
    assert render_unsatisfied(controls, waivers, verdict="FAIL") == []  # a FAIL run leads with its failures
