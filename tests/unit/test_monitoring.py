"""Alarms (thresholds, units, operators, periods, missing data, actions), topic and dashboard."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match, Template

from tests.unit.conftest import resources_of_type

TOPIC_REF = {"Ref": Match.string_like_regexp("^MonitoringAlarmTopic")}


def test_cpu_alarm_fires_strictly_above_80_percent(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "alarm-cpu-staging-main",
            "MetricName": "CPUUtilization",
            "Namespace": "AWS/RDS",
            "Dimensions": [
                {"Name": "DBInstanceIdentifier", "Value": {"Ref": Match.string_like_regexp("^DatabaseInstance")}}
            ],
            "Threshold": 80,
            "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 3,
            "Period": 300,
            "TreatMissingData": "notBreaching",
            "AlarmActions": [TOPIC_REF],
            "OKActions": [TOPIC_REF],
        },
    )


def test_free_storage_alarm_fires_strictly_below_10_gib_in_bytes(template: Template) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "alarm-freestorage-staging-main",
            "MetricName": "FreeStorageSpace",
            "Statistic": "Minimum",
            "Threshold": 10 * 1024**3,  # 10737418240 bytes
            "ComparisonOperator": "LessThanThreshold",
            "EvaluationPeriods": 3,
            "TreatMissingData": "breaching",
            "AlarmActions": [TOPIC_REF],
        },
    )


def test_alarm_topic_is_encrypted_with_the_stack_key_and_requires_tls(template: Template) -> None:
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {
            "TopicName": "sns-alarms-staging-main",
            "KmsMasterKeyId": {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]},
        },
    )
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
                ]
            }
        },
    )


def test_dashboard_shows_the_six_database_metrics(default_template: dict[str, Any]) -> None:
    dashboard = next(iter(resources_of_type(default_template, "AWS::CloudWatch::Dashboard").values()))["Properties"]
    assert dashboard["DashboardName"] == "dashboard-staging-main"
    body = json.dumps(dashboard["DashboardBody"])
    for metric in (
        "CPUUtilization",
        "FreeStorageSpace",
        "DatabaseConnections",
        "FreeableMemory",
        "ReadLatency",
        "WriteLatency",
    ):
        assert metric in body, metric
