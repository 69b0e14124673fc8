"""Enhanced monitoring publishes only through a role RDS can assume and write with (CKV_STG_RDS_9).

The interval and a role ARN are not enough: the role's trust policy must admit
monitoring.rds.amazonaws.com (stg_iam.Request.service) and its policies must let it write to the
RDSOSMetrics log group with no Deny in the way (stg_iam.identity_allows).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policies.lib import stg_policy_lib as lib
from tests.policies.inprocess import as_world, load_rule

Template = dict[str, Any]


def _verdict(template: Template, edit: Callable[[Template], None]) -> lib.Verdict:
    changed = copy.deepcopy(template)
    edit(changed)
    world = as_world(changed)
    instance = next(lid for lid, r in changed["Resources"].items() if r["Type"] == "AWS::RDS::DBInstance")
    verdict: lib.Verdict = load_rule("CKV_STG_RDS_9").rule(lib.Context(world, raw=world), instance)
    return verdict


def _of_type(t: Template, kind: str) -> dict[str, Any]:
    """The monitoring role or its policy: the resource of ``kind`` the database's MonitoringRoleArn leads to."""
    database = next(r for r in t["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")
    role_id = database["Properties"]["MonitoringRoleArn"]["Fn::GetAtt"][0]
    if kind == "AWS::IAM::Role":
        props: dict[str, Any] = t["Resources"][role_id]["Properties"]
        return props
    (managed,) = t["Resources"][role_id]["Properties"]["ManagedPolicyArns"]
    props = t["Resources"][managed["Ref"]]["Properties"]
    return props


def _trusts_rds_itself(t: Template) -> None:
    _of_type(t, "AWS::IAM::Role")["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] = {
        "Service": "rds.amazonaws.com"
    }


def _denies_logs(t: Template) -> None:
    _of_type(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"]["Statement"].append(
        {"Effect": "Deny", "Action": "logs:*", "Resource": "*"}
    )


def _writes_another_group(t: Template) -> None:
    for statement in _of_type(t, "AWS::IAM::ManagedPolicy")["PolicyDocument"]["Statement"]:
        statement["Resource"] = "arn:aws:logs:us-east-1:123456789012:log-group:Other:log-stream:*"


def _aws_managed_policy(t: Template) -> None:
    _of_type(t, "AWS::IAM::Role")["ManagedPolicyArns"] = [
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    ]


def _role_of_another_template(t: Template) -> None:
    next(r for r in t["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")["Properties"][
        "MonitoringRoleArn"
    ] = "arn:aws:iam::123456789012:role/somewhere"


@pytest.mark.parametrize("edit", [_trusts_rds_itself, _denies_logs, _writes_another_group],
                         ids=["trust-not-monitoring", "deny-logs", "another-log-group"])  # fmt: skip
def test_a_role_that_cannot_publish_fails(default_template: Template, edit: Callable[[Template], None]) -> None:
    verdict = _verdict(default_template, edit)
    assert verdict.status == lib.FAILED and "monitoring role" in verdict.reason, verdict


def test_a_role_the_template_does_not_define_is_not_evaluated(default_template: Template) -> None:
    assert _verdict(default_template, _role_of_another_template).status == lib.NOT_EVALUATED


@pytest.mark.parametrize("edit", [lambda t: None, _aws_managed_policy], ids=["synthesized", "aws-managed-policy"])
def test_a_working_role_passes(default_template: Template, edit: Callable[[Template], None]) -> None:
    assert _verdict(default_template, edit).status == lib.PASSED
