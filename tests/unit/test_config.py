"""Every config validation: a bad context value is a one-line ConfigError naming key, value, rule, example."""

from __future__ import annotations

from typing import Any

import pytest

from infra.app_builder import cdk_json_context
from infra.config import MIGRATION_EXAMPLE, ConfigError, StagingDatabaseConfig
from infra.naming import NameKind, ResourceNamer

DEFAULTS = cdk_json_context()
MIGRATION = MIGRATION_EXAMPLE


def parse(**overrides: Any) -> StagingDatabaseConfig:
    return StagingDatabaseConfig.from_context({**DEFAULTS, **overrides})


def test_defaults_parse_to_the_spec_values() -> None:
    # Literal values on purpose: the seed spec's words, not infra/spec.toml read back.
    config = parse()
    assert config.instance_class == "db.t3.medium"
    assert config.shared_buffers_rds_pages == 32768
    assert config.free_storage_alarm_threshold_bytes == 10737418240
    assert config.maintenance_window.rds_format() == "sun:08:00-sun:10:00"
    assert config.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.required_tags == {"Environment": "staging", "CostCenter": "engineering"}
    assert config.migration is None
    assert (config.max_connections, config.monitoring_interval_seconds, config.backup_retention_days) == (200, 60, 7)
    assert (config.cpu_alarm_threshold_percent, config.vpc_cidr, config.region) == (80, "10.1.0.0/16", "us-east-1")


def test_fixed_keys_accept_the_spec_value_as_a_cli_string() -> None:
    config = parse(
        maxConnections="200", monitoringIntervalSeconds="60", instanceClass="db.t3.medium", region="us-east-1"
    )
    assert (config.max_connections, config.monitoring_interval_seconds) == (200, 60)


def test_cli_strings_are_accepted_like_json_values() -> None:
    # `cdk synth -c key=value` always delivers strings.
    config = parse(
        backupRetentionDays="7",
        performanceInsightsEnabled="false",
        databaseSubnetCidrs='["10.1.100.0/24","10.1.101.0/24","10.1.102.0/24"]',
        cpuAlarmThresholdPercent="80.0",
        alarmEvaluationPeriods="12",
    )
    assert config.backup_retention_days == 7
    assert config.performance_insights_enabled is False
    assert config.database_subnet_cidrs == ("10.1.100.0/24", "10.1.101.0/24", "10.1.102.0/24")
    assert config.cpu_alarm_threshold_percent == 80
    assert config.alarm_evaluation_periods == 12


