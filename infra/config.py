"""Typed, validated configuration of the staging database stack.

CDK context is the only input. Values arrive from ``cdk.json`` (typed JSON) or from
``cdk synth -c key=value`` (always strings), so every parser accepts both forms.
Every rejection is a :class:`ConfigError` that names the key, the value, the rule and a
valid example, and is raised before any construct exists, so a bad value never turns
into a jsii stack trace.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

# Context keys that belong to CDK itself (feature flags, lookups cache) rather than to us.
_CDK_OWNED_KEY = re.compile(
    r"^(@aws-cdk(-containers)?/|aws:cdk:|availability-zones:|cdk[A-Z]|acknowledged-issue-numbers$)"
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW_DAY_TIME = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MINUTES_PER_WEEK = 7 * 24 * 60

# Suffix: lower-case letters, digits and single inner hyphens. 16 characters keeps the
# longest derived name (an IAM role name, 64 characters) inside its AWS limit; naming.py
# checks every name against its own limit as well.
SUFFIX_MAX_LENGTH = 16
_SUFFIX = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,15}$")
_ENVIRONMENT_NAME = re.compile(r"^[a-z]{2,12}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{1,256}$")

# RDS instance classes a team may pick for this stack (burstable and general purpose
# classes that support Multi-AZ PostgreSQL 13 and Performance Insights).
ALLOWED_INSTANCE_CLASSES = (
    "db.t3.medium",
    "db.t3.large",
    "db.t4g.medium",
    "db.t4g.large",
    "db.m6g.large",
    "db.m6i.large",
    "db.m7g.large",
)
# PostgreSQL 13 minors RDS still creates (13.7 is gone: cfn-lint W3691, RDS refuses it).
# PostgreSQL 13 is in RDS Extended Support since 2026-03-01; see README.
CREATABLE_POSTGRES_VERSIONS = ("13.20", "13.21", "13.22", "13.23")
MONITORING_INTERVALS_SECONDS = (1, 5, 10, 15, 30, 60)
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


class ConfigError(ValueError):
    """A context value that cannot be used. The message is one line, fit for a terminal."""

    def __init__(self, *, key: str, value: object, rule: str, example: str) -> None:
        self.key = key
        self.value = value
        self.rule = rule
        self.example = example
        super().__init__(f"context key '{key}' has invalid value {value!r}: {rule} (valid example: {example})")


@dataclass(frozen=True, kw_only=True)
class MaintenanceWindow:
    """A weekly window in UTC, as RDS writes it: ``ddd:hh24:mi-ddd:hh24:mi``."""

    start_minute_of_week: int
    end_minute_of_week: int

    @property
    def duration_minutes(self) -> int:
        return (self.end_minute_of_week - self.start_minute_of_week) % MINUTES_PER_WEEK

    def rds_format(self) -> str:
        return f"{_format_minute_of_week(self.start_minute_of_week)}-{_format_minute_of_week(self.end_minute_of_week)}"


@dataclass(frozen=True, kw_only=True)
class DailyWindow:
    """A daily window in UTC, as RDS writes it: ``hh24:mi-hh24:mi``."""

    start_minute_of_day: int
    end_minute_of_day: int

    @property
    def duration_minutes(self) -> int:
        return (self.end_minute_of_day - self.start_minute_of_day) % (24 * 60)

    def rds_format(self) -> str:
        return f"{_format_minute_of_day(self.start_minute_of_day)}-{_format_minute_of_day(self.end_minute_of_day)}"

    def minutes_of_week(self) -> set[int]:
        """Every minute of the week this window covers (it repeats each day)."""
        minutes: set[int] = set()
        for day in range(7):
            start = day * 24 * 60 + self.start_minute_of_day
            minutes.update((start + m) % MINUTES_PER_WEEK for m in range(self.duration_minutes))
        return minutes


@dataclass(frozen=True, kw_only=True)
class MigrationSource:
    """The dev side of the dev -> staging migration; present only when migration is on."""

    dev_vpc_id: str
    dev_vpc_cidr: str
    dev_db_endpoint: str
    dev_db_port: int
    dev_route_table_ids: tuple[str, ...]
    dev_db_security_group_id: str
    # rds.logical_replication=1 on staging: lets staging publish back to dev after the
    # cut-over (reverse replication, the rollback path). Optional key, default on.
    staging_logical_replication: bool = True


@dataclass(frozen=True, kw_only=True)
class StagingDatabaseConfig:
    """Everything the staging stack varies on. Built only through :meth:`from_context`."""

    environment_name: str
    environment_suffix: str
    cost_center: str
    region: str
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    app_subnet_cidrs: tuple[str, ...]
    database_subnet_cidrs: tuple[str, ...]
    database_port: int
    instance_class: str
    postgres_version: str
    allocated_storage_gib: int
    max_allocated_storage_gib: int
    backup_retention_days: int
    backup_window: DailyWindow
    maintenance_window: MaintenanceWindow
    monitoring_interval_seconds: int
    performance_insights_enabled: bool
    max_connections: int
    shared_buffers_mib: int
    log_retention_days: int
    cpu_alarm_threshold_percent: float
    free_storage_alarm_threshold_gib: int
    alarm_evaluation_periods: int
    alarm_period_minutes: int
    kms_pending_window_days: int
    alarm_email_addresses: tuple[str, ...] = field(default_factory=tuple)
    migration: MigrationSource | None = None

    @property
    def postgres_major_version(self) -> str:
        return self.postgres_version.split(".")[0]

    @property
    def shared_buffers_rds_pages(self) -> int:
        """RDS counts ``shared_buffers`` in 8 kB pages: 256 MiB -> 32768."""
        return self.shared_buffers_mib * 1024 // 8

    @property
    def free_storage_alarm_threshold_bytes(self) -> int:
        """``FreeStorageSpace`` is reported in bytes: 10 GiB -> 10737418240."""
        return self.free_storage_alarm_threshold_gib * 1024**3

    @property
    def required_tags(self) -> dict[str, str]:
        return {"Environment": self.environment_name, "CostCenter": self.cost_center}

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> StagingDatabaseConfig:
        """Parse and validate CDK context. Raises :class:`ConfigError` on the first bad value."""
        unknown = unknown_context_keys(context)
        if unknown:
            close = difflib.get_close_matches(unknown[0], _PROJECT_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it or add it to infra/config.py"
            raise ConfigError(
                key=unknown[0],
                value=context[unknown[0]],
                rule=f"is not a known context key; {hint}",
                example=close[0] if close else "environmentSuffix",
            )
        reader = _ContextReader(context)
        region = reader.get("region", _parse_region, example="us-east-1")
        vpc_cidr = reader.get("vpcCidr", _parse_cidr, example="10.1.0.0/16")
        vpc_network = ipaddress.ip_network(vpc_cidr)
        azs = reader.get("availabilityZones", _azs_parser(region), example='["us-east-1a","us-east-1b","us-east-1c"]')
        subnet_example = '["10.1.0.0/24","10.1.1.0/24","10.1.2.0/24"]'
        app_subnets = reader.get("appSubnetCidrs", _subnets_parser(vpc_network, len(azs)), example=subnet_example)
        db_subnets = reader.get(
            "databaseSubnetCidrs",
            _subnets_parser(vpc_network, len(azs)),
            example='["10.1.10.0/24","10.1.11.0/24","10.1.12.0/24"]',
        )
        _reject_overlaps({"appSubnetCidrs": app_subnets, "databaseSubnetCidrs": db_subnets})
        maintenance = reader.get("maintenanceWindow", _parse_maintenance_window, example="sun:08:00-sun:10:00")
        backup = reader.get("backupWindow", _backup_window_parser(maintenance), example="05:00-06:00")
        allocated = reader.get("allocatedStorageGiB", _int_in(20, 65536), example="100")
        free_storage_threshold = reader.get(
            "freeStorageAlarmThresholdGiB", _int_in(1, allocated - 1, what="allocatedStorageGiB - 1"), example="10"
        )
        migration = reader.get_optional("migration", _parse_migration(vpc_network), example=_MIGRATION_EXAMPLE)
        config = cls(
            environment_name=reader.get(
                "environmentName", _regex(_ENVIRONMENT_NAME, "2-12 lower-case letters"), example="staging"
            ),
            environment_suffix=reader.get("environmentSuffix", _parse_suffix, example="pr-42"),
            cost_center=reader.get(
                "costCenter", _regex(_TAG_VALUE, "1-256 tag-value characters"), example="engineering"
            ),
            region=region,
            availability_zones=azs,
            vpc_cidr=vpc_cidr,
            app_subnet_cidrs=app_subnets,
            database_subnet_cidrs=db_subnets,
            database_port=reader.get("databasePort", _int_in(1150, 65535), example="5432"),
            instance_class=reader.get("instanceClass", _one_of(ALLOWED_INSTANCE_CLASSES), example="db.t3.medium"),
            postgres_version=reader.get("postgresVersion", _one_of(CREATABLE_POSTGRES_VERSIONS), example="13.23"),
            allocated_storage_gib=allocated,
            max_allocated_storage_gib=reader.get(
                "maxAllocatedStorageGiB", _int_in(allocated, 65536, what="allocatedStorageGiB"), example="200"
            ),
            backup_retention_days=reader.get("backupRetentionDays", _int_in(7, 35), example="7"),
            backup_window=backup,
            maintenance_window=maintenance,
            monitoring_interval_seconds=reader.get(
                "monitoringIntervalSeconds", _one_of(MONITORING_INTERVALS_SECONDS), example="60"
            ),
            performance_insights_enabled=reader.get("performanceInsightsEnabled", _parse_bool, example="true"),
            max_connections=reader.get("maxConnections", _int_in(6, 8388607), example="200"),
            shared_buffers_mib=reader.get("sharedBuffersMiB", _int_in(16, 262144), example="256"),
            log_retention_days=reader.get("logRetentionDays", _one_of(LOG_RETENTION_DAYS), example="365"),
            cpu_alarm_threshold_percent=reader.get("cpuAlarmThresholdPercent", _float_in(1, 99), example="80"),
            free_storage_alarm_threshold_gib=free_storage_threshold,
            alarm_evaluation_periods=reader.get("alarmEvaluationPeriods", _int_in(1, 24), example="3"),
            alarm_period_minutes=reader.get("alarmPeriodMinutes", _one_of((1, 5, 10, 15, 30, 60)), example="5"),
            kms_pending_window_days=reader.get("kmsPendingWindowDays", _int_in(7, 30), example="30"),
            alarm_email_addresses=reader.get(
                "alarmEmailAddresses", _parse_emails, example='["dba-oncall@example.com"]'
            ),
            migration=migration,
        )
        return config


# --------------------------------------------------------------------------- reading


class _ContextReader:
    def __init__(self, context: Mapping[str, Any]) -> None:
        self._context = context

    def get(self, key: str, parse: Callable[[str, Any], T], *, example: str) -> T:
        if key not in self._context or self._context[key] is None:
            raise ConfigError(key=key, value=None, rule="is required (set it in cdk.json or with -c)", example=example)
        return self._parse(key, parse, example)

    def get_optional(self, key: str, parse: Callable[[str, Any], T], *, example: str) -> T | None:
        raw = self._context.get(key)
        if raw is None or raw in ("", {}):
            return None
        return self._parse(key, parse, example)

    def _parse(self, key: str, parse: Callable[[str, Any], T], example: str) -> T:
        raw = self._context[key]
        try:
            return parse(key, raw)
        except _InvalidValueError as invalid:
            raise ConfigError(
                key=invalid.key or key,
                value=invalid.value if invalid.key else raw,
                rule=invalid.rule,
                example=invalid.example or example,
            ) from None


class _InvalidValueError(Exception):
    def __init__(self, rule: str, *, key: str | None = None, value: object = None, example: str | None = None) -> None:
        super().__init__(rule)
        self.rule = rule
        self.key = key
        self.value = value
        self.example = example


def _json_if_string(raw: Any, expected: type) -> Any:
    """``-c key=[...]`` arrives as a string; decode JSON when a list or object is expected."""
    if isinstance(raw, str) and expected in (list, dict):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise _InvalidValueError(f"must be a JSON {expected.__name__}") from None
    return raw


def _parse_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _InvalidValueError("must be an integer, not a boolean")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
        return int(raw.strip())
    raise _InvalidValueError("must be an integer")


def _int_in(low: int, high: int, *, what: str | None = None) -> Callable[[str, Any], int]:
    def parse(_key: str, raw: Any) -> int:
        value = _parse_int(raw)
        if not low <= value <= high:
            bound = f" ({what})" if what else ""
            raise _InvalidValueError(f"must be an integer from {low} to {high}{bound}")
        return value

    return parse


def _float_in(low: float, high: float) -> Callable[[str, Any], float]:
    def parse(_key: str, raw: Any) -> float:
        if isinstance(raw, bool):
            raise _InvalidValueError("must be a number, not a boolean")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise _InvalidValueError("must be a number") from None
        if not low <= value <= high:
            raise _InvalidValueError(f"must be a number from {low:g} to {high:g}")
        return value

    return parse


def _parse_bool(_key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise _InvalidValueError("must be true or false")


def _one_of(allowed: tuple[T, ...]) -> Callable[[str, Any], T]:
    def parse(_key: str, raw: Any) -> T:
        for candidate in allowed:
            if isinstance(candidate, int) and not isinstance(candidate, bool):
                try:
                    if _parse_int(raw) == candidate:
                        return candidate
                except _InvalidValueError:
                    continue
            elif raw == candidate:
                return candidate
        raise _InvalidValueError("must be one of " + ", ".join(str(a) for a in allowed))

    return parse


def _regex(pattern: re.Pattern[str], description: str) -> Callable[[str, Any], str]:
    def parse(_key: str, raw: Any) -> str:
        if not isinstance(raw, str) or not pattern.fullmatch(raw):
            raise _InvalidValueError(f"must be {description}")
        return raw

    return parse


def _parse_suffix(_key: str, raw: Any) -> str:
    rule = (
        f"must be 1-{SUFFIX_MAX_LENGTH} characters of a-z, 0-9 and single inner hyphens, "
        "so every derived resource name fits its AWS limit"
    )
    if not isinstance(raw, str) or not _SUFFIX.fullmatch(raw):
        raise _InvalidValueError(rule)
    return raw


def _parse_region(_key: str, raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", raw):
        raise _InvalidValueError("must be an AWS region code")
    if raw != "us-east-1":
        raise _InvalidValueError("must be us-east-1: the staging database is specified for us-east-1")
    return raw


def _parse_cidr(_key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _InvalidValueError("must be an IPv4 CIDR string")
    try:
        network = ipaddress.IPv4Network(raw, strict=True)
    except ValueError:
        raise _InvalidValueError("must be an IPv4 network in CIDR form with no host bits set") from None
    if not network.is_private or not 16 <= network.prefixlen <= 28:
        raise _InvalidValueError("must be a private IPv4 network with a /16 to /28 prefix (a VPC's allowed range)")
    return str(network)


def _azs_parser(region: str) -> Callable[[str, Any], tuple[str, ...]]:
    def parse(_key: str, raw: Any) -> tuple[str, ...]:
        raw = _json_if_string(raw, list)
        if not isinstance(raw, list) or len(raw) != 3 or len(set(raw)) != 3:
            raise _InvalidValueError("must be a list of exactly three distinct availability zones")
        for az in raw:
            if not isinstance(az, str) or not re.fullmatch(re.escape(region) + r"[a-z]", az):
                raise _InvalidValueError(f"every zone must be in region {region} (e.g. {region}a)")
        return tuple(raw)

    return parse


def _subnets_parser(
    vpc: ipaddress.IPv4Network | ipaddress.IPv6Network, count: int
) -> Callable[[str, Any], tuple[str, ...]]:
    def parse(_key: str, raw: Any) -> tuple[str, ...]:
        raw = _json_if_string(raw, list)
        if not isinstance(raw, list) or len(raw) != count:
            raise _InvalidValueError(f"must be a list of {count} CIDRs, one per availability zone")
        networks = []
        for item in raw:
            if not isinstance(item, str):
                raise _InvalidValueError("every item must be a CIDR string")
            try:
                network = ipaddress.IPv4Network(item, strict=True)
            except ValueError:
                raise _InvalidValueError(
                    f"{item!r} is not an IPv4 network in CIDR form with no host bits set"
                ) from None
            if not network.subnet_of(vpc):  # type: ignore[arg-type]
                raise _InvalidValueError(f"{item} is outside the VPC CIDR {vpc}")
            if not 16 <= network.prefixlen <= 28:
                raise _InvalidValueError(f"{item} must have a /16 to /28 prefix (a subnet's allowed range)")
            networks.append(network)
        for i, a in enumerate(networks):
            for b in networks[i + 1 :]:
                if a.overlaps(b):
                    raise _InvalidValueError(f"{a} overlaps {b}")
        return tuple(str(n) for n in networks)

    return parse


def _reject_overlaps(groups: dict[str, tuple[str, ...]]) -> None:
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for key, cidrs in groups.items():
        for cidr in cidrs:
            network = ipaddress.IPv4Network(cidr)
            for other_key, other in seen:
                if other_key != key and network.overlaps(other):
                    raise ConfigError(
                        key=key,
                        value=list(cidrs),
                        rule=f"{network} overlaps {other} from '{other_key}'",
                        example='["10.1.0.0/24","10.1.1.0/24","10.1.2.0/24"]',
                    )
            seen.append((key, network))


def _parse_maintenance_window(_key: str, raw: Any) -> MaintenanceWindow:
    if not isinstance(raw, str) or raw.count("-") != 1:
        raise _InvalidValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC")
    start_text, end_text = raw.lower().split("-")
    start, end = _WINDOW_DAY_TIME.fullmatch(start_text), _WINDOW_DAY_TIME.fullmatch(end_text)
    if not start or not end:
        raise _InvalidValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC")
    window = MaintenanceWindow(start_minute_of_week=_minute_of_week(start), end_minute_of_week=_minute_of_week(end))
    if window.duration_minutes < 30:
        raise _InvalidValueError("must last at least 30 minutes (RDS rule)")
    if window.duration_minutes > 24 * 60:
        raise _InvalidValueError("must last at most 24 hours (RDS rule)")
    return window


def _backup_window_parser(maintenance: MaintenanceWindow) -> Callable[[str, Any], DailyWindow]:
    def parse(_key: str, raw: Any) -> DailyWindow:
        if not isinstance(raw, str) or raw.count("-") != 1:
            raise _InvalidValueError("must be hh24:mi-hh24:mi in UTC")
        start_text, end_text = raw.split("-")
        start, end = _HH_MM.fullmatch(start_text), _HH_MM.fullmatch(end_text)
        if not start or not end:
            raise _InvalidValueError("must be hh24:mi-hh24:mi in UTC")
        window = DailyWindow(
            start_minute_of_day=int(start[1]) * 60 + int(start[2]),
            end_minute_of_day=int(end[1]) * 60 + int(end[2]),
        )
        if window.duration_minutes < 30:
            raise _InvalidValueError("must last at least 30 minutes (RDS rule)")
        maintenance_minutes = {
            (maintenance.start_minute_of_week + m) % MINUTES_PER_WEEK for m in range(maintenance.duration_minutes)
        }
        if window.minutes_of_week() & maintenance_minutes:
            raise _InvalidValueError(f"must not overlap the maintenance window {maintenance.rds_format()} (RDS rule)")
        return window

    return parse


def _parse_emails(_key: str, raw: Any) -> tuple[str, ...]:
    raw = _json_if_string(raw, list)
    if not isinstance(raw, list) or not all(
        isinstance(a, str) and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", a) for a in raw
    ):
        raise _InvalidValueError("must be a list of e-mail addresses (may be empty)")
    return tuple(sorted(set(raw)))


# The documented example of the `migration` context: shown in error messages, and the one
# migration-on context that tests, snapshots and the rehearsal synthesize.
MIGRATION_EXAMPLE: dict[str, Any] = {
    "devVpcId": "vpc-0a1b2c3d4e5f60718",
    "devVpcCidr": "10.0.0.0/16",
    "devDbEndpoint": "payments-dev.abc.us-east-1.rds.amazonaws.com",
    "devDbPort": 5432,
    "devRouteTableIds": ["rtb-0a1b2c3d4e5f60718"],
    "devDbSecurityGroupId": "sg-0a1b2c3d4e5f60718",
}
_MIGRATION_EXAMPLE = json.dumps(MIGRATION_EXAMPLE, separators=(",", ":"))
_MIGRATION_KEYS = ("devVpcId", "devVpcCidr", "devDbEndpoint", "devDbPort", "devRouteTableIds", "devDbSecurityGroupId")
_MIGRATION_OPTIONAL_KEYS = ("stagingLogicalReplication",)


def _parse_migration(
    staging_vpc: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> Callable[[str, Any], MigrationSource]:
    def parse(key: str, raw: Any) -> MigrationSource:
        raw = _json_if_string(raw, dict)
        if not isinstance(raw, dict):
            raise _InvalidValueError("must be an object with the dev VPC and dev database details")
        allowed = _MIGRATION_KEYS + _MIGRATION_OPTIONAL_KEYS
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise _InvalidValueError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        for sub_key in _MIGRATION_KEYS:
            if raw.get(sub_key) in (None, "", []):
                raise _InvalidValueError(
                    "is required when migration is on",
                    key=f"{key}.{sub_key}",
                    value=raw.get(sub_key),
                    example=_MIGRATION_EXAMPLE,
                )

        def sub(sub_key: str, parse_value: Callable[[str, Any], T]) -> T:
            try:
                return parse_value(sub_key, raw[sub_key])
            except _InvalidValueError as invalid:
                raise _InvalidValueError(
                    invalid.rule, key=f"{key}.{sub_key}", value=raw[sub_key], example=_MIGRATION_EXAMPLE
                ) from None

        dev_cidr = sub("devVpcCidr", _parse_cidr)
        if ipaddress.ip_network(dev_cidr).overlaps(staging_vpc):
            raise _InvalidValueError(
                f"must not overlap the staging VPC {staging_vpc} (peering needs disjoint ranges)",
                key=f"{key}.devVpcCidr",
                value=dev_cidr,
                example=_MIGRATION_EXAMPLE,
            )
        return MigrationSource(
            dev_vpc_id=sub(
                "devVpcId", _regex(re.compile(r"^vpc-[0-9a-f]{8,17}$"), "a VPC id like vpc-0a1b2c3d4e5f60718")
            ),
            dev_vpc_cidr=dev_cidr,
            dev_db_endpoint=sub(
                "devDbEndpoint",
                _regex(
                    re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$"), "a DNS host name (the dev DB endpoint address)"
                ),
            ),
            dev_db_port=sub("devDbPort", _int_in(1150, 65535)),
            dev_route_table_ids=tuple(sub("devRouteTableIds", _route_table_ids)),
            dev_db_security_group_id=sub(
                "devDbSecurityGroupId",
                _regex(re.compile(r"^sg-[0-9a-f]{8,17}$"), "a security group id like sg-0a1b2c3d4e5f60718"),
            ),
            staging_logical_replication=sub("stagingLogicalReplication", _parse_bool)
            if "stagingLogicalReplication" in raw
            else True,
        )

    return parse


def _route_table_ids(_key: str, raw: Any) -> list[str]:
    raw = _json_if_string(raw, list)
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(r, str) and re.fullmatch(r"rtb-[0-9a-f]{8,17}", r) for r in raw)
    ):
        raise _InvalidValueError("must be a non-empty list of route table ids like rtb-0a1b2c3d4e5f60718")
    return sorted(set(raw))


def _minute_of_week(match: re.Match[str]) -> int:
    return DAYS.index(match[1]) * 24 * 60 + int(match[2]) * 60 + int(match[3])


def _format_minute_of_week(minute: int) -> str:
    day, rest = divmod(minute, 24 * 60)
    return f"{DAYS[day]}:{_format_minute_of_day(rest)}"


def _format_minute_of_day(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def project_context_keys() -> tuple[str, ...]:
    """Keys this project owns in cdk.json, in the order the README documents them."""
    return _PROJECT_KEYS


def unknown_context_keys(context: Mapping[str, Any]) -> list[str]:
    """Context keys that are neither ours nor CDK's: almost always a typo of one of ours."""
    return sorted(k for k in context if k not in _PROJECT_KEYS and not _CDK_OWNED_KEY.match(k))


_PROJECT_KEYS = (
    "environmentName",
    "environmentSuffix",
    "costCenter",
    "region",
    "availabilityZones",
    "vpcCidr",
    "appSubnetCidrs",
    "databaseSubnetCidrs",
    "databasePort",
    "instanceClass",
    "postgresVersion",
    "allocatedStorageGiB",
    "maxAllocatedStorageGiB",
    "backupRetentionDays",
    "backupWindow",
    "maintenanceWindow",
    "monitoringIntervalSeconds",
    "performanceInsightsEnabled",
    "maxConnections",
    "sharedBuffersMiB",
    "logRetentionDays",
    "cpuAlarmThresholdPercent",
    "freeStorageAlarmThresholdGiB",
    "alarmEvaluationPeriods",
    "alarmPeriodMinutes",
    "kmsPendingWindowDays",
    "alarmEmailAddresses",
    "migration",
)
