"""Hypothesis strategies: valid CDK context (as cdk.json or ``-c`` would give it) and invalid values.

Valid strategies are built from the rules (suffix shape, subnets inside the VPC, windows that
do not overlap) and from ``infra/spec.toml`` (what the spec fixes and the bounds it sets: the
file the policies read too), not from ``from_context`` itself, so a rule that became stricter
or looser than intended shows up as a failing property. A key the spec fixes is drawn as
exactly the spec's value (sometimes as a ``-c`` string), or left at cdk.json's.
"""

from __future__ import annotations

import ipaddress
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from infra.app_builder import cdk_json_context
from infra.config import MIGRATION_EXAMPLE
from infra.spec import IntRange, spec
from infra.windows import DAYS, MINUTES_PER_DAY, parse_maintenance_window

SPEC = spec()
DEFAULTS: dict[str, Any] = cdk_json_context()
VPC = ipaddress.IPv4Network(SPEC.network.vpc_cidr)
APP_SUBNETS = tuple(ipaddress.IPv4Network(c) for c in SPEC.network.app_subnet_cidrs)
SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_MAX_LENGTH = SPEC.naming.suffix_max_length
SUBNET_PREFIXES = SPEC.network.subnet_prefix_length
SPEC_MAINTENANCE = parse_maintenance_window(SPEC.database.maintenance_window)

# --------------------------------------------------------------------------- suffix


