"""Network: staging VPC, three AZs, private app and isolated DB subnets, flow logs, closed default SG."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from tests.unit.conftest import resources_of_type

AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]
APP_CIDRS = ["10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24"]
DB_CIDRS = ["10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"]


def test_vpc_is_the_staging_range(template: Template) -> None:
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.1.0.0/16"})


def test_one_app_and_one_database_subnet_per_az_with_literal_cidrs(default_template: dict[str, Any]) -> None:
    subnets = resources_of_type(default_template, "AWS::EC2::Subnet").values()
    by_tier: dict[str, list[tuple[str, str]]] = {"app": [], "database": []}
    for subnet in subnets:
        props = subnet["Properties"]
        tier = next(t["Value"] for t in props["Tags"] if t["Key"] == "aws-cdk:subnet-name")
        by_tier[tier].append((props["AvailabilityZone"], props["CidrBlock"]))
    assert sorted(by_tier["app"]) == list(zip(AZS, APP_CIDRS, strict=True))
    assert sorted(by_tier["database"]) == list(zip(AZS, DB_CIDRS, strict=True))


def test_no_subnet_assigns_public_ips(default_template: dict[str, Any]) -> None:
    for subnet in resources_of_type(default_template, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


def test_nothing_routes_to_the_internet(template: Template) -> None:
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::EC2::Route"):
        template.resource_count_is(resource_type, 0)


def test_flow_logs_capture_all_traffic_to_an_encrypted_destroyable_log_group(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource(
        "AWS::Logs::LogGroup",
        {
            "Properties": {
                "LogGroupName": "/aws/vpc/flowlogs-staging-main",
                "KmsKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]},
                "RetentionInDays": 365,
            },
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )


def test_default_security_group_is_closed(template: Template) -> None:
    template.resource_count_is("Custom::VpcRestrictDefaultSG", 1)


def test_apps_reach_secrets_manager_through_a_private_endpoint(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcEndpointType": "Interface",
            "PrivateDnsEnabled": True,
            "ServiceName": "com.amazonaws.us-east-1.secretsmanager",
        },
    )
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupName": "sg-endpoint-staging-main",
            "SecurityGroupIngress": [
                {"CidrIp": cidr, "FromPort": 443, "ToPort": 443, "IpProtocol": "tcp", "Description": Match.any_value()}
                for cidr in APP_CIDRS
            ],
        },
    )
