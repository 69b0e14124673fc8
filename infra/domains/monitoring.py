"""Monitoring: the two spec alarms, their encrypted SNS topic, and the database dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.naming import NameKind, ResourceNamer


class DatabaseMonitoring(Construct):
    """CPU > threshold and FreeStorageSpace < threshold alarms, topic and dashboard."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        namer: ResourceNamer,
        instance: rds.DatabaseInstance,
        encryption_key: kms.IKey,
        cpu_threshold_percent: float,
        free_storage_threshold_bytes: int,
        evaluation_periods: int,
        period: Duration,
        alarm_email_addresses: Sequence[str],
    ) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=namer.name("sns-alarms", kind=NameKind.SNS_TOPIC),
            display_name=f"{namer.environment} payments database alarms",
            master_key=encryption_key,
            enforce_ssl=True,
        )
        for address in alarm_email_addresses:
            self.topic.add_subscription(subscriptions.EmailSubscription(address))
        action = cloudwatch_actions.SnsAction(self.topic)

        self.cpu_alarm = cloudwatch.Alarm(
            self,
            "CpuAlarm",
            alarm_name=namer.name("alarm-cpu", kind=NameKind.ALARM),
            alarm_description=f"CPU utilization of {instance.instance_identifier} above {cpu_threshold_percent:g}%",
            metric=instance.metric_cpu_utilization(period=period, statistic=cloudwatch.Stats.AVERAGE),
            threshold=cpu_threshold_percent,
            # "above 80%" is strictly greater; CDK's default would be >=.
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            # A gap in CPU data (reboot, failover) is not itself high CPU.
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.free_storage_alarm = cloudwatch.Alarm(
            self,
            "FreeStorageAlarm",
            alarm_name=namer.name("alarm-freestorage", kind=NameKind.ALARM),
            alarm_description=(
                f"Free storage of {instance.instance_identifier} below {free_storage_threshold_bytes} bytes "
                f"({free_storage_threshold_bytes / 1024**3:g} GiB)"
            ),
            metric=instance.metric_free_storage_space(period=period, statistic=cloudwatch.Stats.MINIMUM),
            # FreeStorageSpace is reported in bytes.
            threshold=free_storage_threshold_bytes,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=evaluation_periods,
            # No storage data means we cannot see the disk: page rather than stay silent.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        for alarm in (self.cpu_alarm, self.free_storage_alarm):
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=namer.name("dashboard", kind=NameKind.DASHBOARD),
            default_interval=Duration.hours(3),
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="CPU utilization (%)",
                        left=[self.cpu_alarm.metric],
                        left_annotations=[self.cpu_alarm.to_annotation()],
                        width=12,
                    ),
                    cloudwatch.GraphWidget(
                        title="Free storage (bytes)",
                        left=[self.free_storage_alarm.metric],
                        left_annotations=[self.free_storage_alarm.to_annotation()],
                        width=12,
                    ),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Database connections",
                        left=[instance.metric_database_connections(period=period)],
                        width=8,
                    ),
                    cloudwatch.GraphWidget(
                        title="Freeable memory (bytes)",
                        left=[instance.metric_freeable_memory(period=period)],
                        width=8,
                    ),
                    cloudwatch.GraphWidget(
                        title="Read / write latency (s)",
                        left=[
                            instance.metric("ReadLatency", period=period, statistic=cloudwatch.Stats.AVERAGE),
                            instance.metric("WriteLatency", period=period, statistic=cloudwatch.Stats.AVERAGE),
                        ],
                        width=8,
                    ),
                ],
            ],
        )