INVALID = [
    ("environmentSuffix", "Main", "a-z, 0-9"),
    ("environmentSuffix", "pr_42", "a-z, 0-9"),
    ("environmentSuffix", "-pr42", "single inner hyphens"),
    ("environmentSuffix", "pr--42", "single inner hyphens"),
    ("environmentSuffix", "pr42-", "single inner hyphens"),
    ("environmentSuffix", "a" * 17, "1-16 characters"),
    ("environmentSuffix", "", "1-16 characters"),
    ("environmentSuffix", 42, "1-16 characters"),
    # What the spec fixes accepts exactly the spec's value (infra/spec.toml).
    ("environmentName", "Staging", "must be staging: the spec fixes it"),
    ("environmentName", "prod", "must be staging: the spec fixes it"),
    ("costCenter", "", "must be engineering: the spec fixes it"),
    ("costCenter", "finance", "must be engineering: the spec fixes it"),
    ("region", "eu-west-1", "must be us-east-1"),
    ("region", "useast1", "must be us-east-1"),
    ("availabilityZones", ["us-east-1a", "us-east-1b"], "exactly 3"),
    ("availabilityZones", ["us-east-1a", "us-east-1a", "us-east-1b"], "exactly 3 distinct"),
    ("availabilityZones", ["us-east-1a", "us-east-1b", "us-west-2c"], "in region us-east-1"),
    ("availabilityZones", "us-east-1a", "JSON list"),
    ("vpcCidr", "10.1.0.1/16", "must be 10.1.0.0/16"),
    ("vpcCidr", "8.8.0.0/16", "must be 10.1.0.0/16"),
    ("vpcCidr", "10.2.0.0/16", "must be 10.1.0.0/16: the spec fixes it (infra/spec.toml network.vpc_cidr)"),
    ("appSubnetCidrs", ["10.1.100.0/24", "10.1.101.0/24", "10.1.102.0/24"], "network.app_subnet_cidrs"),
    ("appSubnetCidrs", ["10.1.0.0/24", "10.1.1.0/24"], 'must be ["10.1.0.0/24"'),
    ("appSubnetCidrs", "not json", "JSON list"),
    ("databaseSubnetCidrs", ["10.1.10.0/24", "10.1.11.0/24"], "3 CIDRs"),
    ("databaseSubnetCidrs", ["10.0.10.0/24", "10.1.11.0/24", "10.1.12.0/24"], "outside the VPC CIDR"),
    ("databaseSubnetCidrs", ["10.1.10.0/24", "10.1.10.0/25", "10.1.12.0/24"], "overlaps"),
    ("databaseSubnetCidrs", ["10.1.10.0/30", "10.1.11.0/24", "10.1.12.0/24"], "/16 to /28"),
    ("databaseSubnetCidrs", ["10.1.10.1/24", "10.1.11.0/24", "10.1.12.0/24"], "no host bits"),
    ("databaseSubnetCidrs", [10, "10.1.11.0/24", "10.1.12.0/24"], "CIDR strings"),
    ("databaseSubnetCidrs", "not json", "JSON list"),
    ("databasePort", 80, "from 1150 to 65535"),
    ("databasePort", "abc", "integer"),
    ("databasePort", True, "not a boolean"),
    ("databasePort", 5432.5, "integer"),
    ("instanceClass", "db.r5.24xlarge", "must be db.t3.medium"),
    (
        "instanceClass",
        "db.t3.large",
        "must be db.t3.medium: the spec fixes it (infra/spec.toml database.instance_class)",
    ),
    ("postgresVersion", "13.7", "one of 13.23"),
    ("postgresVersion", "13.22", "one of 13.23"),
    ("postgresVersion", 13.23, "one of 13.23"),
    ("allocatedStorageGiB", 10, "from 20 to 65536"),
    ("maxAllocatedStorageGiB", 50, "(allocatedStorageGiB)"),
    ("backupRetentionDays", 6, "must be 7"),
    ("backupRetentionDays", 14, "must be 7: the spec fixes it"),
    ("backupRetentionDays", "seven", "integer"),
    ("backupWindow", "5:00-6:00", "hh24:mi-hh24:mi"),
    ("backupWindow", "05:00-05:15", "at least 30 minutes"),
    ("backupWindow", "08:30-09:30", "must not overlap the maintenance window sun:08:00-sun:10:00"),
    ("backupWindow", 500, "hh24:mi-hh24:mi"),
    ("maintenanceWindow", "sunday:08:00-sunday:10:00", "ddd:hh24:mi-ddd:hh24:mi"),
    ("maintenanceWindow", "sun:08:00-sun:08:10", "at least 30 minutes"),
    ("maintenanceWindow", "sun:25:00-sun:26:00", "ddd:hh24:mi-ddd:hh24:mi"),
    ("maintenanceWindow", "mon:03:00-mon:05:00", "must be sun:08:00-sun:10:00: the spec fixes it"),
    ("monitoringIntervalSeconds", 0, "must be 60"),
    ("monitoringIntervalSeconds", 30, "must be 60: the spec fixes it"),
    ("performanceInsightsEnabled", "yes", "true or false"),
    ("performanceInsightsEnabled", 1, "true or false"),
    ("maxConnections", 5, "must be 200"),
    ("maxConnections", 300, "must be 200: the spec fixes it (infra/spec.toml parameters.max_connections)"),
    ("maxConnections", "300", "must be 200"),
    ("sharedBuffersMiB", "256MB", "integer"),
    ("sharedBuffersMiB", 512, "must be 256"),
    ("logRetentionDays", 366, "one of 365, 400"),
    ("logRetentionDays", 30, "one of 365, 400"),
    ("cpuAlarmThresholdPercent", 100, "must be 80"),
    ("cpuAlarmThresholdPercent", 75.5, "must be 80: the spec fixes it"),
    ("cpuAlarmThresholdPercent", "high", "a number"),
    ("freeStorageAlarmThresholdGiB", 100, "must be 10"),
    ("freeStorageAlarmThresholdGiB", 5, "must be 10: the spec fixes it"),
    ("alarmEvaluationPeriods", 0, "from 1 to 24"),
    ("alarmPeriodMinutes", 2, "one of 1, 5, 10"),
    ("kmsPendingWindowDays", 3, "from 7 to 30"),
    ("alarmEmailAddresses", ["not-an-address"], "e-mail addresses"),
    ("environmentSufix", "pr42", "did you mean 'environmentSuffix'"),
    ("cdkNagPacks", "false", "is not a known context key"),
]


