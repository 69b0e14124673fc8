"""The RDS PostgreSQL instance, its security group, parameter group and log exports."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match, Template

from tests.unit.conftest import resources_of_type

KEY_ARN = {"Fn::GetAtt": [Match.string_like_regexp("^EncryptionKey"), "Arn"]}


def test_instance_has_every_spec_setting(template: Template) -> None:
    template.resource_count_is("AWS::RDS::DBInstance", 1)
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "DBInstanceIdentifier": "rds-staging-main",
            "DBInstanceClass": "db.t3.medium",
            "Engine": "postgres",
            "EngineVersion": "13.23",
            "MultiAZ": True,
            "DeletionProtection": True,
            "BackupRetentionPeriod": 7,
            "PreferredBackupWindow": "05:00-06:00",
            # Sunday 03:00-05:00 EST (UTC-5) written in UTC, as RDS requires.
            "PreferredMaintenanceWindow": "sun:08:00-sun:10:00",
            "AutoMinorVersionUpgrade": True,
            "StorageEncrypted": True,
            "KmsKeyId": KEY_ARN,
            "MonitoringInterval": 60,
            "MonitoringRoleArn": Match.any_value(),
            "EnableCloudwatchLogsExports": ["postgresql", "upgrade"],
            "EnableIAMDatabaseAuthentication": True,
            "CopyTagsToSnapshot": True,
            "PubliclyAccessible": False,
            "Port": "5432",
            "PerformanceInsightsKMSKeyId": KEY_ARN,
        },
    )


def test_credentials_are_managed_by_rds_in_secrets_manager_with_the_stack_key(template: Template) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "ManageMasterUserPassword": True,
            "MasterUserSecret": {"KmsKeyId": KEY_ARN},
            "MasterUserPassword": Match.absent(),
        },
    )


def test_no_plaintext_password_anywhere_in_the_template(default_template: dict[str, Any]) -> None:
    for resource in default_template["Resources"].values():
        assert "MasterUserPassword" not in resource.get("Properties", {})
    assert "{{resolve:secretsmanager" not in str(default_template)  # nothing even references a password value


def test_backup_window_does_not_overlap_the_maintenance_window(default_template: dict[str, Any]) -> None:
    props = next(iter(resources_of_type(default_template, "AWS::RDS::DBInstance").values()))["Properties"]
    backup_start, backup_end = props["PreferredBackupWindow"].split("-")
    # Maintenance is Sunday 08:00-10:00 UTC; a daily backup window must avoid 08:00-10:00.
    assert backup_end <= "08:00" or backup_start >= "10:00"


def test_database_lives_in_the_isolated_database_subnets(default_template: dict[str, Any]) -> None:
    group = next(iter(resources_of_type(default_template, "AWS::RDS::DBSubnetGroup").values()))["Properties"]
    subnet_ids = {ref["Ref"] for ref in group["SubnetIds"]}
    assert len(subnet_ids) == 3
    assert all("databaseSubnet" in logical_id for logical_id in subnet_ids)
    assert group["DBSubnetGroupName"] == "dbsubnets-staging-main"


def test_security_group_allows_only_the_app_subnets_on_the_db_port(default_template: dict[str, Any]) -> None:
    groups = [g["Properties"] for g in resources_of_type(default_template, "AWS::EC2::SecurityGroup").values()]
    db_group = next(g for g in groups if g["GroupName"] == "sg-db-staging-main")
    ingress = sorted(
        (r["CidrIp"], r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in db_group["SecurityGroupIngress"]
    )
    assert ingress == [
        ("10.1.0.0/24", "tcp", 5432, 5432),
        ("10.1.1.0/24", "tcp", 5432, 5432),
        ("10.1.2.0/24", "tcp", 5432, 5432),
    ]
    # No egress at all (CDK's placeholder rule that matches no traffic).
    assert db_group["SecurityGroupEgress"] == [
        {
            "CidrIp": "255.255.255.255/32",
            "Description": "Disallow all traffic",
            "FromPort": 252,
            "IpProtocol": "icmp",
            "ToPort": 86,
        }
    ]
    # Standalone ingress resources would bypass the rules above: there are none.
    assert resources_of_type(default_template, "AWS::EC2::SecurityGroupIngress") == {}


def test_nothing_is_open_to_the_world(default_template: dict[str, Any]) -> None:
    text = str(default_template)
    assert "0.0.0.0/0" not in text
    assert "::/0" not in text


def test_parameter_group_values_in_rds_units(template: Template) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBParameterGroup",
        {
            "DBParameterGroupName": "dbparams-staging-main",
            "Family": "postgres13",
            "Parameters": {
                "max_connections": "200",
                "shared_buffers": "32768",  # 8 kB pages: 32768 x 8 kB = 256 MB
                "rds.force_ssl": "1",
                "log_connections": "1",
                "log_disconnections": "1",
            },
        },
    )


def test_exported_logs_go_to_encrypted_destroyable_groups_created_first(default_template: dict[str, Any]) -> None:
    groups = resources_of_type(default_template, "AWS::Logs::LogGroup")
    names = {g["Properties"]["LogGroupName"]: lid for lid, g in groups.items()}
    instance = next(iter(resources_of_type(default_template, "AWS::RDS::DBInstance").values()))
    for log_type in ("postgresql", "upgrade"):
        logical_id = names[f"/aws/rds/instance/rds-staging-main/{log_type}"]
        group = groups[logical_id]
        assert group["Properties"]["RetentionInDays"] == 365
        assert "KmsKeyId" in group["Properties"]
        assert group["DeletionPolicy"] == "Delete"
        assert logical_id in instance["DependsOn"]


def test_instance_keeps_a_final_snapshot_and_is_never_retained(template: Template) -> None:
    template.has_resource("AWS::RDS::DBInstance", {"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"})


def test_engine_is_pinned_to_extended_support_explicitly(template: Template) -> None:
    template.has_resource_properties(
        "AWS::RDS::DBInstance", {"EngineLifecycleSupport": "open-source-rds-extended-support"}
    )
