"""Strategies for invalid context: each draws one bad override and the key(s) the error must name.

Bounds come from ``infra/spec.toml`` (the file the policies read), so every value the gate
would fail is an invalid case here: for a key the spec fixes, any other value.
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from infra.config import MIGRATION_EXAMPLE, project_context_keys
from infra.spec import IntRange
from tests.property.strategies import (
    DEFAULTS,
    SPEC,
    SPEC_MAINTENANCE,
    SUFFIX_ALPHABET,
    SUFFIX_MAX_LENGTH,
    VPC,
    disjoint_subnets,
    suffixes,
)


@dataclass(frozen=True)
class InvalidCase:
    """One bad override; ``keys`` lists the context keys an error may name (usually one)."""

    what: str
    override: dict[str, Any]
    keys: frozenset[str]


def _case(
    what: str, key: str, values: st.SearchStrategy[Any], *, also: tuple[str, ...] = ()
) -> tuple[str, st.SearchStrategy[InvalidCase]]:
    return what, values.map(lambda v: InvalidCase(what, {key: v}, frozenset({key, *also})))


# Values of the wrong JSON type for any key; None means "key missing" (also an error).
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
not_integers = st.one_of(
    st.floats(allow_nan=True).filter(lambda f: not (math.isfinite(f) and f.is_integer())),
    st.text(max_size=6).filter(lambda s: not s.strip().lstrip("+-").isdigit()),
    st.booleans(),
)


def _ints_outside(bound: IntRange) -> st.SearchStrategy[Any]:
    low, high = bound.min, bound.max
    return st.one_of(
        st.integers(max_value=low - 1), st.integers(min_value=high + 1), st.integers(max_value=low - 1).map(str)
    )


def _ints_other_than(fixed: int) -> st.SearchStrategy[Any]:
    """Any integer but the spec's (also as a ``-c`` string): the spec fixes the key."""
    others = st.integers().filter(lambda i: i != fixed)
    return st.one_of(others, others.map(str), st.integers(fixed - 3, fixed + 3).filter(lambda i: i != fixed))


def _strings_other_than(fixed: str, *near: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from([n for n in near if n != fixed]), st.text(max_size=12).filter(lambda t: t != fixed)
    )


# ---------------------------------------------------------------- suffix

# Characters the rule forbids, including look-alikes: upper case, non-ASCII letters and digits
# (Python's \w and \d would accept them), separators and control characters.
BAD_SUFFIX_CHARS = st.one_of(
    st.sampled_from(list("ABCXYZ_. /:@+*é٣１ａ\t\n\x00")),
    st.characters(exclude_characters=SUFFIX_ALPHABET + "-"),
)


SUFFIX_KINDS = ("bad character", "too long", "edge hyphen", "double hyphen", "empty", "wrong type")


@st.composite
def bad_suffixes(draw: st.DrawFn, kind: str) -> Any:
    if kind == "bad character":
        base = draw(suffixes())
        position = draw(st.integers(0, len(base) - 1))
        return base[:position] + draw(BAD_SUFFIX_CHARS) + base[position + 1 :]
    if kind == "too long":
        return draw(st.text(SUFFIX_ALPHABET, min_size=SUFFIX_MAX_LENGTH + 1, max_size=80))
    if kind == "edge hyphen":
        base = draw(suffixes(max_size=SUFFIX_MAX_LENGTH - 1))
        return draw(st.sampled_from([f"-{base}", f"{base}-"]))
    if kind == "double hyphen":
        left, right = draw(suffixes(max_size=7)), draw(suffixes(max_size=7))
        return f"{left}--{right}"
    if kind == "empty":
        return ""
    return draw(st.one_of(wrong_types, st.integers(), st.floats()))


# ---------------------------------------------------------------- networks


def _cidrs(values: list[str]) -> st.SearchStrategy[Any]:
    """As cdk.json (a list) or as ``-c`` (a JSON string)."""
    return st.sampled_from([values, json.dumps(values)])


_DEFAULT_DB = list(DEFAULTS["databaseSubnetCidrs"])
_APP = list(SPEC.network.app_subnet_cidrs)


DATABASE_SUBNET_KINDS = (
    "outside the VPC",
    "host bits set",
    "too small",
    "wrong count",
    "overlapping",
    "overlaps app subnets",
    "wrong type",
    "IPv6",
)


