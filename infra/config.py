"""Typed, validated configuration of the staging database stack: pydantic v2 models over CDK context.

CDK context is the only input. Values arrive from ``cdk.json`` (typed JSON) or from
``cdk synth -c key=value`` (always strings; lists and objects as JSON), so the models run
in strict mode behind small converters that accept both forms and nothing looser (no
``"yes"`` for true, no ``1.5`` for an integer).

What the seed spec fixes or bounds comes from ``infra/spec.toml`` (infra/spec.py), the file
the compliance policies and the property tests read too: a context key the spec fixes
accepts exactly the spec's value, so any context accepted here yields a stack the gate
passes, and a value the gate would fail stops synthesis here.

Every rejection is a :class:`ConfigError` that names the key, the value, the rule and a
valid example on one line (built from pydantic's first error), and is raised before any
construct exists, so a bad value never turns into a jsii stack trace.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from infra.spec import IntRange, spec
from infra.windows import DailyWindow, MaintenanceWindow, parse_backup_window, parse_maintenance_window

SPEC = spec()

# Context keys that belong to CDK itself (feature flags, lookups cache) rather than to us.
_CDK_OWNED_KEY = re.compile(r"^(@aws-cdk(-containers)?/|aws:cdk:|availability-zones:|acknowledged-issue-numbers$)")

# Suffix: lower-case letters, digits and single inner hyphens (length: infra/spec.toml).
SUFFIX_MAX_LENGTH = SPEC.naming.suffix_max_length
_SUFFIX = re.compile(rf"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){{0,{SUFFIX_MAX_LENGTH - 1}}}$")
_SUFFIX_RULE = (
    f"must be 1-{SUFFIX_MAX_LENGTH} characters of a-z, 0-9 and single inner hyphens, "
    "so every derived resource name fits its AWS limit"
)
_EMAIL = r"[^@\s]+@[^@\s]+\.[a-z]{2,}"

# The choices context may pick from, as the spec allows them (one value where it fixes one).
ALLOWED_INSTANCE_CLASSES = (SPEC.database.instance_class,)
CREATABLE_POSTGRES_VERSIONS = SPEC.database.engine_versions
MONITORING_INTERVALS_SECONDS = (SPEC.monitoring.enhanced_monitoring_interval_seconds,)
# Every period CloudWatch Logs accepts (the stack maps them onto CDK's enum); context may
# pick those that keep logs long enough (LOG_RETENTION_DAYS_ACCEPTED).
LOG_RETENTION_DAYS = SPEC.logs.retention_days_allowed
LOG_RETENTION_DAYS_ACCEPTED = SPEC.logs.retention_days_accepted


class ConfigError(ValueError):
    """A context value that cannot be used. The message is one line, fit for a terminal."""

    def __init__(self, *, key: str, value: object, rule: str, example: str) -> None:
        self.key = key
        self.value = value
        self.rule = rule
        self.example = example
        super().__init__(f"context key '{key}' has invalid value {value!r}: {rule} (valid example: {example})")


# --------------------------------------------------------------------------- converters
# Before-validators: turn what cdk.json or `-c` delivers into the strict type, or say why not.


def _cli_int(raw: Any) -> Any:
    if isinstance(raw, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and re.fullmatch(r"[+-]?\d{1,12}", raw.strip()):
        return int(raw.strip())
    if not isinstance(raw, int):
        raise ValueError("must be an integer")
    return raw


def _cli_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("must be a number, not a boolean")
    try:
        return float(raw)
    except (TypeError, ValueError):
        raise ValueError("must be a number") from None


def _cli_bool(raw: Any) -> Any:
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if not isinstance(raw, bool):
        raise ValueError("must be true or false")
    return raw


def _cli_list(raw: Any) -> tuple[Any, ...]:
    """``-c key=[...]`` arrives as a string: decode the JSON list."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("must be a JSON list") from None
    if not isinstance(raw, list):
        raise ValueError("must be a list")
    return tuple(raw)


