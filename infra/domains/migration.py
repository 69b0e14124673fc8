"""Migration: the network path for logical replication from the dev DB to the staging DB.

On only when context carries ``migration``. It opens exactly one path: the staging DB
(the subscriber) connects out to the dev DB (the publisher) on the dev DB port.

- VPC peering, same account and region (CloudFormation accepts a same-account request).
- Routes only where the replication traffic flows: the staging *database* subnets' route
  tables get the dev VPC CIDR; the dev route tables named in context get the staging
  *database* subnet CIDRs (not the staging VPC CIDR, so dev cannot reach the app tier).
- Security group rules only for that flow: staging DB SG egress to the dev CIDR on the dev
  port, dev DB SG ingress from the staging database subnets on that port. Security groups
  are stateful, so replies need no rule, and nothing opens in the other direction.

Every CIDR is a literal from context, never a token, so reviewers and scanners see it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnOutput, CfnTag, Stack
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from infra.config import MigrationSource
from infra.naming import NameKind, ResourceNamer

# Static parameter. The subscriber does not need it; staging gets it so that, after the
# cut-over, staging can publish back to dev (reverse replication keeps rollback possible
# without losing writes). Set at creation it costs no reboot; added later it would.
LOGICAL_REPLICATION_PARAMETER = "rds.logical_replication"


def migration_parameters(source: MigrationSource | None) -> dict[str, str]:
    """Parameter-group additions the migration needs on staging (none when it is off)."""
    if source is None or not source.staging_logical_replication:
        return {}
    return {LOGICAL_REPLICATION_PARAMETER: "1"}


class MigrationPeering(Construct):
    """Peering, routes and security group rules for dev -> staging logical replication."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        namer: ResourceNamer,
        source: MigrationSource,
        vpc: ec2.IVpc,
        database_subnets: ec2.SubnetSelection,
        database_subnet_cidrs: Sequence[str],
        database_security_group: ec2.SecurityGroup,
    ) -> None:
        super().__init__(scope, id_)
        port = source.dev_db_port
        self.peering = ec2.CfnVPCPeeringConnection(
            self,
            "Peering",
            vpc_id=vpc.vpc_id,
            peer_vpc_id=source.dev_vpc_id,
            # No peer_owner_id/peer_region: same account and region, accepted on creation.
            tags=[CfnTag(key="Name", value=namer.name("pcx-migration", kind=NameKind.TAG_NAME))],
        )

        # Staging side: only the database subnets route to dev.
        for index, subnet in enumerate(
            vpc.select_subnets(subnet_group_name=database_subnets.subnet_group_name).subnets
        ):
            ec2.CfnRoute(
                self,
                f"StagingDatabaseRoute{index + 1}",
                route_table_id=subnet.route_table.route_table_id,
                destination_cidr_block=source.dev_vpc_cidr,
                vpc_peering_connection_id=self.peering.ref,  # the Ref orders creation after the peering
            )

        # Dev side: only the staging database subnets are reachable, not the whole VPC.
        for table_index, route_table_id in enumerate(source.dev_route_table_ids):
            for cidr_index, cidr in enumerate(database_subnet_cidrs):
                ec2.CfnRoute(
                    self,
                    f"DevRoute{table_index + 1}To{cidr_index + 1}",
                    route_table_id=route_table_id,
                    destination_cidr_block=cidr,
                    vpc_peering_connection_id=self.peering.ref,
                )

        # The subscriber (staging DB) opens the connection: egress here, ingress on dev.
        database_security_group.add_egress_rule(
            ec2.Peer.ipv4(source.dev_vpc_cidr),
            ec2.Port.tcp(port),
            f"Logical replication to the dev database ({source.dev_db_endpoint}:{port})",
        )
        for index, cidr in enumerate(database_subnet_cidrs):
            ec2.CfnSecurityGroupIngress(
                self,
                f"DevDatabaseIngress{index + 1}",
                group_id=source.dev_db_security_group_id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ip=cidr,
                description=f"Logical replication from staging database subnet {cidr}",
            )

        # At stack level so the output's logical id is stable and readable.
        CfnOutput(
            Stack.of(self),
            "MigrationPeeringConnectionId",
            value=self.peering.ref,
            description="VPC peering connection used by the dev -> staging migration",
            export_name=namer.name("export-pcx-id", kind=NameKind.EXPORT),
        )