@st.composite
def bad_database_subnets(draw: st.DrawFn, kind: str) -> InvalidCase:
    db = list(_DEFAULT_DB)
    slot = draw(st.integers(0, 2))
    also: tuple[str, ...] = ()
    vpc_second_octet = int(str(VPC.network_address).split(".")[1])
    if kind == "outside the VPC":
        second = draw(st.integers(0, 255).filter(lambda o: o != vpc_second_octet))
        db[slot] = f"10.{second}.{draw(st.integers(0, 255))}.0/24"
    elif kind == "host bits set":
        db[slot] = f"10.1.{draw(st.integers(20, 255))}.{draw(st.integers(1, 255))}/24"
    elif kind == "too small":
        prefix = draw(st.integers(SPEC.network.subnet_prefix_length.max + 1, 32))
        db[slot] = f"10.1.200.{draw(st.integers(0, 255)) // 2 ** (32 - prefix) * 2 ** (32 - prefix)}/{prefix}"
    elif kind == "wrong count":
        db = draw(st.sampled_from([db[:2], db[:1], [], [*db, "10.1.13.0/24"]]))
    elif kind == "overlapping":
        db[slot] = db[(slot + 1) % 3] if draw(st.booleans()) else str(VPC)
    elif kind == "overlaps app subnets":
        db[slot] = draw(st.sampled_from([*_APP, "10.1.0.0/23", "10.1.2.128/25"]))
        also = ("appSubnetCidrs",)  # either side of the clash may be named
    elif kind == "IPv6":
        db[slot] = "2001:db8::/64"
    else:
        return InvalidCase(
            "databaseSubnetCidrs: wrong type",
            {
                "databaseSubnetCidrs": draw(
                    st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), min_size=3, max_size=3))
                )
            },
            frozenset({"databaseSubnetCidrs"}),
        )
    return InvalidCase(
        f"databaseSubnetCidrs: {kind}",
        {"databaseSubnetCidrs": draw(_cidrs(db))},
        frozenset({"databaseSubnetCidrs", *also}),
    )


@st.composite
def other_app_subnets(draw: st.DrawFn) -> InvalidCase:
    """Any layout but the network plan's (infra/spec.toml): the gate allows DB ingress from those only."""
    layout = draw(
        st.one_of(
            disjoint_subnets(3, avoid=tuple(ipaddress.IPv4Network(c) for c in _DEFAULT_DB)),
            st.permutations(_APP).map(list),
            st.just(_APP[:2]),
        ).filter(lambda cidrs: cidrs != _APP)
    )
    return InvalidCase("appSubnetCidrs: not the network plan", {"appSubnetCidrs": draw(_cidrs(layout))},
                       frozenset({"appSubnetCidrs"}))  # fmt: skip


# ---------------------------------------------------------------- windows

# The spec's maintenance window (Sunday 08:00-10:00 UTC) as minutes of its day.
_MAINTENANCE_START = SPEC_MAINTENANCE.start_minute_of_week % (24 * 60)
_MAINTENANCE_END = _MAINTENANCE_START + SPEC_MAINTENANCE.duration_minutes


