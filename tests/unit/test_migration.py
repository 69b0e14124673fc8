"""The migration construct: off by default; on, it opens exactly the replication path."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.app_builder import cdk_json_context
from infra.config import ConfigError, StagingDatabaseConfig
from infra.naming import follows_convention
from tests.conftest import synth_template

DEFAULTS = cdk_json_context()
DEV_CIDR = "10.0.0.0/16"
DEV_SG = "sg-0a1b2c3d4e5f60718"
DEV_TABLES = ("rtb-0a1b2c3d4e5f60718", "rtb-0b1b2c3d4e5f60719")
STAGING_DB_CIDRS = tuple(DEFAULTS["databaseSubnetCidrs"])
STAGING_APP_CIDRS = tuple(DEFAULTS["appSubnetCidrs"])
MIGRATION: dict[str, Any] = {
    "devVpcId": "vpc-0a1b2c3d4e5f60718",
    "devVpcCidr": DEV_CIDR,
    "devDbEndpoint": "payments-dev.abc123.us-east-1.rds.amazonaws.com",
    "devDbPort": 5433,  # not 5432: proves the rules follow the dev port, not the staging one
    "devRouteTableIds": list(DEV_TABLES),
    "devDbSecurityGroupId": DEV_SG,
}
PEERING = "AWS::EC2::VPCPeeringConnection"
# Resource types the migration may add; anything else appearing is a defect.
MIGRATION_TYPES = {PEERING, "AWS::EC2::Route", "AWS::EC2::SecurityGroupIngress"}


@pytest.fixture(scope="module")
def on() -> dict[str, Any]:
    return synth_template({"migration": MIGRATION})


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == resource_type}


def peering_routes(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in of_type(template, "AWS::EC2::Route").values()
        if "VpcPeeringConnectionId" in r["Properties"]
    ]


def database_route_table_refs(template: dict[str, Any]) -> set[str]:
    """Logical ids of the route tables of the staging *database* subnets."""
    associations = of_type(template, "AWS::EC2::SubnetRouteTableAssociation").values()
    subnets = of_type(template, "AWS::EC2::Subnet")
    return {
        a["Properties"]["RouteTableId"]["Ref"]
        for a in associations
        if subnets[a["Properties"]["SubnetId"]["Ref"]]["Properties"]["CidrBlock"] in STAGING_DB_CIDRS
    }


def database_security_group(template: dict[str, Any]) -> dict[str, Any]:
    [group] = [
        r["Properties"]
        for r in of_type(template, "AWS::EC2::SecurityGroup").values()
        if r["Properties"].get("GroupName", "").startswith("sg-db-")
    ]
    return dict(group)


def parameters(template: dict[str, Any]) -> dict[str, str]:
    [group] = of_type(template, "AWS::RDS::DBParameterGroup").values()
    return dict(group["Properties"]["Parameters"])


# ------------------------------------------------------------------ off by default


def test_off_by_default_adds_nothing(default_template: dict[str, Any]) -> None:
    assert not of_type(default_template, PEERING)
    assert not peering_routes(default_template)
    assert not of_type(default_template, "AWS::EC2::SecurityGroupIngress")
    assert "rds.logical_replication" not in parameters(default_template)
    assert "MigrationPeeringConnectionId" not in default_template.get("Outputs", {})
    assert not any("Migration" in lid for lid in default_template["Resources"])


# ------------------------------------------------------------------ on: exact scope


def test_on_adds_only_migration_resources_and_changes_only_db_sg_and_parameters(
    default_template: dict[str, Any], on: dict[str, Any]
) -> None:
    off_resources, on_resources = default_template["Resources"], on["Resources"]
    added = {lid: r["Type"] for lid, r in on_resources.items() if lid not in off_resources}
    changed = {lid for lid in off_resources if lid in on_resources and off_resources[lid] != on_resources[lid]}
    assert set(off_resources) <= set(on_resources), "turning migration on must not remove anything"
    assert set(added.values()) == MIGRATION_TYPES
    assert sorted(added.values()).count(PEERING) == 1
    changed_types = sorted(on_resources[lid]["Type"] for lid in changed)
    assert changed_types == ["AWS::EC2::SecurityGroup", "AWS::RDS::DBParameterGroup"]


def test_peering_is_same_account_and_region_between_staging_and_dev(on: dict[str, Any]) -> None:
    [peering] = of_type(on, PEERING).values()
    props = peering["Properties"]
    [vpc_id] = of_type(on, "AWS::EC2::VPC")
    assert props["VpcId"] == {"Ref": vpc_id}
    assert props["PeerVpcId"] == MIGRATION["devVpcId"]
    assert "PeerOwnerId" not in props and "PeerRegion" not in props and "PeerRoleArn" not in props
    tags = {t["Key"]: t["Value"] for t in props["Tags"]}
    assert tags["Name"] == "pcx-migration-staging-main"
    assert follows_convention(tags["Name"], environment="staging", suffix="main")
    assert tags["Environment"] == "staging" and tags["CostCenter"] == "engineering"


def test_routes_are_exactly_database_subnets_each_way(on: dict[str, Any]) -> None:
    [peering_id] = of_type(on, PEERING)
    routes = peering_routes(on)
    assert all(r["VpcPeeringConnectionId"] == {"Ref": peering_id} for r in routes)
    got = sorted((json.dumps(r["RouteTableId"], sort_keys=True), r["DestinationCidrBlock"]) for r in routes)
    staging_tables = database_route_table_refs(on)
    assert len(staging_tables) == 3
    expected = sorted(
        [(json.dumps({"Ref": table}, sort_keys=True), DEV_CIDR) for table in staging_tables]
        + [(json.dumps(table), cidr) for table in DEV_TABLES for cidr in STAGING_DB_CIDRS]
    )
    assert got == expected
    # Never the whole staging VPC, never the app subnets: dev reaches the DB subnets only.
    destinations = {r["DestinationCidrBlock"] for r in routes}
    assert DEFAULTS["vpcCidr"] not in destinations and not destinations & set(STAGING_APP_CIDRS)


def test_staging_db_egress_is_only_the_dev_port_to_the_dev_cidr(
    default_template: dict[str, Any], on: dict[str, Any]
) -> None:
    group = database_security_group(on)
    rules = [{k: v for k, v in rule.items() if k != "Description"} for rule in group["SecurityGroupEgress"]]
    assert rules == [{"CidrIp": DEV_CIDR, "FromPort": 5433, "IpProtocol": "tcp", "ToPort": 5433}]
    # Ingress is untouched: still the application subnets only.
    assert group["SecurityGroupIngress"] == database_security_group(default_template)["SecurityGroupIngress"]


def test_dev_db_ingress_is_only_the_staging_database_subnets_on_the_dev_port(on: dict[str, Any]) -> None:
    rules = [r["Properties"] for r in of_type(on, "AWS::EC2::SecurityGroupIngress").values()]
    assert sorted(r["CidrIp"] for r in rules) == sorted(STAGING_DB_CIDRS)
    for rule in rules:
        assert rule["GroupId"] == DEV_SG
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5433, 5433)
        assert "SourceSecurityGroupId" not in rule and "CidrIpv6" not in rule


def test_every_cidr_is_a_literal_and_none_is_wide(on: dict[str, Any]) -> None:
    cidrs = [r["DestinationCidrBlock"] for r in peering_routes(on)]
    cidrs += [r["Properties"]["CidrIp"] for r in of_type(on, "AWS::EC2::SecurityGroupIngress").values()]
    cidrs += [r["CidrIp"] for r in database_security_group(on)["SecurityGroupEgress"]]
    for cidr in cidrs:
        assert isinstance(cidr, str), f"{cidr!r} is a token, not a literal CIDR"
        assert ipaddress.ip_network(cidr).prefixlen >= 16 and ipaddress.ip_network(cidr).is_private


def test_migration_resources_are_destroyable(on: dict[str, Any]) -> None:
    for resource in on["Resources"].values():
        if resource["Type"] in MIGRATION_TYPES:
            assert resource.get("DeletionPolicy", "Delete") == "Delete"
            assert resource.get("UpdateReplacePolicy", "Delete") == "Delete"


def test_staging_parameter_group_gets_logical_replication_and_keeps_the_rest(
    default_template: dict[str, Any], on: dict[str, Any]
) -> None:
    assert parameters(on) == {**parameters(default_template), "rds.logical_replication": "1"}
    assert parameters(on)["shared_buffers"] == "32768" and parameters(on)["max_connections"] == "200"


def test_peering_id_is_an_output(on: dict[str, Any]) -> None:
    [peering_id] = of_type(on, PEERING)
    output = on["Outputs"]["MigrationPeeringConnectionId"]
    assert output["Value"] == {"Ref": peering_id}
    assert output["Export"]["Name"] == "export-pcx-id-staging-main"


def test_cdk_assertions_agree(on: dict[str, Any]) -> None:
    template = Template.from_json(on)
    template.resource_count_is(PEERING, 1)
    template.resource_count_is("AWS::EC2::SecurityGroupIngress", 3)
    template.resource_properties_count_is(
        "AWS::EC2::Route", {"VpcPeeringConnectionId": Match.any_value()}, 3 + len(DEV_TABLES) * 3
    )


def test_staging_logical_replication_can_be_turned_off() -> None:
    template = synth_template({"migration": {**MIGRATION, "stagingLogicalReplication": False}})
    assert "rds.logical_replication" not in parameters(template)
    assert len(of_type(template, PEERING)) == 1


# ------------------------------------------------------------------ invalid context


def parse(migration: object) -> StagingDatabaseConfig:
    return StagingDatabaseConfig.from_context({**DEFAULTS, "migration": migration})


@pytest.mark.parametrize("missing", sorted(MIGRATION))
def test_partial_context_names_the_missing_key(missing: str) -> None:
    partial = {k: v for k, v in MIGRATION.items() if k != missing}
    with pytest.raises(ConfigError, match=rf"^context key 'migration\.{missing}' has invalid value None: is required"):
        parse(partial)


@pytest.mark.parametrize(
    ("sub_key", "value"),
    [
        ("devVpcCidr", "10.1.0.0/16"),  # overlaps staging: peering impossible
        ("devVpcCidr", "8.8.8.0/24"),  # public
        ("devDbPort", 80),
        ("devDbSecurityGroupId", "default"),
        ("devRouteTableIds", ["main"]),
        ("devVpcId", "vpc-XYZ"),
        ("stagingLogicalReplication", "yes"),
    ],
)
def test_invalid_value_names_the_key(sub_key: str, value: object) -> None:
    with pytest.raises(ConfigError) as raised:
        parse({**MIGRATION, sub_key: value})
    assert raised.value.key == f"migration.{sub_key}"
    assert "\n" not in str(raised.value)


def test_unknown_sub_key_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"'migration' .*unknown key\(s\) devCidr"):
        parse({**MIGRATION, "devCidr": DEV_CIDR})


def test_empty_object_is_off_and_cli_json_string_is_on() -> None:
    assert parse({}).migration is None
    source = parse(json.dumps(MIGRATION)).migration
    assert source is not None and source.dev_db_port == 5433 and source.staging_logical_replication