class _RefusalError(ValueError):
    """A validator's refusal that knows a valid example for this context (the key's fixed
    example may not be valid when the bound depends on another key)."""

    def __init__(self, rule: str, *, example: str) -> None:
        super().__init__(rule)
        self.example = example


def _between(bound: IntRange, *, what: str = "") -> Callable[[int], int]:
    def check(value: int) -> int:
        if value not in bound:
            nearest = bound.min if value < bound.min else bound.max
            raise _RefusalError(f"must be an integer {bound}{f' ({what})' if what else ''}", example=str(nearest))
        return value

    return check


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(str(c) for c in choices))
        return value

    return check


CliInt = Annotated[int, BeforeValidator(_cli_int)]
CliBool = Annotated[bool, BeforeValidator(_cli_bool)]


def _key(alias: str, *, rule: str, example: str, default: Any = ...) -> Any:
    """A context key: its rule is the message for any value of the wrong shape."""
    return Field(default, alias=alias, description=rule, examples=[example])


# --------------------------------------------------------------------------- fixed by the spec


def _fixed(where: str, *, parse: Callable[[Any], Any] | None = None) -> tuple[Any, str, str]:
    """(the value, as context writes it, the rule) of the spec.toml entry ``table.key``."""
    table, key = where.split(".")
    value = getattr(getattr(SPEC, table), key)
    shown = json.dumps(list(value)) if isinstance(value, tuple) else str(value)
    return (parse(value) if parse else value), shown, f"must be {shown}: the spec fixes it (infra/spec.toml {where})"


# Field -> (the spec's value, as context writes it, the rule). Each of these keys accepts
# exactly the spec's value: cdk.json holds it, anything else is refused.
_FIXED_BY_SPEC: dict[str, tuple[Any, str, str]] = {
    "environment_name": _fixed("environment.name"),
    "cost_center": _fixed("environment.cost_center"),
    "region": _fixed("environment.region"),
    "vpc_cidr": _fixed("network.vpc_cidr"),
    "app_subnet_cidrs": _fixed("network.app_subnet_cidrs"),
    "instance_class": _fixed("database.instance_class"),
    "backup_retention_days": _fixed("database.backup_retention_days"),
    "maintenance_window": _fixed("database.maintenance_window", parse=parse_maintenance_window),
    "monitoring_interval_seconds": _fixed("monitoring.enhanced_monitoring_interval_seconds"),
    "max_connections": _fixed("parameters.max_connections"),
    "shared_buffers_mib": _fixed("parameters.shared_buffers_mib"),
    "cpu_alarm_threshold_percent": _fixed("monitoring.cpu_alarm_threshold_percent"),
    "free_storage_alarm_threshold_gib": _fixed("monitoring.free_storage_alarm_threshold_gib"),
}
_MIGRATION_FIXED_BY_SPEC = {"dev_vpc_cidr": _fixed("network.dev_vpc_cidr")}


def _fixed_key(alias: str, field: str, fixed: Mapping[str, tuple[Any, str, str]] = _FIXED_BY_SPEC) -> Any:
    _expected, shown, rule = fixed[field]
    return _key(alias, rule=rule, example=shown)


def _check_fixed(value: Any, field: str, fixed: Mapping[str, tuple[Any, str, str]]) -> Any:
    expected, _shown, rule = fixed[field]
    if value != expected:
        raise ValueError(rule)
    return value


# --------------------------------------------------------------------------- migration

