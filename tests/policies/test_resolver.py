"""The shared resolver (policies/lib/cfn_resolver.py): what a template determines, world by world."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest

from harness.catalog import POLICIES_DIR

sys.path.insert(0, str(POLICIES_DIR / "lib"))
r = importlib.import_module("cfn_resolver")
worlds = importlib.import_module("cfn_worlds")

US_EAST_1 = r.Environment(region="us-east-1")


def template(**sections: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"Resources": {"Key": {"Type": "AWS::KMS::Key", "Properties": {}}}}
    body.update(sections)
    return body


def resolve(expression: Any, body: dict[str, Any] | None = None, world: Any = None, **kwargs: Any) -> Any:
    return r.Resolver(body or template(), environment=US_EAST_1, world=world, **kwargs).value(expression)


# ------------------------------------------------------------------------ values


def test_literals_stay_literal() -> None:
    assert resolve({"A": [1, "x", True, None]}) == {"A": [1, "x", True, None]}


def test_ref_and_getatt_of_template_resources_are_symbols_with_their_type() -> None:
    ref = resolve({"Ref": "Key"})
    att = resolve({"Fn::GetAtt": ["Key", "Arn"]})
    assert ref == r.Symbol("ref", "Key", resource_type="AWS::KMS::Key")
    assert att == r.Symbol("getatt", "Key", "Arn", resource_type="AWS::KMS::Key")
    assert resolve({"Fn::GetAtt": "Key.Arn"}) == att


def test_getatt_and_ref_of_undefined_names_are_unknown() -> None:
    assert isinstance(resolve({"Fn::GetAtt": ["Elsewhere", "Arn"]}), r.Unknown)
    assert isinstance(resolve({"Ref": "Elsewhere"}), r.Unknown)


def test_pseudo_parameters_from_the_environment() -> None:
    assert resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolve({"Ref": "AWS::AccountId"}) == r.Symbol("pseudo", "AWS::AccountId")
    pinned = r.Resolver(template(), environment=r.Environment(region="cn-north-1", account="111122223333"))
    assert pinned.value({"Ref": "AWS::AccountId"}) == "111122223333"
    assert pinned.value({"Ref": "AWS::Partition"}) == "aws-cn"


def test_no_value_removes_the_property_or_list_item() -> None:
    assert resolve({"A": {"Ref": "AWS::NoValue"}, "B": [1, {"Ref": "AWS::NoValue"}]}) == {"B": [1]}


def test_sub_join_split_select_fold_literals() -> None:
    assert resolve({"Fn::Join": ["", ["tr", "ue"]]}) == "true"
    assert resolve({"Fn::Sub": "db.${Size}.medium"}, world=None) != "db.t3.medium"  # Size is undefined
    assert resolve({"Fn::Sub": ["db.${Size}.medium", {"Size": "t3"}]}) == "db.t3.medium"
    assert resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,db.t3.medium"]}]}) == "db.t3.medium"
    assert resolve({"Fn::Sub": "${AWS::Region}-${!Literal}"}) == "us-east-1-${Literal}"


def test_sub_with_symbols_is_text() -> None:
    value = resolve({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"})
    assert isinstance(value, r.Text)
    assert str(value) == "arn:aws:iam::${AWS::AccountId}:root"
    assert value.symbols == (r.Symbol("pseudo", "AWS::AccountId"),)
    joined = resolve({"Fn::Join": [":", ["alias", {"Ref": "Key"}]]})
    assert isinstance(joined, r.Text) and joined.symbols[0].name == "Key"


def test_import_value_transform_and_dynamic_references_are_unknown() -> None:
    assert "another stack" in resolve({"Fn::ImportValue": "shared-key"}).reason
    assert isinstance(resolve({"Fn::Transform": {"Name": "AWS::Include"}}), r.Unknown)
    assert isinstance(resolve("{{resolve:ssm:/x}}"), r.Unknown)
    assert r.unknowns(resolve({"A": [{"Fn::ImportValue": "x"}]}))


def test_find_in_map_and_cidr() -> None:
    body = template(Mappings={"Sizes": {"staging": {"Class": "db.t3.medium"}}})
    assert resolve({"Fn::FindInMap": ["Sizes", "staging", "Class"]}, body) == "db.t3.medium"
    assert isinstance(resolve({"Fn::FindInMap": ["Sizes", "prod", "Class"]}, body), r.Unknown)
    assert resolve({"Fn::Cidr": ["10.1.0.0/16", 2, 8]}) == ["10.1.0.0/24", "10.1.1.0/24"]


def test_runaway_nesting_is_unknown_not_a_crash() -> None:
    deep: Any = "x"
    for _ in range(500):
        deep = {"Fn::Join": ["", [deep]]}
    assert isinstance(resolve(deep), r.Unknown)


# ------------------------------------------------------------------------ parameters and worlds


def test_parameter_without_allowed_values_is_unknown_even_with_a_default() -> None:
    body = template(Parameters={"Class": {"Type": "String", "Default": "db.t3.medium"}})
    body["Resources"]["Db"] = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": {"Ref": "Class"}}}
    assert worlds.worlds(body, environment=US_EAST_1) == [r.World()]
    value = r.Resolver(body, environment=US_EAST_1).property("Db", "DBInstanceClass")
    assert isinstance(value, r.Unknown) and "no AllowedValues" in value.reason


def test_every_allowed_value_is_a_world() -> None:
    body = template(Parameters={"Class": {"Type": "String", "Default": "db.t3.medium",
                                          "AllowedValues": ["db.t3.medium", "db.m5.large"]}})  # fmt: skip
    body["Resources"]["Db"] = {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": {"Ref": "Class"}}}
    found = worlds.worlds(body, environment=US_EAST_1)
    classes = {r.Resolver(body, environment=US_EAST_1, world=w).property("Db", "DBInstanceClass") for w in found}
    assert classes == {"db.t3.medium", "db.m5.large"}


def test_parameters_used_only_by_rules_do_not_multiply_worlds() -> None:
    body = template(Parameters={"P": {"Type": "String", "AllowedValues": ["a", "b"]}},
                    Rules={"R": {"Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "P"}, "a"]}}]}})  # fmt: skip
    assert worlds.worlds(body, environment=US_EAST_1) == [r.World()]


def test_conditions_on_constrained_parameters_are_decided_per_world() -> None:
    body = template(
        Parameters={"Env": {"Type": "String", "AllowedValues": ["staging", "prod"]}},
        Conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    )
    body["Resources"]["Db"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {"MultiAZ": {"Fn::If": ["IsProd", True, False]}},
    }
    found = worlds.worlds(body, environment=US_EAST_1)
    assert len(found) == 2 and all(not w.conditions for w in found)
    values = {r.Resolver(body, environment=US_EAST_1, world=w).property("Db", "MultiAZ") for w in found}
    assert values == {True, False}


def test_undecidable_conditions_fork_both_ways() -> None:
    body = template(
        Parameters={"Env": {"Type": "String", "Default": "staging"}},
        Conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        },
    )
    body["Resources"]["Alarm"] = {"Type": "AWS::CloudWatch::Alarm", "Condition": "NotProd", "Properties": {}}
    found = worlds.worlds(body, environment=US_EAST_1)
    assert sorted(w.describe() for w in found) == ["condition IsProd=false", "condition IsProd=true"]
    existence = {r.Resolver(body, environment=US_EAST_1, world=w).exists("Alarm") for w in found}
    assert existence == {True, False}


def test_conditions_the_environment_decides_do_not_fork() -> None:
    body = template(Conditions={"InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}})
    body["Resources"]["Extra"] = {"Type": "AWS::SNS::Topic", "Condition": "InUsEast1"}
    assert worlds.worlds(body, environment=US_EAST_1) == [r.World()]
    assert r.Resolver(body, environment=US_EAST_1).exists("Extra") is True


def test_or_short_circuits_over_unknowns() -> None:
    body = template(
        Parameters={"Free": {"Type": "String"}},
        Conditions={
            "C": {
                "Fn::Or": [
                    {"Fn::Equals": [{"Ref": "Free"}, "x"]},
                    {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
                ]
            }
        },
    )
    assert r.Resolver(body, environment=US_EAST_1).condition("C") is True


def test_too_many_worlds_is_reported_not_enumerated() -> None:
    params = {f"P{i}": {"Type": "String", "AllowedValues": ["a", "b", "c"]} for i in range(6)}
    body = template(Parameters=params)
    body["Resources"]["T"] = {"Type": "AWS::SNS::Topic", "Properties": {f"K{i}": {"Ref": f"P{i}"} for i in range(6)}}
    with pytest.raises(r.TooManyWorldsError, match="729 combinations"):
        worlds.worlds(body, environment=US_EAST_1, limit=256)


def test_bindings_from_a_parent_template_resolve_nested_parameters() -> None:
    body = template(Parameters={"KeyArn": {"Type": "String"}})
    parent_key = r.Symbol("getatt", "ParentKey", "Arn", resource_type="AWS::KMS::Key", origin="parent")
    assert resolve({"Ref": "KeyArn"}, body, bindings={"KeyArn": parent_key}) == parent_key


# ------------------------------------------------------------------------ evaluate


def test_evaluate_writes_the_world_as_a_plain_template() -> None:
    body = template(
        Parameters={
            "Env": {"Type": "String", "Default": "staging", "AllowedValues": ["staging", "prod"]},
            "Free": {"Type": "String", "Default": "anything"},
        },
        Conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    )
    body["Resources"]["Db"] = {
        "Type": "AWS::RDS::DBInstance",
        "Properties": {
            "MultiAZ": {"Fn::If": ["IsProd", True, {"Ref": "AWS::NoValue"}]},
            "DBName": {"Ref": "Free"},
            "KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]},
            "EngineVersion": {"Fn::Join": [".", ["13", "23"]]},
        },
    }
    body["Resources"]["ProdOnly"] = {"Type": "AWS::SNS::Topic", "Condition": "IsProd", "DependsOn": ["Db"]}
    body["Resources"]["Waits"] = {"Type": "AWS::SNS::Topic", "DependsOn": ["ProdOnly", "Db"]}
    staging = worlds.evaluate(body, r.World(parameters={"Env": "staging"}), environment=US_EAST_1)
    props = staging["Resources"]["Db"]["Properties"]
    assert "MultiAZ" not in props
    assert props["DBName"] == {"Ref": "Free"}
    assert props["KmsKeyId"] == {"Fn::GetAtt": ["Key", "Arn"]}
    assert props["EngineVersion"] == "13.23"
    assert "ProdOnly" not in staging["Resources"]
    assert staging["Resources"]["Waits"]["DependsOn"] == ["Db"]
    assert "Conditions" not in staging
    assert "Default" not in staging["Parameters"]["Free"]  # no scanner may judge a default as the value
    assert staging["Parameters"]["Env"]["Default"] == "staging"
    prod = worlds.evaluate(body, r.World(parameters={"Env": "prod"}), environment=US_EAST_1)
    assert prod["Resources"]["Db"]["Properties"]["MultiAZ"] is True
    assert "Condition" not in prod["Resources"]["ProdOnly"]


def test_evaluate_leaves_a_template_without_choices_unchanged() -> None:
    body = template(Parameters={"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>",
                                                     "Default": "/cdk-bootstrap/hnb659fds/version"}},
                    Rules={"Check": {"Assertions": []}})  # fmt: skip
    body["Resources"]["Topic"] = {"Type": "AWS::SNS::Topic",
                                  "Properties": {"KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}  # fmt: skip
    evaluated = worlds.evaluate(body, r.World(), environment=US_EAST_1)
    assert evaluated["Resources"] == body["Resources"]


def test_evaluate_writes_a_setting_the_region_looks_up_as_its_value() -> None:
    """Scanners cannot look a mapping up: a boolean or number keyed by the pinned Region is folded, text is not."""
    body = template(Mappings={"ByRegion": {"us-east-1": {"Multi": True, "Port": 5432, "Zone": "a"},
                                           "eu-west-1": {"Multi": False, "Port": 1, "Zone": "b"}}})  # fmt: skip
    lookup = {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, "Multi"]}
    body["Resources"]["Db"] = {"Type": "AWS::RDS::DBInstance", "Properties": {
        "MultiAZ": lookup, "Port": {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, "Port"]},
        "AvailabilityZone": {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, "Zone"]}}}  # fmt: skip
    props = worlds.evaluate(body, r.World(), environment=US_EAST_1)["Resources"]["Db"]["Properties"]
    assert props["MultiAZ"] is True and props["Port"] == 5432
    assert props["AvailabilityZone"] == {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, "Zone"]}
    unpinned = worlds.evaluate(body, r.World(), environment=r.Environment())["Resources"]["Db"]["Properties"]
    assert unpinned["MultiAZ"] == lookup  # a Region left open decides nothing
