"""Network: the staging VPC with private application and isolated database subnets.

No internet gateway and no NAT: neither tier has a route to the internet, and nothing
gets a public IP. Application workloads reach Secrets Manager (for the DB secret) through
an interface endpoint in their own subnets. Subnet CIDRs come from context and are laid
down exactly (``ContextSubnetCidrs``), so the database security group can name the
application subnets by literal CIDR instead of a token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.naming import NameKind, ResourceNamer

APP_SUBNET_GROUP = "app"
DATABASE_SUBNET_GROUP = "database"


@jsii.implements(ec2.IIpAddresses)
class ContextSubnetCidrs:
    """Allocates the VPC and every subnet the exact CIDR given in context.

    CDK's own ``IpAddresses.cidr`` carves subnets in order by mask; we need the CIDRs
    the team configured (they are the SG's allowed sources and the migration's routes).
    """

    def __init__(
        self, *, vpc_cidr: str, subnet_cidrs: Mapping[str, Sequence[str]], availability_zones: Sequence[str]
    ) -> None:
        self._vpc_cidr = vpc_cidr
        self._subnet_cidrs = subnet_cidrs
        self._availability_zones = list(availability_zones)

    def allocate_vpc_cidr(self) -> ec2.VpcIpamOptions:
        return ec2.VpcIpamOptions(cidr_block=self._vpc_cidr)

    def allocate_subnets_cidr(
        self, *, requested_subnets: Sequence[ec2.RequestedSubnet | dict[str, Any]], vpc_cidr: str
    ) -> ec2.SubnetIpamOptions:
        allocated = []
        for request in requested_subnets:
            assert isinstance(request, ec2.RequestedSubnet), "jsii hands structs over as RequestedSubnet"
            group = request.configuration.name
            zone_index = self._availability_zones.index(request.availability_zone)
            allocated.append(ec2.AllocatedSubnet(cidr=self._subnet_cidrs[group][zone_index]))
        return ec2.SubnetIpamOptions(allocated_subnets=allocated)


class StagingNetwork(Construct):
    """VPC, subnets, flow logs, closed default SG and the Secrets Manager endpoint."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        namer: ResourceNamer,
        vpc_cidr: str,
        availability_zones: Sequence[str],
        app_subnet_cidrs: Sequence[str],
        database_subnet_cidrs: Sequence[str],
        encryption_key: kms.IKey,
        flow_log_group_name: str,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id_)
        self.app_subnet_cidrs = tuple(app_subnet_cidrs)
        self.database_subnet_cidrs = tuple(database_subnet_cidrs)
        mask = int(app_subnet_cidrs[0].split("/")[1])
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ContextSubnetCidrs(
                vpc_cidr=vpc_cidr,
                subnet_cidrs={APP_SUBNET_GROUP: app_subnet_cidrs, DATABASE_SUBNET_GROUP: database_subnet_cidrs},
                availability_zones=availability_zones,
            ),
            # Literal AZs: an env-agnostic stack would otherwise get only two (Fn::GetAZs).
            availability_zones=list(availability_zones),
            nat_gateways=0,
            restrict_default_security_group=True,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=APP_SUBNET_GROUP, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=mask
                ),
                ec2.SubnetConfiguration(
                    name=DATABASE_SUBNET_GROUP,
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=int(database_subnet_cidrs[0].split("/")[1]),
                ),
            ],
        )
        self.app_subnets = ec2.SubnetSelection(subnet_group_name=APP_SUBNET_GROUP)
        self.database_subnets = ec2.SubnetSelection(subnet_group_name=DATABASE_SUBNET_GROUP)

        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            log_group_name=flow_log_group_name,
            encryption_key=encryption_key,
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        flow_log_role = _flow_log_role(self, namer=namer, log_group=self.flow_log_group)
        ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group, flow_log_role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
            max_aggregation_interval=ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
        )

        endpoint_sg = ec2.SecurityGroup(
            self,
            "SecretsManagerEndpointSecurityGroup",
            vpc=self.vpc,
            security_group_name=namer.name("sg-endpoint", kind=NameKind.SECURITY_GROUP),
            description="HTTPS to the Secrets Manager endpoint from the staging application subnets",
            allow_all_outbound=False,
        )
        for cidr in app_subnet_cidrs:
            endpoint_sg.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), f"HTTPS from application subnet {cidr}"
            )
        endpoint = self.vpc.add_interface_endpoint(
            "SecretsManagerEndpoint",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            subnets=self.app_subnets,
            security_groups=[endpoint_sg],
            private_dns_enabled=True,
            open=False,
        )
        # Without a policy the endpoint gets AWS's default one: every principal, of any account,
        # every action. Only this account's principals read this account's secrets through it.
        endpoint.add_to_policy(
            iam.PolicyStatement(
                sid="ReadSecretsOfThisAccountOnly",
                principals=[iam.AccountRootPrincipal()],
                actions=["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                resources=["*"],
                conditions={"StringEquals": {"aws:ResourceAccount": Stack.of(self).account}},
            )
        )


def _flow_log_role(scope: Construct, *, namer: ResourceNamer, log_group: logs.LogGroup) -> iam.IRole:
    """A role whose only permissions are a customer-managed policy on this log group.

    ``without_policy_updates`` stops CDK adding its own inline DefaultPolicy, so the
    permissions are exactly the reviewed ones below.
    """
    role = iam.Role(
        scope,
        "FlowLogRole",
        role_name=namer.name("role-flowlogs", kind=NameKind.IAM_ROLE),
        assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
        description="Lets VPC Flow Logs write to the staging flow log group",
        max_session_duration=Duration.hours(1),
    )
    policy = iam.ManagedPolicy(
        scope,
        "FlowLogPolicy",
        managed_policy_name=namer.name("policy-flowlogs", kind=NameKind.IAM_MANAGED_POLICY),
        description="Write VPC flow log records to the staging flow log group only",
        statements=[
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],  # CDK renders it as "...:log-group:<name>:*"
            ),
        ],
    )
    role.add_managed_policy(policy)
    return role.without_policy_updates()
