"""The staging database stack: composes network, key, database and monitoring."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import LOG_RETENTION_DAYS, StagingDatabaseConfig
from infra.domains.database import EXPORTED_LOG_TYPES, PaymentsDatabase, database_log_group_name
from infra.domains.encryption import DataEncryptionKey
from infra.domains.migration import MigrationPeering, migration_parameters
from infra.domains.monitoring import DatabaseMonitoring
from infra.domains.network import StagingNetwork
from infra.naming import NameKind, ResourceNamer

# Construct ids are fixed (never derived from context) so logical ids of stateful
# resources stay stable whatever the suffix: a changed logical id would replace the DB.
STACK_ID = "StagingDatabase"


class StagingDatabaseStack(Stack):
    """One deployable unit: the staging payments database and everything it needs."""

    def __init__(self, scope: Construct, id_: str, *, config: StagingDatabaseConfig, **kwargs: Any) -> None:
        namer = ResourceNamer(environment=config.environment_name, suffix=config.environment_suffix)
        super().__init__(
            scope,
            id_,
            stack_name=namer.name("stack-database", kind=NameKind.STACK),
            description=f"{config.environment_name} RDS PostgreSQL for payments (suffix {config.environment_suffix})",
            # Region only: the template stays account-agnostic and synthesizes offline.
            env=Environment(region=config.region),
            **kwargs,
        )
        self.config = config
        self.namer = namer
        log_retention = retention_days(config.log_retention_days)
        db_identifier = namer.name("rds", kind=NameKind.DB_INSTANCE)
        flow_log_group_name = namer.log_group("aws", "vpc", namer.name("flowlogs", kind=NameKind.LOG_GROUP))
        log_group_names = [flow_log_group_name] + [
            database_log_group_name(db_identifier, t) for t in EXPORTED_LOG_TYPES
        ]

        self.encryption = DataEncryptionKey(
            self,
            "Encryption",
            namer=namer,
            region=config.region,
            pending_window_days=config.kms_pending_window_days,
            log_group_names=log_group_names,
        )
        key = self.encryption.key
        self.network = StagingNetwork(
            self,
            "Network",
            namer=namer,
            vpc_cidr=config.vpc_cidr,
            availability_zones=config.availability_zones,
            app_subnet_cidrs=config.app_subnet_cidrs,
            database_subnet_cidrs=config.database_subnet_cidrs,
            encryption_key=key,
            flow_log_group_name=flow_log_group_name,
            log_retention=log_retention,
        )
        self.database = PaymentsDatabase(
            self,
            "Database",
            config=config,
            namer=namer,
            vpc=self.network.vpc,
            database_subnets=self.network.database_subnets,
            app_subnet_cidrs=config.app_subnet_cidrs,
            encryption_key=key,
            log_retention=log_retention,
            extra_parameters=migration_parameters(config.migration),
        )
        if config.migration is not None:  # off by default: context turns the migration path on
            self.migration = MigrationPeering(
                self, "Migration", namer=namer, source=config.migration, vpc=self.network.vpc,
                database_subnets=self.network.database_subnets, database_subnet_cidrs=config.database_subnet_cidrs,
                database_security_group=self.database.security_group,
            )  # fmt: skip
        self.monitoring = DatabaseMonitoring(
            self,
            "Monitoring",
            namer=namer,
            instance=self.database.instance,
            encryption_key=key,
            cpu_threshold_percent=config.cpu_alarm_threshold_percent,
            free_storage_threshold_bytes=config.free_storage_alarm_threshold_bytes,
            evaluation_periods=config.alarm_evaluation_periods,
            period=Duration.minutes(config.alarm_period_minutes),
            alarm_email_addresses=config.alarm_email_addresses,
        )
        self._add_outputs()

    def _add_outputs(self) -> None:
        instance = self.database.instance
        secret = instance.secret
        assert secret is not None, "managed master password always yields a secret"
        outputs = {
            "DatabaseEndpointAddress": (instance.db_instance_endpoint_address, "endpoint", "DB endpoint host name"),
            "DatabasePort": (instance.db_instance_endpoint_port, "port", "DB port"),
            "DatabaseSecretArn": (secret.secret_arn, "secret-arn", "Secrets Manager ARN of the master credentials"),
            "DatabaseSecurityGroupId": (
                self.database.security_group.security_group_id,
                "sg-id",
                "DB security group id",
            ),
            "VpcId": (self.network.vpc.vpc_id, "vpc-id", "Staging VPC id"),
            "KmsKeyArn": (self.encryption.key.key_arn, "kms-arn", "ARN of the stack's KMS key"),
        }
        for output_id, (value, export_token, description) in outputs.items():
            CfnOutput(
                self,
                output_id,
                value=value,
                description=description,
                export_name=self.namer.name(f"export-{export_token}", kind=NameKind.EXPORT),
            )


def retention_days(days: int) -> logs.RetentionDays:
    """``logs.RetentionDays`` for a day count (the Python enum exposes names, not numbers)."""
    finite = [member for member in logs.RetentionDays if member is not logs.RetentionDays.INFINITE]
    return dict(zip(LOG_RETENTION_DAYS, finite, strict=True))[days]
