"""Hypothesis strategies: valid CDK context (as cdk.json or ``-c`` would give it) and invalid values.

Valid strategies are built from the rules in ``infra/config.py`` (suffix regex, subnets inside
the VPC, windows that do not overlap, allowed lists), not from ``from_context`` itself, so a
rule that became stricter or looser than intended shows up as a failing property.
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
from infra.config import (
    ALLOWED_INSTANCE_CLASSES,
    CREATABLE_POSTGRES_VERSIONS,
    DAYS,
    LOG_RETENTION_DAYS,
    MIGRATION_EXAMPLE,
    MONITORING_INTERVALS_SECONDS,
    SUFFIX_MAX_LENGTH,
)

DEFAULTS: dict[str, Any] = cdk_json_context()
VPC = ipaddress.IPv4Network(DEFAULTS["vpcCidr"])
SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
MINUTES_PER_DAY = 24 * 60

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
    /28 (AWS's subnet range; /16 would be the whole VPC), none overlapping ``avoid``.

    A drawn position that is taken moves to the next free one, and a size that no longer fits
    anywhere moves to the next smaller size, so drawing never has to be retried.
    """
    picked: list[ipaddress.IPv4Network] = []
    for _ in range(count):
        prefix = draw(st.integers(17, 28))
        index = draw(st.integers(0, 2 ** (prefix - VPC.prefixlen) - 1))
        network = None
        while network is None and prefix <= 28:
            network = _first_free(prefix, index, (*avoid, *picked))
            prefix, index = prefix + 1, index * 2
        if network is None:  # two /17s took the whole VPC: no room for a third subnet
            reject()
        picked.append(network)
    return [str(n) for n in picked]


@st.composite
def subnet_layouts(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """(app subnets, database subnets): both sometimes the cdk.json defaults, otherwise drawn."""
    database = draw(st.one_of(st.just(list(DEFAULTS["databaseSubnetCidrs"])), disjoint_subnets(3)))
    avoid = tuple(ipaddress.IPv4Network(c) for c in database)
    app = draw(disjoint_subnets(3, avoid=avoid))
    return app, database


# --------------------------------------------------------------------------- windows


def _hhmm(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def _ddd_hhmm(minute_of_week: int) -> str:
    day, minute = divmod(minute_of_week % (7 * MINUTES_PER_DAY), MINUTES_PER_DAY)
    return f"{DAYS[day]}:{_hhmm(minute)}"


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, str]:
    """(maintenanceWindow, backupWindow) that RDS accepts together.

    The backup window repeats daily, so it must fit in the part of the day the weekly
    maintenance window leaves free; the maintenance window therefore lasts 30 minutes to
    23.5 hours (a 24-hour one leaves no room for any 30-minute backup window).
    """
    maintenance_start = draw(st.integers(0, 7 * MINUTES_PER_DAY - 1))
    maintenance_minutes = draw(st.integers(30, MINUTES_PER_DAY - 30))
    maintenance = f"{_ddd_hhmm(maintenance_start)}-{_ddd_hhmm(maintenance_start + maintenance_minutes)}"
    free_from = (maintenance_start + maintenance_minutes) % MINUTES_PER_DAY
    free_minutes = MINUTES_PER_DAY - maintenance_minutes
    offset = draw(st.integers(0, free_minutes - 30))
    backup_minutes = draw(st.integers(30, free_minutes - offset))
    backup_start = (free_from + offset) % MINUTES_PER_DAY
    backup = f"{_hhmm(backup_start)}-{_hhmm((backup_start + backup_minutes) % MINUTES_PER_DAY)}"
    return maintenance, backup


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
    """Off (None) or on with the documented example and a drawn dev side."""
    if not draw(st.booleans(), label="migration on"):
        return None
    dev_cidr = draw(st.sampled_from(["10.0.0.0/16", "10.2.0.0/16", "172.16.0.0/16", "192.168.0.0/20", "10.0.128.0/17"]))
    return {
        **MIGRATION_EXAMPLE,
        "devVpcCidr": dev_cidr,
        "devDbPort": draw(st.integers(1150, 65535)),
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


# Keys that constrain each other are kept at their defaults or varied together.
_KEY_GROUPS = (
    ("appSubnetCidrs", "databaseSubnetCidrs"),
    ("maintenanceWindow", "backupWindow"),
    ("allocatedStorageGiB", "maxAllocatedStorageGiB", "freeStorageAlarmThresholdGiB"),
)


@st.composite
def valid_overrides(draw: st.DrawFn, *, cli_strings: bool = True) -> Overrides:
    """Valid context overrides; each key (or group of related keys) is left at its cdk.json
    default or varied, so shrinking can reach "only the suffix changed"."""
    maybe_cli: Callable[[st.SearchStrategy[Any]], st.SearchStrategy[Any]] = (
        _as_cli_sometimes if cli_strings else (lambda s: s)
    )
    app_subnets, db_subnets = draw(subnet_layouts())
    maintenance, backup = draw(windows())
    allocated = draw(st.integers(20, 65536), label="allocatedStorageGiB")
    values: dict[str, Any] = {
        "environmentSuffix": draw(suffixes(), label="environmentSuffix"),
        "appSubnetCidrs": draw(maybe_cli(st.just(app_subnets))),
        "databaseSubnetCidrs": draw(maybe_cli(st.just(db_subnets))),
        "maintenanceWindow": maintenance,
        "backupWindow": backup,
        "instanceClass": draw(st.sampled_from(ALLOWED_INSTANCE_CLASSES)),
        "postgresVersion": draw(st.sampled_from(CREATABLE_POSTGRES_VERSIONS)),
        "backupRetentionDays": draw(maybe_cli(st.integers(7, 35))),
        "allocatedStorageGiB": allocated,
        "maxAllocatedStorageGiB": draw(st.integers(allocated, 65536)),
        "freeStorageAlarmThresholdGiB": draw(st.integers(1, allocated - 1)),
        "cpuAlarmThresholdPercent": draw(
            maybe_cli(st.one_of(st.integers(1, 99), st.floats(1, 99, allow_nan=False, allow_infinity=False)))
        ),
        "alarmEvaluationPeriods": draw(st.integers(1, 24)),
        "alarmPeriodMinutes": draw(st.sampled_from([1, 5, 10, 15, 30, 60])),
        "monitoringIntervalSeconds": draw(st.sampled_from(MONITORING_INTERVALS_SECONDS)),
        "performanceInsightsEnabled": draw(maybe_cli(st.booleans())),
        "databasePort": draw(maybe_cli(st.integers(1150, 65535))),
        "maxConnections": draw(st.integers(6, 8388607)),
        "sharedBuffersMiB": draw(st.integers(16, 262144)),
        "logRetentionDays": draw(st.sampled_from(LOG_RETENTION_DAYS)),
        "kmsPendingWindowDays": draw(st.integers(7, 30)),
        "alarmEmailAddresses": draw(st.lists(emails, max_size=3, unique=True)),
    }
    migration = draw(migration_settings())
    if migration is not None:
        values["migration"] = migration
    grouped = {key for group in _KEY_GROUPS for key in group}
    units = [*_KEY_GROUPS, *((k,) for k in sorted(values) if k not in grouped and k != "environmentSuffix")]
    kept = draw(st.sets(st.sampled_from(units), max_size=len(units)), label="left at default")
    dropped = {key for unit in kept for key in unit}
    return Overrides({k: v for k, v in values.items() if k not in dropped})
