"""harness.tools.nag_tree: cdk-nag rules that read the construct tree, judged on the template under CfnInclude.

``VPCDefaultSecurityGroupClosed`` failed every included VPC because CfnInclude has no
``RestrictDefaultSecurityGroupCustomResource`` child; the staging stack's default group is closed
by exactly that custom resource. Only the template-level fact the tree stands for clears the
finding, and the disguises below do not state it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.tools.nag import NagViolation
from harness.tools.nag_tree import default_security_group_restricted, inclusion_artifacts, rule_name

VPC = "Vpc8378EB38"
HANDLER = "CustomVpcRestrictDefaultSGCustomResourceProviderHandlerDC833E5E"


def _template() -> dict[str, Any]:
    return {
        "Resources": {
            VPC: {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
            "OtherVpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.2.0.0/16"}},
            HANDLER: {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs22.x"}},
            "Restrict": {
                "Type": "Custom::VpcRestrictDefaultSG",
                "Properties": {
                    "ServiceToken": {"Fn::GetAtt": [HANDLER, "Arn"]},
                    "DefaultSecurityGroupId": {"Fn::GetAtt": [VPC, "DefaultSecurityGroup"]},
                },
            },
        }
    }


def _violation(rule: str, logical_id: str) -> NagViolation:
    return NagViolation(plugin="NIST.800.53.R5", rule=rule, description="d", severity="warning",
                        construct_path=f"Gate0/Template/{logical_id}", logical_id=logical_id)  # fmt: skip


def test_the_restricted_vpc_states_the_fact_and_its_finding_is_the_inclusions() -> None:
    body = _template()
    assert default_security_group_restricted(body, VPC)
    found = [_violation("NIST.800.53.R5-VPCDefaultSecurityGroupClosed", VPC),
             _violation("PCI.DSS.321-VPCDefaultSecurityGroupClosed", VPC)]  # fmt: skip
    assert inclusion_artifacts(found, body) == found
    # Another rule on the same VPC, and the same rule on another VPC, stay.
    other = [_violation("NIST.800.53.R5-VPCFlowLogsEnabled", VPC),
             _violation("NIST.800.53.R5-VPCDefaultSecurityGroupClosed", "OtherVpc")]  # fmt: skip
    assert inclusion_artifacts(other, body) == []


def _string_form(body: dict[str, Any]) -> None:
    body["Resources"]["Restrict"]["Properties"]["DefaultSecurityGroupId"] = {
        "Fn::GetAtt": f"{VPC}.DefaultSecurityGroup"
    }


def _other_vpc(body: dict[str, Any]) -> None:
    body["Resources"]["Restrict"]["Properties"]["DefaultSecurityGroupId"] = {
        "Fn::GetAtt": ["OtherVpc", "DefaultSecurityGroup"]
    }


def _literal_group(body: dict[str, Any]) -> None:
    body["Resources"]["Restrict"]["Properties"]["DefaultSecurityGroupId"] = "sg-0123456789abcdef0"


def _foreign_handler(body: dict[str, Any]) -> None:
    body["Resources"]["Restrict"]["Properties"]["ServiceToken"] = "arn:aws:lambda:us-east-1:111122223333:function:noop"


def _not_a_function(body: dict[str, Any]) -> None:
    body["Resources"][HANDLER]["Type"] = "AWS::SNS::Topic"


def _other_type(body: dict[str, Any]) -> None:
    body["Resources"]["Restrict"]["Type"] = "Custom::Anything"


def _removed(body: dict[str, Any]) -> None:
    del body["Resources"]["Restrict"]


@pytest.mark.parametrize(
    ("edit", "restricted"),
    [
        (_string_form, True),  # the same reference, written the other way
        (_other_vpc, False),  # closes another VPC's group
        (_literal_group, False),  # a group id the template does not tie to this VPC
        (_foreign_handler, False),  # served by a function outside the template: unreviewed code
        (_not_a_function, False),
        (_other_type, False),
        (_removed, False),
    ],
    ids=["string-getatt", "other-vpc", "literal-group", "foreign-handler", "not-a-function", "other-type", "removed"],
)
def test_only_the_template_that_closes_this_vpcs_group_clears_it(edit: Any, restricted: bool) -> None:
    body = copy.deepcopy(_template())
    edit(body)
    assert default_security_group_restricted(body, VPC) is restricted
    violation = _violation("NIST.800.53.R5-VPCDefaultSecurityGroupClosed", VPC)
    assert inclusion_artifacts([violation], body) == ([violation] if restricted else [])


def test_rule_names_lose_their_pack_prefix_and_finding_suffix() -> None:
    assert rule_name("NIST.800.53.R5-VPCDefaultSecurityGroupClosed") == "VPCDefaultSecurityGroupClosed"
    assert rule_name("AwsSolutions-IAM5[Resource::*]") == "IAM5"
