"""CKV_STG_TAG_1 reads each type's tags where its CloudFormation schema says they live (issue 16 item 6).

``tagging.tagProperty`` (cfn-lint's provider schemas, written to policies/lib/cfn_types.json)
is ``Tags`` for most types, a map for some (SSM parameters), another name for others
(``UserPoolTags``, ``TagSpecifications.*.Tags``). A compliant resource that tags itself there
passes; one that leaves the spec's tags out there fails, naming where; a type the schema says
takes no tags is not asked for them.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.catalog import load_policies
from policies.lib import stg_policy_lib as lib
from tests.policies.inprocess import verdicts

TAG_1 = next(p for p in load_policies() if p.id == "CKV_STG_TAG_1")
LIST = [{"Key": "Environment", "Value": "staging"}, {"Key": "CostCenter", "Value": "engineering"}]
MAP = {"Environment": "staging", "CostCenter": "engineering"}


def _verdict(resource_type: str, properties: dict[str, Any]) -> lib.Verdict:
    template = {"Resources": {"Thing": {"Type": resource_type, "Properties": properties}}}
    return verdicts(TAG_1, template)["Thing"]


@pytest.mark.parametrize(
    ("resource_type", "properties"),
    [
        ("AWS::SSM::Parameter", {"Type": "String", "Value": "x", "Tags": MAP}),
        ("AWS::Cognito::UserPool", {"UserPoolTags": MAP}),
        ("AWS::EFS::FileSystem", {"FileSystemTags": [{"Key": k, "Value": v} for k, v in MAP.items()]}),
        (
            "AWS::EC2::CapacityReservation",
            {"TagSpecifications": [{"ResourceType": "capacity-reservation", "Tags": LIST}]},
        ),
        ("AWS::RDS::DBSubnetGroup", {"Tags": list(reversed(LIST))}),
    ],
)
def test_tags_under_the_schemas_tag_property_pass(resource_type: str, properties: dict[str, Any]) -> None:
    assert lib.tag_property(resource_type) in ({"Tags"} | set(properties) | {"TagSpecifications.*.Tags"})
    assert _verdict(resource_type, properties).status == lib.PASSED


@pytest.mark.parametrize(
    ("resource_type", "properties", "where"),
    [
        ("AWS::Cognito::UserPool", {"UserPoolTags": {"Environment": "staging"}}, "under UserPoolTags"),
        (
            "AWS::EC2::CapacityReservation",
            {"TagSpecifications": [{"ResourceType": "capacity-reservation", "Tags": LIST[:1]}]},
            "TagSpecifications[0].Tags",
        ),
        ("AWS::EFS::FileSystem", {"Tags": LIST}, "under FileSystemTags"),
    ],
)
def test_missing_tags_under_the_tag_property_fail_naming_it(
    resource_type: str, properties: dict[str, Any], where: str
) -> None:
    verdict = _verdict(resource_type, properties)
    assert verdict.status == lib.FAILED
    assert "CostCenter is missing" in verdict.reason or "Environment is missing" in verdict.reason
    assert where in verdict.reason


def test_a_type_the_schema_says_is_not_taggable_is_not_asked_for_tags() -> None:
    verdict = _verdict("AWS::EC2::SubnetRouteTableAssociation", {"SubnetId": "s", "RouteTableId": "r"})
    assert verdict.status == lib.NOT_APPLICABLE


def test_the_tag_property_fact_is_the_schemas() -> None:
    """policies/lib/cfn_types.json (what TAG_1 reads) agrees with cfn-lint's schemas, as the registry reads them."""
    import json  # noqa: PLC0415

    from harness.catalog.registry import tag_property  # noqa: PLC0415
    from harness.reading.schema_facts import REGION, schemas_dir  # noqa: PLC0415

    root = schemas_dir()
    index = json.loads((root / "providers" / f"{REGION}.json").read_text(encoding="utf-8"))
    wrong = []
    for resource_type, digest in sorted(index.items()):
        schema = json.loads((root / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
        expected = tag_property(schema).replace("/", ".")
        if expected and lib.tag_property(resource_type) != expected:
            wrong.append((resource_type, expected, lib.tag_property(resource_type)))
    assert wrong == []