# The documented example of the `migration` context: shown in error messages, and the one
# migration-on context that tests, snapshots and the rehearsal synthesize.
MIGRATION_EXAMPLE: dict[str, Any] = {
    "devVpcId": "vpc-0a1b2c3d4e5f60718",
    "devVpcCidr": SPEC.network.dev_vpc_cidr,
    "devDbEndpoint": "payments-dev.abc.us-east-1.rds.amazonaws.com",
    "devDbPort": 5432,
    "devRouteTableIds": ["rtb-0a1b2c3d4e5f60718"],
    "devDbSecurityGroupId": "sg-0a1b2c3d4e5f60718",
}
_MIGRATION_EXAMPLE = json.dumps(MIGRATION_EXAMPLE, separators=(",", ":"))


def _list_of(item: str, rule: str, *, may_be_empty: bool) -> Callable[[Any], tuple[str, ...]]:
    """A list (or ``-c`` JSON list) of strings each matching ``item``; sorted, duplicates dropped."""
    pattern = re.compile(item)

    def parse(raw: Any) -> tuple[str, ...]:
        try:
            items = _cli_list(raw)
        except ValueError:
            raise ValueError(rule) from None
        if (not items and not may_be_empty) or not all(isinstance(i, str) and pattern.fullmatch(i) for i in items):
            raise ValueError(rule)
        return tuple(sorted(set(items)))

    return parse


_ROUTE_TABLES_RULE = "must be a non-empty list of route table ids like rtb-0a1b2c3d4e5f60718"
_EMAILS_RULE = "must be a list of e-mail addresses (may be empty)"


class MigrationSource(BaseModel):
    """The dev side of the dev -> staging migration; present only when migration is on."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    dev_vpc_id: str = Field(
        alias="devVpcId", description="must be a VPC id like vpc-0a1b2c3d4e5f60718", pattern=r"^vpc-[0-9a-f]{8,17}$"
    )
    dev_vpc_cidr: str = _fixed_key("devVpcCidr", "dev_vpc_cidr", _MIGRATION_FIXED_BY_SPEC)
    dev_db_endpoint: str = Field(
        alias="devDbEndpoint",
        description="must be a DNS host name (the dev DB endpoint address)",
        pattern=r"^[a-z0-9][a-z0-9.-]{0,252}[a-z0-9]$",
    )
    dev_db_port: Annotated[CliInt, AfterValidator(_between(SPEC.database.port))] = Field(
        alias="devDbPort", description=f"must be an integer {SPEC.database.port}"
    )
    dev_route_table_ids: Annotated[
        tuple[str, ...], BeforeValidator(_list_of(r"rtb-[0-9a-f]{8,17}", _ROUTE_TABLES_RULE, may_be_empty=False))
    ] = Field(alias="devRouteTableIds", description=_ROUTE_TABLES_RULE)
    dev_db_security_group_id: str = Field(
        alias="devDbSecurityGroupId",
        description="must be a security group id like sg-0a1b2c3d4e5f60718",
        pattern=r"^sg-[0-9a-f]{8,17}$",
    )
    # rds.logical_replication=1 on staging: lets staging publish back to dev after the
    # cut-over (reverse replication, the rollback path). Optional key, default on.
    staging_logical_replication: CliBool = Field(
        True, alias="stagingLogicalReplication", description="must be true or false"
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_missing(cls, raw: Any) -> Any:
        """An empty value of a required key reads as missing: "is required when migration is on"."""
        return {k: v for k, v in raw.items() if v not in (None, "", [])} if isinstance(raw, dict) else raw

    @field_validator("dev_vpc_cidr")
    @classmethod
    def _fixed_by_the_spec(cls, value: str, info: ValidationInfo) -> str:
        return str(_check_fixed(value, info.field_name or "", _MIGRATION_FIXED_BY_SPEC))


def _migration_or_off(raw: Any) -> Any:
    """Off (None) when absent or empty; ``-c migration={...}`` arrives as a JSON string."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else None
        except json.JSONDecodeError:
            raise ValueError("must be a JSON object with the dev VPC and dev database details") from None
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise ValueError("must be an object with the dev VPC and dev database details")
    return raw


# --------------------------------------------------------------------------- the stack's config