@st.composite
def suffixes(draw: st.DrawFn, min_size: int = 1, max_size: int = SUFFIX_MAX_LENGTH) -> str:
    """Every suffix the rule allows: [a-z0-9], single inner hyphens, 1..16 characters.

    Built directly (length first, then hyphen positions) rather than with ``from_regex``:
    Hypothesis only partly supports the rule's lookahead, and this way the edge lengths 1
    and 16 are drawn as often as any other.
    """
    length = draw(st.integers(min_size, max_size))
    chars = draw(st.lists(st.sampled_from(SUFFIX_ALPHABET), min_size=length, max_size=length))
    # Hyphens go strictly inside and never next to each other.
    hyphens = draw(st.sets(st.integers(1, max(1, length - 2)), max_size=length // 2)) if length >= 3 else set()
    for position in sorted(hyphens):  # ascending: only the left neighbour can be a hyphen already
        if chars[position - 1] != "-":
            chars[position] = "-"
    return "".join(chars)


# --------------------------------------------------------------------------- networks


def _network_at(prefix: int, index: int, inside: ipaddress.IPv4Network = VPC) -> ipaddress.IPv4Network:
    size = 2 ** (32 - prefix)
    return ipaddress.IPv4Network((int(inside.network_address) + index * size, prefix))


def _first_free(prefix: int, index: int, taken: tuple[ipaddress.IPv4Network, ...]) -> ipaddress.IPv4Network | None:
    """The /``prefix`` network at ``index`` or, if that overlaps ``taken``, the next free one
    (wrapping). Integer arithmetic that jumps past each taken range: a handful of steps even
    for a /28 among 4096 positions."""
    size = 1 << (32 - prefix)
    count = 1 << (prefix - VPC.prefixlen)
    base = int(VPC.network_address)
    ranges = [(int(n.network_address), int(n.broadcast_address) + 1) for n in taken]
    for low, high in ((index, count), (0, index)):
        position = low
        while position < high:
            start = base + position * size
            clash = next((end for begin, end in ranges if begin < start + size and start < end), None)
            if clash is None:
                return ipaddress.IPv4Network((start, prefix))
            position = max(position + 1, -(-(clash - base) // size))  # first aligned block after the clash
    return None


@st.composite
def disjoint_subnets(draw: st.DrawFn, count: int, *, avoid: tuple[ipaddress.IPv4Network, ...] = ()) -> list[str]:
    """``count`` pairwise disjoint subnets inside the VPC, each with its own prefix from /17 to
    /28 (AWS's subnet range, infra/spec.toml; /16 would be the whole VPC), none overlapping ``avoid``.

    A drawn position that is taken moves to the next free one, and a size that no longer fits
    anywhere moves to the next smaller size, so drawing never has to be retried.
    """
    picked: list[ipaddress.IPv4Network] = []
    for _ in range(count):
        prefix = draw(st.integers(VPC.prefixlen + 1, SUBNET_PREFIXES.max))
        index = draw(st.integers(0, 2 ** (prefix - VPC.prefixlen) - 1))
        network = None
        while network is None and prefix <= SUBNET_PREFIXES.max:
            network = _first_free(prefix, index, (*avoid, *picked))
            prefix, index = prefix + 1, index * 2
        if network is None:  # two /17s took the whole VPC: no room for a third subnet
            reject()
        picked.append(network)
    return [str(n) for n in picked]


def database_subnet_layouts() -> st.SearchStrategy[list[str]]:
    """Database subnets: sometimes the cdk.json defaults, otherwise drawn clear of the
    application subnets (the network plan fixes those: infra/spec.toml)."""
    count = SPEC.network.availability_zone_count
    return st.one_of(st.just(list(DEFAULTS["databaseSubnetCidrs"])), disjoint_subnets(count, avoid=APP_SUBNETS))


# --------------------------------------------------------------------------- windows


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def _ddd_hhmm(minute_of_week: int) -> str:
    day, minute = divmod(minute_of_week % (7 * MINUTES_PER_DAY), MINUTES_PER_DAY)
    return f"{DAYS[day]}:{_hhmm(minute)}"


@st.composite
def backup_windows(draw: st.DrawFn, *, maintenance_start: int, maintenance_minutes: int) -> str:
    """A daily backup window RDS accepts beside the weekly maintenance window that starts at
    minute ``maintenance_start`` of the week: the backup window repeats daily, so it must fit
    in the part of the day the maintenance window leaves free."""
    free_from = (maintenance_start + maintenance_minutes) % MINUTES_PER_DAY
    free_minutes = MINUTES_PER_DAY - maintenance_minutes
    offset = draw(st.integers(0, free_minutes - 30))
    backup_minutes = draw(st.integers(30, free_minutes - offset))
    backup_start = (free_from + offset) % MINUTES_PER_DAY
    return f"{_hhmm(backup_start)}-{_hhmm((backup_start + backup_minutes) % MINUTES_PER_DAY)}"


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, str]:
    """(maintenanceWindow, backupWindow) that RDS accepts together, for any maintenance window
    (the window arithmetic itself; the stack's maintenance window is the spec's, see
    ``spec_backup_windows``). The maintenance window lasts 30 minutes to 23.5 hours (a 24-hour
    one leaves no room for any 30-minute backup window)."""
    maintenance_start = draw(st.integers(0, 7 * MINUTES_PER_DAY - 1))
    maintenance_minutes = draw(st.integers(30, MINUTES_PER_DAY - 30))
    maintenance = f"{_ddd_hhmm(maintenance_start)}-{_ddd_hhmm(maintenance_start + maintenance_minutes)}"
    backup = draw(backup_windows(maintenance_start=maintenance_start, maintenance_minutes=maintenance_minutes))
    return maintenance, backup


def spec_backup_windows() -> st.SearchStrategy[str]:
    """Backup windows RDS accepts beside the spec's maintenance window (Sunday 08:00-10:00 UTC)."""
    return backup_windows(
        maintenance_start=SPEC_MAINTENANCE.start_minute_of_week, maintenance_minutes=SPEC_MAINTENANCE.duration_minutes
    )


# --------------------------------------------------------------------------- everything else


def _as_cli_sometimes(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value as cdk.json holds it, or as ``cdk synth -c key=value`` delivers it (a string)."""
    return values.flatmap(lambda v: st.sampled_from([v, v if isinstance(v, str) else json.dumps(v)]))


emails = st.builds(
    "{}@{}.{}".format,
    st.text(SUFFIX_ALPHABET + "._+-", min_size=1, max_size=12),
    st.text(SUFFIX_ALPHABET, min_size=1, max_size=12),
    st.sampled_from(["com", "org", "io", "example"]),
)


@st.composite
def migration_settings(draw: st.DrawFn) -> dict[str, Any] | None:
    """Off (None) or on with the documented example and a drawn dev side (the dev VPC is the spec's)."""
    if not draw(st.booleans(), label="migration on"):
        return None
    return {
        **MIGRATION_EXAMPLE,
        "devVpcCidr": SPEC.network.dev_vpc_cidr,
        "devDbPort": draw(_ints(SPEC.database.port)),
        "devRouteTableIds": draw(
            st.lists(st.from_regex(r"rtb-[0-9a-f]{8,17}", fullmatch=True), min_size=1, max_size=3, unique=True)
        ),
    }


@dataclass(frozen=True)
class Overrides:
    """Context overrides on top of cdk.json: what a team would change."""

    values: dict[str, Any]

    @property
    def context(self) -> dict[str, Any]:
        return {**DEFAULTS, **self.values}


def _ints(bound: IntRange) -> st.SearchStrategy[int]:
    return st.integers(bound.min, bound.max)


def _spec_value(
    value: Any, maybe_cli: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    """A key the spec fixes: exactly its value, as cdk.json or (sometimes) ``-c`` gives it."""
    return maybe_cli(st.just(list(value) if isinstance(value, tuple) else value))


# Keys that constrain each other are kept at their defaults or varied together.
_KEY_GROUPS = (
    ("maintenanceWindow", "backupWindow"),
    ("allocatedStorageGiB", "maxAllocatedStorageGiB"),
)


@st.composite
def valid_overrides(draw: st.DrawFn, *, cli_strings: bool = True) -> Overrides:
    """Valid context overrides; each key (or group of related keys) is left at its cdk.json
    default or varied, so shrinking can reach "only the suffix changed"."""
    maybe_cli: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]] = (
        _as_cli_sometimes if cli_strings else (lambda s: s)
    )
    database, monitoring = SPEC.database, SPEC.monitoring
    allocated = draw(_ints(database.allocated_storage_gib), label="allocatedStorageGiB")
    cpu = monitoring.cpu_alarm_threshold_percent
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "environmentSuffix": suffixes(),
        "appSubnetCidrs": _spec_value(SPEC.network.app_subnet_cidrs, maybe_cli),
        "databaseSubnetCidrs": maybe_cli(database_subnet_layouts()),
        "maintenanceWindow": st.just(database.maintenance_window),
        "backupWindow": spec_backup_windows(),
        "instanceClass": st.just(database.instance_class),
        "postgresVersion": st.sampled_from(database.engine_versions),
        "backupRetentionDays": _spec_value(database.backup_retention_days, maybe_cli),
        "allocatedStorageGiB": st.just(allocated),
        "maxAllocatedStorageGiB": st.integers(allocated, database.allocated_storage_gib.max),
        "freeStorageAlarmThresholdGiB": _spec_value(monitoring.free_storage_alarm_threshold_gib, maybe_cli),
        "cpuAlarmThresholdPercent": maybe_cli(st.sampled_from([cpu, float(cpu)])),
        "alarmEvaluationPeriods": _ints(monitoring.alarm_evaluation_periods),
        "alarmPeriodMinutes": st.sampled_from(monitoring.alarm_period_minutes),
        "monitoringIntervalSeconds": _spec_value(monitoring.enhanced_monitoring_interval_seconds, maybe_cli),
        "performanceInsightsEnabled": maybe_cli(st.booleans()),
        "databasePort": maybe_cli(_ints(database.port)),
        "maxConnections": _spec_value(SPEC.parameters.max_connections, maybe_cli),
        "sharedBuffersMiB": _spec_value(SPEC.parameters.shared_buffers_mib, maybe_cli),
        "logRetentionDays": st.sampled_from(SPEC.logs.retention_days_accepted),
        "kmsPendingWindowDays": _ints(SPEC.encryption.kms_pending_window_days),
        "alarmEmailAddresses": st.lists(emails, max_size=3, unique=True),
    }
    values: dict[str, Any] = {key: draw(strategy, label=key) for key, strategy in strategies.items()}
    migration = draw(migration_settings())
    if migration is not None:
        values["migration"] = migration
    grouped = {key for group in _KEY_GROUPS for key in group}
    units = [*_KEY_GROUPS, *((k,) for k in sorted(values) if k not in grouped and k != "environmentSuffix")]
    kept = draw(st.sets(st.sampled_from(units), max_size=len(units)), label="left at default")
    dropped = {key for unit in kept for key in unit}
    return Overrides({k: v for k, v in values.items() if k not in dropped})
