"""Database: the staging RDS PostgreSQL instance (L2 ``DatabaseInstance``) and its parts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.config import StagingDatabaseConfig
from infra.domains.encryption import managed_master_credentials
from infra.naming import NameKind, ResourceNamer
from infra.spec import spec

# Log types RDS for PostgreSQL can export; both go to CloudWatch Logs.
EXPORTED_LOG_TYPES = ("postgresql", "upgrade")
MASTER_USERNAME = "dbadmin"
ENHANCED_MONITORING_ACTIONS = {
    # The AWS managed AmazonRDSEnhancedMonitoringRole policy grants these on log-group:RDS*;
    # the agent only ever writes to RDSOSMetrics, so the customer-managed copy names that
    # group. The stream part stays a wildcard: RDS names one stream per instance resource id.
    "log-group:RDSOSMetrics": ("logs:CreateLogGroup", "logs:PutRetentionPolicy"),
    "log-group:RDSOSMetrics:log-stream:*": (
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:GetLogEvents",
        "logs:PutLogEvents",
    ),
}


def database_log_group_name(instance_identifier: str, log_type: str) -> str:
    """RDS writes exported logs to this fixed name; we create it first to own it."""
    return f"/aws/rds/instance/{instance_identifier}/{log_type}"


def postgres_parameters(config: StagingDatabaseConfig) -> dict[str, str]:
    """The staging parameter group, in the units RDS expects."""
    return {
        "max_connections": str(config.max_connections),
        # RDS counts shared_buffers in 8 kB pages: "256MB" is rejected, 32768 pages = 256 MiB.
        "shared_buffers": str(config.shared_buffers_rds_pages),
        "rds.force_ssl": "1",
        "log_connections": "1",
        "log_disconnections": "1",
    }


class PaymentsDatabase(Construct):
    """Multi-AZ, encrypted, deletion-protected PostgreSQL in the isolated database subnets."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        config: StagingDatabaseConfig,
        namer: ResourceNamer,
        vpc: ec2.IVpc,
        database_subnets: ec2.SubnetSelection,
        app_subnet_cidrs: Sequence[str],
        encryption_key: kms.IKey,
        log_retention: logs.RetentionDays,
        extra_parameters: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.instance_identifier = namer.name("rds", kind=NameKind.DB_INSTANCE)
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(config.postgres_version, config.postgres_major_version)
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            security_group_name=namer.name("sg-db", kind=NameKind.SECURITY_GROUP),
            description="PostgreSQL from the staging application subnets only",
            allow_all_outbound=False,
        )
        for cidr in app_subnet_cidrs:
            # Literal CIDRs (not vpc.vpc_cidr_block): reviewable, and scanners can evaluate them.
            self.security_group.add_ingress_rule(
                ec2.Peer.ipv4(cidr), ec2.Port.tcp(config.database_port), f"PostgreSQL from application subnet {cidr}"
            )

        self.parameter_group = rds.ParameterGroup(
            self,
            "ParameterGroup",
            engine=engine,
            name=namer.name("dbparams", kind=NameKind.DB_PARAMETER_GROUP),
            description=f"Staging settings for PostgreSQL {config.postgres_major_version}",
            parameters={**postgres_parameters(config), **(extra_parameters or {})},
            removal_policy=RemovalPolicy.DESTROY,
        )
        subnet_group = rds.SubnetGroup(
            self,
            "SubnetGroup",
            vpc=vpc,
            vpc_subnets=database_subnets,
            subnet_group_name=namer.name("dbsubnets", kind=NameKind.DB_SUBNET_GROUP),
            description="Isolated database subnets, one per availability zone",
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.log_groups = [
            logs.LogGroup(
                self,
                f"{log_type.capitalize()}LogGroup",
                log_group_name=database_log_group_name(self.instance_identifier, log_type),
                encryption_key=encryption_key,
                retention=log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            for log_type in EXPORTED_LOG_TYPES
        ]
        monitoring_role = _enhanced_monitoring_role(self, namer=namer)

        self.instance = rds.DatabaseInstance(
            self,
            "Instance",
            instance_identifier=self.instance_identifier,
            engine=engine,
            instance_type=ec2.InstanceType(config.instance_class.removeprefix("db.")),
            vpc=vpc,
            vpc_subnets=database_subnets,
            subnet_group=subnet_group,
            security_groups=[self.security_group],
            port=config.database_port,
            publicly_accessible=False,
            multi_az=spec().database.multi_az,
            deletion_protection=spec().database.deletion_protection,
            # Decision: SNAPSHOT, not DESTROY and never RETAIN. Deleting the stack (after
            # deletion protection is turned off) removes the instance but keeps a final
            # encrypted snapshot: for a payments database that is the auditable default.
            removal_policy=RemovalPolicy.SNAPSHOT,
            backup_retention=Duration.days(config.backup_retention_days),
            # Kept for their retention period when the instance is deleted (RDS's default deletes them at once).
            delete_automated_backups=False,
            preferred_backup_window=config.backup_window.rds_format(),
            preferred_maintenance_window=config.maintenance_window.rds_format(),
            auto_minor_version_upgrade=spec().database.auto_minor_version_upgrade,
            allow_major_version_upgrade=False,
            storage_encrypted=True,
            storage_encryption_key=encryption_key,
            storage_type=rds.StorageType.GP3,
            allocated_storage=config.allocated_storage_gib,
            max_allocated_storage=config.max_allocated_storage_gib,
            parameter_group=self.parameter_group,
            credentials=managed_master_credentials(username=MASTER_USERNAME, key=encryption_key),
            manage_master_user_password=True,
            iam_authentication=True,
            copy_tags_to_snapshot=True,
            monitoring_interval=Duration.seconds(config.monitoring_interval_seconds),
            monitoring_role=monitoring_role,
            cloudwatch_logs_exports=list(EXPORTED_LOG_TYPES),
            enable_performance_insights=config.performance_insights_enabled,
            performance_insight_encryption_key=encryption_key if config.performance_insights_enabled else None,
            performance_insight_retention=rds.PerformanceInsightRetention.DEFAULT
            if config.performance_insights_enabled
            else None,
            ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1,
            # PostgreSQL 13 is past RDS standard support: say so instead of relying on a default.
            engine_lifecycle_support=rds.EngineLifecycleSupport.OPEN_SOURCE_RDS_EXTENDED_SUPPORT,
        )
        for log_group in self.log_groups:
            # The groups must exist before RDS starts exporting, or RDS creates them unencrypted.
            self.instance.node.add_dependency(log_group)


def _enhanced_monitoring_role(scope: Construct, *, namer: ResourceNamer) -> iam.IRole:
    role = iam.Role(
        scope,
        "MonitoringRole",
        role_name=namer.name("role-rds-monitoring", kind=NameKind.IAM_ROLE),
        assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
        description="Lets RDS enhanced monitoring publish OS metrics to the RDSOSMetrics log group",
        max_session_duration=Duration.hours(1),
    )
    role.add_managed_policy(
        iam.ManagedPolicy(
            scope,
            "MonitoringPolicy",
            managed_policy_name=namer.name("policy-rds-monitoring", kind=NameKind.IAM_MANAGED_POLICY),
            description="RDS enhanced monitoring: write OS metrics to the RDSOSMetrics log group only",
            statements=[
                iam.PolicyStatement(
                    actions=list(actions),
                    resources=[f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"],
                )
                for resource, actions in ENHANCED_MONITORING_ACTIONS.items()
            ],
        )
    )
    return role.without_policy_updates()