def _suffix(value: str) -> str:
    if not _SUFFIX.fullmatch(value):
        raise ValueError(_SUFFIX_RULE)
    return value


def _zones(raw: Any) -> tuple[str, ...]:
    count, region = SPEC.network.availability_zone_count, SPEC.environment.region
    zones = _cli_list(raw)
    if len(zones) != count or len(set(zones)) != count:
        raise ValueError(f"must be a list of exactly {count} distinct availability zones")
    if not all(isinstance(z, str) and re.fullmatch(re.escape(region) + r"[a-z]", z) for z in zones):
        raise ValueError(f"every zone must be in region {region} (e.g. {region}a)")
    return zones


def _database_subnets(cidrs: tuple[str, ...], *, app_subnets: tuple[str, ...]) -> tuple[str, ...]:
    """One subnet per zone, inside the VPC, /16-/28, pairwise disjoint and clear of the app subnets."""
    count, vpc = SPEC.network.availability_zone_count, ipaddress.IPv4Network(SPEC.network.vpc_cidr)
    if len(cidrs) != count:
        raise ValueError(f"must be a list of {count} CIDRs, one per availability zone")
    networks = []
    for cidr in cidrs:
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IPv4 network in CIDR form with no host bits set") from None
        if not network.subnet_of(vpc):
            raise ValueError(f"{cidr} is outside the VPC CIDR {vpc}")
        if network.prefixlen not in SPEC.network.subnet_prefix_length:
            raise ValueError(f"{cidr} must have a /16 to /28 prefix (a subnet's allowed range)")
        networks.append(network)
    taken = [(n, "") for n in networks] + [(ipaddress.IPv4Network(a), " from 'appSubnetCidrs'") for a in app_subnets]
    for i, network in enumerate(networks):
        for other, source in taken[i + 1 :]:
            if network.overlaps(other):
                raise ValueError(f"{network} overlaps {other}{source}")
    return tuple(str(n) for n in networks)


