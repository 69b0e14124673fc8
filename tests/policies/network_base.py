"""A small staging-shaped network for the network model's unit tests (and its policies' fixtures).

One VPC (10.1.0.0/16), three application subnets (tagged ``aws-cdk:subnet-name=app``, the plan's
CIDRs), three database subnets in a DB subnet group, one route table per subnet, the database
security group admitting the application subnets on 5432, a PostgreSQL instance, and CDK's
custom resource closing the VPC default security group. Every edit in the tests starts here.
"""

from __future__ import annotations

import copy
from typing import Any

Template = dict[str, Any]
TAGS = [{"Key": "CostCenter", "Value": "engineering"}, {"Key": "Environment", "Value": "staging"}]
APP_CIDRS = ("10.1.0.0/24", "10.1.1.0/24", "10.1.2.0/24")
DB_CIDRS = ("10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24")
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def _tier(prefix: str, tier: str, cidrs: tuple[str, ...], *, route_tables: bool) -> Template:
    resources: Template = {}
    for index, (cidr, zone) in enumerate(zip(cidrs, ZONES, strict=True), start=1):
        resources[f"{prefix}{index}"] = {"Type": "AWS::EC2::Subnet", "Properties": {
            "VpcId": ref("Vpc"), "CidrBlock": cidr, "AvailabilityZone": zone, "MapPublicIpOnLaunch": False,
            "Tags": [{"Key": "aws-cdk:subnet-name", "Value": tier}, *TAGS]}}  # fmt: skip
        if not route_tables:
            continue  # the subnet uses the VPC's main route table: local routes only
        resources[f"{prefix}Rt{index}"] = {
            "Type": "AWS::EC2::RouteTable",
            "Properties": {"VpcId": ref("Vpc"), "Tags": TAGS},
        }
        resources[f"{prefix}Rta{index}"] = {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "RouteTableId": ref(f"{prefix}Rt{index}"), "SubnetId": ref(f"{prefix}{index}")}}  # fmt: skip
    return resources


def ingress(cidr: str, port: int = 5432) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "CidrIp": cidr, "Description": f"from {cidr}"}


def staging_network(*, compact: bool = False) -> Template:
    """The network; ``compact`` (for policy fixtures, at most 16 resources): no route tables (the VPC's main
    table serves every subnet) and the restrict custom resource's handler named by a literal ARN."""
    resources: Template = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16", "EnableDnsSupport": True,
                                                        "EnableDnsHostnames": True, "Tags": TAGS}},
        **_tier("App", "app", APP_CIDRS, route_tables=not compact),
        **_tier("Db", "database", DB_CIDRS, route_tables=not compact),
        "DbSubnetGroup": {"Type": "AWS::RDS::DBSubnetGroup", "Properties": {
            "DBSubnetGroupName": "dbsubnets-staging-main", "DBSubnetGroupDescription": "database subnets",
            "SubnetIds": [ref("Db1"), ref("Db2"), ref("Db3")], "Tags": TAGS}},
        "DbSg": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupName": "sg-db-staging-main", "GroupDescription": "PostgreSQL from the application subnets",
            "VpcId": ref("Vpc"), "SecurityGroupIngress": [ingress(c) for c in APP_CIDRS], "Tags": TAGS}},
        "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "Port": "5432", "DBInstanceClass": "db.t3.medium",
            "DBSubnetGroupName": ref("DbSubnetGroup"), "VPCSecurityGroups": [getatt("DbSg", "GroupId")],
            "PubliclyAccessible": False, "Tags": TAGS}},
        "RestrictHandlerRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "lambda.amazonaws.com"}}]}, "Tags": TAGS}},
        "RestrictHandler": {"Type": "AWS::Lambda::Function", "Properties": {
            "Runtime": "nodejs20.x", "Handler": "index.handler", "Role": getatt("RestrictHandlerRole", "Arn"),
            "Code": {"ZipFile": "exports.handler = async () => {};"}, "Tags": TAGS}},
        "Restrict": {"Type": "Custom::VpcRestrictDefaultSG", "Properties": {
            "ServiceToken": getatt("RestrictHandler", "Arn"),
            "DefaultSecurityGroupId": getatt("Vpc", "DefaultSecurityGroup"), "Account": ref("AWS::AccountId")}},
    }  # fmt: skip
    if compact:
        del resources["RestrictHandlerRole"], resources["RestrictHandler"]
        resources["Restrict"]["Properties"]["ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:restrict"
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": copy.deepcopy(resources)}


def add(template: Template, logical_id: str, resource_type: str, **properties: Any) -> Template:
    template["Resources"][logical_id] = {"Type": resource_type, "Properties": properties}
    return template


def route(template: Template, logical_id: str, table: str, destination: str = "0.0.0.0/0", **target: Any) -> Template:
    return add(
        template, logical_id, "AWS::EC2::Route", RouteTableId=ref(table), DestinationCidrBlock=destination, **target
    )


def props(template: Template, logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return found