@pytest.mark.parametrize(("key", "value", "rule_fragment"), INVALID, ids=[f"{k}={v!r}"[:60] for k, v, _ in INVALID])
def test_invalid_value_names_key_value_rule_and_example(key: str, value: Any, rule_fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(**{key: value})
    message = str(caught.value)
    assert caught.value.key == key
    assert f"context key '{key}'" in message
    assert repr(value) in message
    assert rule_fragment in message
    assert "valid example: " in message
    assert "\n" not in message


def test_app_and_database_subnets_must_not_overlap() -> None:
    with pytest.raises(
        ConfigError, match=r"'databaseSubnetCidrs' .*10.1.1.0/24 overlaps 10.1.1.0/24 from 'appSubnetCidrs'"
    ):
        parse(databaseSubnetCidrs=["10.1.10.0/24", "10.1.1.0/24", "10.1.12.0/24"])


def test_missing_key_is_named() -> None:
    context = {k: v for k, v in DEFAULTS.items() if k != "maxConnections"}
    with pytest.raises(ConfigError, match=r"context key 'maxConnections' has invalid value None: is required"):
        StagingDatabaseConfig.from_context(context)


def test_migration_is_off_when_empty_and_parsed_when_complete() -> None:
    assert parse(migration={}).migration is None
    source = parse(migration=MIGRATION).migration
    assert source is not None and source.dev_vpc_cidr == "10.0.0.0/16"


@pytest.mark.parametrize("missing", sorted(MIGRATION))
def test_partial_migration_context_names_the_missing_key(missing: str) -> None:
    partial = {k: v for k, v in MIGRATION.items() if k != missing}
    with pytest.raises(
        ConfigError,
        match=rf"context key 'migration.{missing}' has invalid value None: is required when migration is on",
    ):
        parse(migration=partial)


@pytest.mark.parametrize("dev_cidr", ["10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/8"])
def test_migration_dev_cidr_is_the_spec_dev_vpc(dev_cidr: str) -> None:
    # The staging VPC itself (peering impossible), another network, a wider one: none is the dev VPC.
    with pytest.raises(
        ConfigError, match=rf"'migration.devVpcCidr' has invalid value '{dev_cidr}': must be 10.0.0.0/16: the spec"
    ):
        parse(migration={**MIGRATION, "devVpcCidr": dev_cidr})


def test_suffix_that_would_overflow_a_name_limit_is_impossible() -> None:
    # 16 characters is the longest suffix; the longest derived name (an IAM role, 64 max) still fits.
    namer = ResourceNamer(environment="staging", suffix="a" * 16)
    assert len(namer.name("role-rds-monitoring", kind=NameKind.IAM_ROLE)) <= 64
    with pytest.raises(ConfigError, match=r"context key 'environmentSuffix'.*at most 64 characters"):
        ResourceNamer(environment="staging", suffix="a" * 40).name("role-rds-monitoring", kind=NameKind.IAM_ROLE)