class StagingDatabaseConfig(BaseModel):
    """Everything the staging stack varies on. Built only through :meth:`from_context`.

    Fields are in the order of cdk.json and the README's context table; a key whose check
    needs another one (backup window -> maintenance window, database subnets -> app subnets,
    storage ceiling -> storage) comes after it.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    environment_name: str = _fixed_key("environmentName", "environment_name")
    environment_suffix: Annotated[str, AfterValidator(_suffix)] = _key(
        "environmentSuffix", rule=_SUFFIX_RULE, example="pr-42"
    )
    cost_center: str = _fixed_key("costCenter", "cost_center")
    region: str = _fixed_key("region", "region")
    availability_zones: Annotated[tuple[str, ...], BeforeValidator(_zones)] = _key(
        "availabilityZones",
        rule=f"must be a list of exactly {SPEC.network.availability_zone_count} distinct availability zones",
        example='["us-east-1a","us-east-1b","us-east-1c"]',
    )
    vpc_cidr: str = _fixed_key("vpcCidr", "vpc_cidr")
    app_subnet_cidrs: Annotated[tuple[str, ...], BeforeValidator(_cli_list)] = _fixed_key(
        "appSubnetCidrs", "app_subnet_cidrs"
    )
    database_subnet_cidrs: Annotated[tuple[str, ...], BeforeValidator(_cli_list)] = _key(
        "databaseSubnetCidrs",
        rule="must be a list of CIDR strings, one per availability zone",
        example='["10.1.10.0/24","10.1.11.0/24","10.1.12.0/24"]',
    )
    database_port: Annotated[CliInt, AfterValidator(_between(SPEC.database.port))] = _key(
        "databasePort", rule=f"must be an integer {SPEC.database.port}", example="5432"
    )
    instance_class: str = _fixed_key("instanceClass", "instance_class")
    postgres_version: Annotated[str, AfterValidator(_one_of(CREATABLE_POSTGRES_VERSIONS))] = _key(
        "postgresVersion", rule="must be one of " + ", ".join(CREATABLE_POSTGRES_VERSIONS), example="13.23"
    )
    allocated_storage_gib: Annotated[CliInt, AfterValidator(_between(SPEC.database.allocated_storage_gib))] = _key(
        "allocatedStorageGiB", rule=f"must be an integer {SPEC.database.allocated_storage_gib}", example="100"
    )
    max_allocated_storage_gib: CliInt = _key(
        "maxAllocatedStorageGiB",
        rule=f"must be an integer from allocatedStorageGiB to {SPEC.database.allocated_storage_gib.max}",
        example="200",
    )
    backup_retention_days: CliInt = _fixed_key("backupRetentionDays", "backup_retention_days")
    maintenance_window: Annotated[MaintenanceWindow, BeforeValidator(parse_maintenance_window)] = _fixed_key(
        "maintenanceWindow", "maintenance_window"
    )
    backup_window: DailyWindow = _key(
        "backupWindow", rule="must be hh24:mi-hh24:mi in UTC, clear of the maintenance window", example="05:00-06:00"
    )
    monitoring_interval_seconds: CliInt = _fixed_key("monitoringIntervalSeconds", "monitoring_interval_seconds")
    performance_insights_enabled: CliBool = _key(
        "performanceInsightsEnabled", rule="must be true or false", example="true"
    )
    max_connections: CliInt = _fixed_key("maxConnections", "max_connections")
    shared_buffers_mib: CliInt = _fixed_key("sharedBuffersMiB", "shared_buffers_mib")
    log_retention_days: Annotated[CliInt, AfterValidator(_one_of(LOG_RETENTION_DAYS_ACCEPTED))] = _key(
        "logRetentionDays",
        rule="must be one of " + ", ".join(map(str, LOG_RETENTION_DAYS_ACCEPTED)),
        example=str(SPEC.logs.retention_days_min),
    )
    cpu_alarm_threshold_percent: Annotated[float, BeforeValidator(_cli_number)] = _fixed_key(
        "cpuAlarmThresholdPercent", "cpu_alarm_threshold_percent"
    )
    free_storage_alarm_threshold_gib: CliInt = _fixed_key(
        "freeStorageAlarmThresholdGiB", "free_storage_alarm_threshold_gib"
    )
    alarm_evaluation_periods: Annotated[CliInt, AfterValidator(_between(SPEC.monitoring.alarm_evaluation_periods))] = (
        _key(
            "alarmEvaluationPeriods", rule=f"must be an integer {SPEC.monitoring.alarm_evaluation_periods}", example="3"
        )
    )
    alarm_period_minutes: Annotated[CliInt, AfterValidator(_one_of(SPEC.monitoring.alarm_period_minutes))] = _key(
        "alarmPeriodMinutes",
        rule="must be one of " + ", ".join(map(str, SPEC.monitoring.alarm_period_minutes)),
        example="5",
    )
    kms_pending_window_days: Annotated[CliInt, AfterValidator(_between(SPEC.encryption.kms_pending_window_days))] = (
        _key("kmsPendingWindowDays", rule=f"must be an integer {SPEC.encryption.kms_pending_window_days}", example="30")
    )
    alarm_email_addresses: Annotated[
        tuple[str, ...], BeforeValidator(_list_of(_EMAIL, _EMAILS_RULE, may_be_empty=True))
    ] = _key("alarmEmailAddresses", rule=_EMAILS_RULE, example='["dba-oncall@example.com"]')
    migration: Annotated[MigrationSource | None, BeforeValidator(_migration_or_off)] = _key(
        "migration", rule="must be an object with the dev VPC and dev database details", example=_MIGRATION_EXAMPLE,
        default=None,
    )  # fmt: skip

    @field_validator(*_FIXED_BY_SPEC)
    @classmethod
    def _fixed_by_the_spec(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_fixed(value, info.field_name or "", _FIXED_BY_SPEC)

    @field_validator("database_subnet_cidrs")
    @classmethod
    def _subnets_fit_the_network(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _database_subnets(value, app_subnets=info.data.get("app_subnet_cidrs", ()))

    @field_validator("max_allocated_storage_gib")
    @classmethod
    def _ceiling_not_below_storage(cls, value: int, info: ValidationInfo) -> int:
        low = info.data.get("allocated_storage_gib", SPEC.database.allocated_storage_gib.min)
        bound = IntRange(min=low, max=SPEC.database.allocated_storage_gib.max)
        return _between(bound, what="allocatedStorageGiB")(value)

    @field_validator("backup_window", mode="before")
    @classmethod
    def _backup_window(cls, raw: Any, info: ValidationInfo) -> DailyWindow:
        return parse_backup_window(raw, maintenance=info.data.get("maintenance_window"))

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
        # CDK's own keys are not ours to judge; a null override means "not set" (missing).
        ours = {k: v for k, v in context.items() if not _CDK_OWNED_KEY.match(k) and v is not None}
        try:
            return cls.model_validate(ours)
        except ValidationError as error:
            raise _config_error(error, ours) from None


# --------------------------------------------------------------------------- errors


def _fields_by_alias(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


_TOP_FIELDS = _fields_by_alias(StagingDatabaseConfig)
_MIGRATION_FIELDS = _fields_by_alias(MigrationSource)


def _config_error(error: ValidationError, context: Mapping[str, Any]) -> ConfigError:
    """pydantic's first error (unknown keys first) as one ConfigError: key, value, rule, example."""
    details = sorted(error.errors(), key=lambda d: d["type"] != "extra_forbidden")
    first = details[0]
    path = [str(part) for part in first["loc"]]
    if path[0] == "migration" and len(path) > 1:
        migration = _migration_or_off(context["migration"])
        if first["type"] == "extra_forbidden":
            unknown = sorted(str(d["loc"][1]) for d in details if d["type"] == "extra_forbidden" and len(d["loc"]) > 1)
            rule = f"has unknown key(s) {', '.join(unknown)}; allowed: {', '.join(_MIGRATION_FIELDS)}"
            return ConfigError(key="migration", value=context["migration"], rule=rule, example=_MIGRATION_EXAMPLE)
        sub_key = path[1]
        rule = _rule(first, _MIGRATION_FIELDS[sub_key], missing="is required when migration is on")
        return ConfigError(
            key=f"migration.{sub_key}", value=migration.get(sub_key), rule=rule, example=_MIGRATION_EXAMPLE
        )
    key = path[0]
    if first["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, list(_TOP_FIELDS), n=1)
        hint = f"did you mean '{close[0]}'?" if close else "remove it or add it to infra/config.py"
        rule = f"is not a known context key; {hint}"
        return ConfigError(key=key, value=context[key], rule=rule, example=close[0] if close else "environmentSuffix")
    field = _TOP_FIELDS[key]
    rule = _rule(first, field, missing="is required (set it in cdk.json or with -c)")
    refusal = (first.get("ctx") or {}).get("error")
    example = refusal.example if isinstance(refusal, _RefusalError) else str((field.examples or [""])[0])
    return ConfigError(key=key, value=context.get(key), rule=rule, example=example)


def _rule(detail: ErrorDetails, field: FieldInfo, *, missing: str) -> str:
    if detail["type"] == "missing":
        return missing
    if detail["type"] == "value_error":  # our own validators say exactly what is wrong
        return str((detail.get("ctx") or {}).get("error", detail["msg"]))
    return field.description or detail["msg"]  # wrong type or shape: the key's rule


def project_context_keys() -> tuple[str, ...]:
    """Keys this project owns in cdk.json, in the order the README documents them."""
    return tuple(_TOP_FIELDS)