def _hhmm(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def backup_windows_overlapping_maintenance(draw: st.DrawFn) -> str:
    """A daily window of 30+ minutes that touches the spec's Sunday 08:00-10:00 maintenance window."""
    start = draw(st.integers(_MAINTENANCE_START - 29 - 60, _MAINTENANCE_END - 1))
    shortest = max(30, _MAINTENANCE_START - start + 1)
    return f"{_hhmm(start)}-{_hhmm(start + draw(st.integers(shortest, shortest + 300)))}"


window_cases = (
    _case("backupWindow: overlaps maintenance", "backupWindow", backup_windows_overlapping_maintenance()),
    _case(
        "backupWindow: shorter than 30 minutes",
        "backupWindow",
        st.tuples(st.integers(11 * 60, 23 * 60), st.integers(0, 29)).map(
            lambda t: f"{_hhmm(t[0])}-{_hhmm(t[0] + t[1])}"
        ),
    ),
    _case(
        "backupWindow: not hh24:mi-hh24:mi",
        "backupWindow",
        st.sampled_from(["5-6", "05:00", "25:00-26:00", "05:00-06:00-07:00", "0500-0600", "5:00-6:00"]),
    ),
    _case(
        "maintenanceWindow: overlaps backup",
        "maintenanceWindow",
        st.sampled_from(["sun:04:30-sun:05:30", "mon:05:00-mon:07:00", "sat:23:00-sun:06:00", "wed:05:59-wed:06:30"]),
        also=("backupWindow",),  # the backup window is checked against the maintenance window
    ),
    _case(
        "maintenanceWindow: not the spec's Sunday 3-5 AM EST",
        "maintenanceWindow",
        st.sampled_from(["sun:07:00-sun:09:00", "sun:08:00-sun:11:00", "mon:08:00-mon:10:00", "sat:12:00-sat:13:00"]),
        also=("backupWindow",),
    ),
    _case(
        "maintenanceWindow: too short or too long",
        "maintenanceWindow",
        st.sampled_from(["sun:08:00-sun:08:29", "mon:00:00-wed:00:00", "sun:08:00-sun:08:00"]),
    ),
    _case(
        "maintenanceWindow: bad format",
        "maintenanceWindow",
        st.sampled_from(["sunday 3-5", "sun:3:00-sun:5:00", "xyz:08:00-xyz:10:00", "sun:08:00"]),
    ),
    _case(
        "maintenanceWindow: wrong type",
        "maintenanceWindow",
        st.one_of(st.integers(), st.booleans(), st.lists(st.text(max_size=3), max_size=2)),
    ),
)

# ---------------------------------------------------------------- everything else

_PORTS = SPEC.database.port
_STORAGE = SPEC.database.allocated_storage_gib
_CPU = SPEC.monitoring.cpu_alarm_threshold_percent

other_cases = (
    _case(
        "backupRetentionDays not the spec's 7",
        "backupRetentionDays",
        _ints_other_than(SPEC.database.backup_retention_days),
    ),
    _case("backupRetentionDays not an integer", "backupRetentionDays", not_integers),
    _case(
        "instanceClass not the spec's",
        "instanceClass",
        _strings_other_than(
            SPEC.database.instance_class,
            "db.t3.large",
            "db.t4g.medium",
            "db.m6g.large",
            "DB.T3.MEDIUM",
            "db.t3.medium ",
        ),
    ),
    _case(
        "instanceClass wrong type",
        "instanceClass",
        st.one_of(st.integers(), st.booleans(), st.just([SPEC.database.instance_class])),
    ),
    _case(
        "postgresVersion not creatable",
        "postgresVersion",
        st.one_of(
            st.sampled_from(["13.7", "13.19", "13.20", "13.22", "13", "14.10", "16.4", "13.23.1"]),
            st.floats(13, 14),
            st.text(max_size=6),
        ).filter(lambda v: v not in SPEC.database.engine_versions),
    ),
    _case(
        "cpuAlarmThresholdPercent not the spec's 80",
        "cpuAlarmThresholdPercent",
        st.one_of(
            st.floats(allow_nan=True).filter(lambda f: f != _CPU),
            st.integers(1, 99).filter(lambda i: i != _CPU),
            st.sampled_from(["inf", "-1", "100", "79.9", "high", ""]),
            st.booleans(),
        ),
    ),
    _case(
        "freeStorageAlarmThresholdGiB not the spec's 10",
        "freeStorageAlarmThresholdGiB",
        _ints_other_than(SPEC.monitoring.free_storage_alarm_threshold_gib),
    ),
    _case(
        "allocatedStorageGiB out of range",
        "allocatedStorageGiB",
        _ints_outside(_STORAGE),
        also=("maxAllocatedStorageGiB",),
    ),
    (
        "maxAllocatedStorageGiB below allocatedStorageGiB",
        st.integers(_STORAGE.min + 1, _STORAGE.max).flatmap(
            lambda allocated: st.integers(_STORAGE.min, allocated - 1).map(
                lambda ceiling: InvalidCase(
                    "maxAllocatedStorageGiB below allocatedStorageGiB",
                    {"allocatedStorageGiB": allocated, "maxAllocatedStorageGiB": ceiling},
                    frozenset({"maxAllocatedStorageGiB"}),
                )
            )
        ),
    ),
    _case(
        "alarmEvaluationPeriods out of range",
        "alarmEvaluationPeriods",
        _ints_outside(SPEC.monitoring.alarm_evaluation_periods),
    ),
    _case(
        "alarmPeriodMinutes not allowed",
        "alarmPeriodMinutes",
        st.integers().filter(lambda m: m not in SPEC.monitoring.alarm_period_minutes),
    ),
    _case(
        "monitoringIntervalSeconds not the spec's 60",
        "monitoringIntervalSeconds",
        st.one_of(  # RDS's other intervals included: the gate fails them
            st.sampled_from([0, 1, 5, 10, 15, 30]),
            _ints_other_than(SPEC.monitoring.enhanced_monitoring_interval_seconds),
        ),
    ),
    _case(
        "maxConnections not the spec's 200",
        "maxConnections",
        _ints_other_than(SPEC.parameters.max_connections),
    ),
    _case(
        "sharedBuffersMiB not the spec's 256",
        "sharedBuffersMiB",
        st.one_of(_ints_other_than(SPEC.parameters.shared_buffers_mib), st.just("256MB")),
    ),
    _case(
        "logRetentionDays not allowed or shorter than a year",
        "logRetentionDays",
        st.integers().filter(lambda d: d not in SPEC.logs.retention_days_accepted),
    ),
    _case(
        "kmsPendingWindowDays out of range",
        "kmsPendingWindowDays",
        _ints_outside(SPEC.encryption.kms_pending_window_days),
    ),
    _case("databasePort out of range", "databasePort", _ints_outside(_PORTS)),
    _case(
        "performanceInsightsEnabled not a boolean",
        "performanceInsightsEnabled",
        st.one_of(st.integers(), st.sampled_from(["yes", "no", "1", "on", ""])),
    ),
    _case(
        "region not the spec's us-east-1",
        "region",
        _strings_other_than(SPEC.environment.region, "us-west-2", "eu-west-1", "US-EAST-1", "us-east-1a"),
    ),
    _case(
        "vpcCidr not the spec's 10.1.0.0/16",
        "vpcCidr",
        st.sampled_from(
            ["10.2.0.0/16", "8.8.0.0/16", "10.0.0.0/8", "10.1.0.0/17", "10.1.0.1/16", "not-a-cidr", "2001:db8::/56"]
        ),
    ),
    _case(
        "availabilityZones wrong",
        "availabilityZones",
        st.sampled_from(
            [
                ["us-east-1a", "us-east-1b"],
                ["us-east-1a", "us-east-1a", "us-east-1b"],
                ["us-west-2a", "us-west-2b", "us-west-2c"],
                "us-east-1a",
            ]
        ),
    ),
    _case(
        "alarmEmailAddresses not e-mail addresses",
        "alarmEmailAddresses",
        st.one_of(
            st.lists(st.sampled_from(["oncall", "a@b", "@example.com", "x y@example.com"]), min_size=1, max_size=2),
            st.text(max_size=4).filter(lambda s: s.strip() != "[]"),
        ),
    ),
    _case(
        "environmentName not the spec's staging",
        "environmentName",
        _strings_other_than(SPEC.environment.name, "Staging", "s", "staging-1", "prod", "dev", ""),
    ),
    _case(
        "costCenter not the spec's engineering",
        "costCenter",
        _strings_other_than(SPEC.environment.cost_center, "", "a" * 257, "eng\n", "finance", "Engineering"),
    ),
)


@st.composite
def misspelled_keys(draw: st.DrawFn) -> InvalidCase:
    """A typo of one of our keys (dropped or doubled character): the unknown key is named."""
    key = draw(st.sampled_from(project_context_keys()))
    position = draw(st.integers(0, len(key) - 1))
    typo = draw(
        st.sampled_from([key[:position] + key[position + 1 :], key[:position] + key[position] + key[position:]])
    )
    return InvalidCase("misspelled key", {typo: DEFAULTS[key]}, frozenset({typo}))


MIGRATION_SUB_KEYS = (
    "devVpcCidr",
    "devVpcId",
    "devDbPort",
    "devRouteTableIds",
    "devDbSecurityGroupId",
    "devDbEndpoint",
)


@st.composite
def bad_migrations(draw: st.DrawFn, sub_key: str) -> InvalidCase:
    bad = {
        # overlaps staging, public, junk, and private networks other than the spec's dev VPC
        "devVpcCidr": st.sampled_from(
            ["10.1.0.0/16", "10.1.64.0/18", "10.0.0.0/8", "8.8.8.0/24", "nope", "10.2.0.0/16", "172.16.0.0/16"]
        ),
        "devVpcId": st.sampled_from(["vpc-123", "VPC-0A1B2C3D", "subnet-0a1b2c3d4e5f60718", ""]),
        "devDbPort": _ints_outside(_PORTS),
        "devRouteTableIds": st.sampled_from([[], ["rtb-xyz"], "rtb-0a1b2c3d4e5f60718", [42]]),
        "devDbSecurityGroupId": st.sampled_from(["sg-1", "sg-0A1B2C3D4E5F60718", "", None]),
        "devDbEndpoint": st.sampled_from(["-bad.example.com", "a" * 300, "UPPER.example.com", ""]),
    }[sub_key]
    migration = {**MIGRATION_EXAMPLE, sub_key: draw(bad)}
    return InvalidCase(f"migration.{sub_key}", {"migration": migration}, frozenset({f"migration.{sub_key}"}))


def _suffix_case(kind: str) -> st.SearchStrategy[InvalidCase]:
    what = f"environmentSuffix: {kind}"
    return bad_suffixes(kind).map(
        lambda v: InvalidCase(what, {"environmentSuffix": v}, frozenset({"environmentSuffix"}))
    )


# Category -> strategy. Tests run every category every time (parametrized), so no category
# depends on random drawing to be reached.
INVALID_CATEGORIES: dict[str, st.SearchStrategy[InvalidCase]] = {
    **{f"environmentSuffix: {kind}": _suffix_case(kind) for kind in SUFFIX_KINDS},
    **{f"databaseSubnetCidrs: {kind}": bad_database_subnets(kind) for kind in DATABASE_SUBNET_KINDS},
    "appSubnetCidrs: not the network plan": other_app_subnets(),
    **dict(window_cases),
    **dict(other_cases),
    "misspelled key": misspelled_keys(),
    **{f"migration.{sub_key}": bad_migrations(sub_key) for sub_key in MIGRATION_SUB_KEYS},
}
