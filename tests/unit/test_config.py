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
    config = parse()
    assert config.instance_class == "db.t3.medium"
    assert config.shared_buffers_rds_pages == 32768
    assert config.free_storage_alarm_threshold_bytes == 10737418240
    assert config.maintenance_window.rds_format() == "sun:08:00-sun:10:00"
    assert config.availability_zones == ("us-east-1a", "us-east-1b", "us-east-1c")
    assert config.required_tags == {"Environment": "staging", "CostCenter": "engineering"}
    assert config.migration is None


def test_cli_strings_are_accepted_like_json_values() -> None:
    # `cdk synth -c key=value` always delivers strings.
    config = parse(
        backupRetentionDays="14",
        performanceInsightsEnabled="false",
        appSubnetCidrs='["10.1.100.0/24","10.1.101.0/24","10.1.102.0/24"]',
        cpuAlarmThresholdPercent="75.5",
    )
    assert config.backup_retention_days == 14
    assert config.performance_insights_enabled is False
    assert config.app_subnet_cidrs == ("10.1.100.0/24", "10.1.101.0/24", "10.1.102.0/24")
    assert config.cpu_alarm_threshold_percent == 75.5


INVALID = [
    ("environmentSuffix", "Main", "a-z, 0-9"),
    ("environmentSuffix", "pr_42", "a-z, 0-9"),
    ("environmentSuffix", "-pr42", "single inner hyphens"),
    ("environmentSuffix", "pr--42", "single inner hyphens"),
    ("environmentSuffix", "pr42-", "single inner hyphens"),
    ("environmentSuffix", "a" * 17, "1-16 characters"),
    ("environmentSuffix", "", "1-16 characters"),
    ("environmentSuffix", 42, "1-16 characters"),
    ("environmentName", "Staging", "lower-case"),
    ("costCenter", "", "tag-value"),
    ("region", "eu-west-1", "must be us-east-1"),
    ("region", "useast1", "region code"),
    ("availabilityZones", ["us-east-1a", "us-east-1b"], "exactly three"),
    ("availabilityZones", ["us-east-1a", "us-east-1a", "us-east-1b"], "exactly three distinct"),
    ("availabilityZones", ["us-east-1a", "us-east-1b", "us-west-2c"], "in region us-east-1"),
    ("vpcCidr", "10.1.0.1/16", "no host bits"),
    ("vpcCidr", "8.8.0.0/16", "private"),
    ("vpcCidr", "10.0.0.0/8", "/16 to /28"),
    ("appSubnetCidrs", ["10.1.0.0/24", "10.1.1.0/24"], "3 CIDRs"),
    ("appSubnetCidrs", ["10.0.0.0/24", "10.1.1.0/24", "10.1.2.0/24"], "outside the VPC CIDR"),
    ("appSubnetCidrs", ["10.1.0.0/24", "10.1.0.0/25", "10.1.2.0/24"], "overlaps"),
    ("appSubnetCidrs", "not json", "JSON list"),
    ("databaseSubnetCidrs", ["10.1.10.0/30", "10.1.11.0/24", "10.1.12.0/24"], "/16 to /28"),
    ("databasePort", 80, "from 1150 to 65535"),
    ("databasePort", "abc", "integer"),
    ("databasePort", True, "not a boolean"),
    ("instanceClass", "db.r5.24xlarge", "one of db.t3.medium"),
    ("postgresVersion", "13.7", "one of 13.20"),
    ("postgresVersion", 13.23, "one of 13.20"),
    ("allocatedStorageGiB", 10, "from 20 to 65536"),
    ("maxAllocatedStorageGiB", 50, "(allocatedStorageGiB)"),
    ("backupRetentionDays", 6, "from 7 to 35"),
    ("backupRetentionDays", 36, "from 7 to 35"),
    ("backupWindow", "5:00-6:00", "hh24:mi-hh24:mi"),
    ("backupWindow", "05:00-05:15", "at least 30 minutes"),
    ("backupWindow", "08:30-09:30", "must not overlap the maintenance window sun:08:00-sun:10:00"),
    ("maintenanceWindow", "sunday:08:00-sunday:10:00", "ddd:hh24:mi-ddd:hh24:mi"),
    ("maintenanceWindow", "sun:08:00-sun:08:10", "at least 30 minutes"),
    ("maintenanceWindow", "sun:25:00-sun:26:00", "ddd:hh24:mi-ddd:hh24:mi"),
    ("monitoringIntervalSeconds", 0, "one of 1, 5, 10, 15, 30, 60"),
    ("monitoringIntervalSeconds", 45, "one of 1, 5, 10, 15, 30, 60"),
    ("performanceInsightsEnabled", "yes", "true or false"),
    ("maxConnections", 5, "from 6 to 8388607"),
    ("sharedBuffersMiB", "256MB", "integer"),
    ("logRetentionDays", 366, "one of 1, 3, 5"),
    ("cpuAlarmThresholdPercent", 100, "from 1 to 99"),
    ("cpuAlarmThresholdPercent", "high", "a number"),
    ("freeStorageAlarmThresholdGiB", 100, "(allocatedStorageGiB - 1)"),
    ("alarmEvaluationPeriods", 0, "from 1 to 24"),
    ("alarmPeriodMinutes", 2, "one of 1, 5, 10"),
    ("kmsPendingWindowDays", 3, "from 7 to 30"),
    ("alarmEmailAddresses", ["not-an-address"], "e-mail addresses"),
    ("environmentSufix", "pr42", "did you mean 'environmentSuffix'"),
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
        ConfigError, match=r"'databaseSubnetCidrs' .*10.1.10.0/24 overlaps 10.1.10.0/24 from 'appSubnetCidrs'"
    ):
        parse(appSubnetCidrs=["10.1.10.0/24", "10.1.1.0/24", "10.1.2.0/24"])


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


def test_migration_dev_cidr_must_not_overlap_staging() -> None:
    with pytest.raises(ConfigError, match=r"'migration.devVpcCidr' has invalid value '10.1.0.0/16': must not overlap"):
        parse(migration={**MIGRATION, "devVpcCidr": "10.1.0.0/16"})


def test_suffix_that_would_overflow_a_name_limit_is_impossible() -> None:
    # 16 characters is the longest suffix; the longest derived name (an IAM role, 64 max) still fits.
    namer = ResourceNamer(environment="staging", suffix="a" * 16)
    assert len(namer.name("role-rds-monitoring", kind=NameKind.IAM_ROLE)) <= 64
    with pytest.raises(ConfigError, match=r"context key 'environmentSuffix'.*at most 64 characters"):
        ResourceNamer(environment="staging", suffix="a" * 40).name("role-rds-monitoring", kind=NameKind.IAM_ROLE)
