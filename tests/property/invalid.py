"""Strategies for invalid context: each draws one bad override and the key(s) the error must name."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from infra.config import (
    ALLOWED_INSTANCE_CLASSES,
    CREATABLE_POSTGRES_VERSIONS,
    LOG_RETENTION_DAYS,
    MIGRATION_EXAMPLE,
    SUFFIX_MAX_LENGTH,
    project_context_keys,
)
from tests.property.strategies import DEFAULTS, SUFFIX_ALPHABET, suffixes


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


def _ints_outside(low: int, high: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(max_value=low - 1), st.integers(min_value=high + 1), st.integers(max_value=low - 1).map(str)
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


_DEFAULT_APP = list(DEFAULTS["appSubnetCidrs"])


APP_SUBNET_KINDS = (
    "outside the VPC",
    "host bits set",
    "too small",
    "wrong count",
    "overlapping",
    "overlaps DB subnets",
    "wrong type",
    "IPv6",
)


@st.composite
def bad_app_subnets(draw: st.DrawFn, kind: str) -> InvalidCase:
    app = list(_DEFAULT_APP)
    slot = draw(st.integers(0, 2))
    also: tuple[str, ...] = ()
    if kind == "outside the VPC":
        second = draw(st.integers(0, 255).filter(lambda o: o != 1))
        app[slot] = f"10.{second}.{draw(st.integers(0, 255))}.0/24"
    elif kind == "host bits set":
        app[slot] = f"10.1.{draw(st.integers(20, 255))}.{draw(st.integers(1, 255))}/24"
    elif kind == "too small":
        prefix = draw(st.integers(29, 32))
        app[slot] = f"10.1.200.{draw(st.integers(0, 255)) // 2 ** (32 - prefix) * 2 ** (32 - prefix)}/{prefix}"
    elif kind == "wrong count":
        app = draw(st.sampled_from([app[:2], app[:1], [], [*app, "10.1.3.0/24"]]))
    elif kind == "overlapping":
        app[slot] = app[(slot + 1) % 3] if draw(st.booleans()) else "10.1.0.0/16"
    elif kind == "overlaps DB subnets":
        app[slot] = draw(st.sampled_from([*DEFAULTS["databaseSubnetCidrs"], "10.1.8.0/21", "10.1.10.128/25"]))
        also = ("databaseSubnetCidrs",)  # either side of the clash may be named
    elif kind == "IPv6":
        app[slot] = "2001:db8::/64"
    else:
        return InvalidCase(
            "appSubnetCidrs: wrong type",
            {
                "appSubnetCidrs": draw(
                    st.one_of(st.integers(), st.text(max_size=5), st.lists(st.integers(), min_size=3, max_size=3))
                )
            },
            frozenset({"appSubnetCidrs"}),
        )
    return InvalidCase(
        f"appSubnetCidrs: {kind}", {"appSubnetCidrs": draw(_cidrs(app))}, frozenset({"appSubnetCidrs", *also})
    )


# ---------------------------------------------------------------- windows

# cdk.json: maintenance sun:08:00-sun:10:00, backup 05:00-06:00.
_MAINTENANCE_START, _MAINTENANCE_END = 8 * 60, 10 * 60


def _hhmm(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def backup_windows_overlapping_maintenance(draw: st.DrawFn) -> str:
    """A daily window of 30+ minutes that touches the default Sunday 08:00-10:00 maintenance window."""
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

other_cases = (
    _case("backupRetentionDays below 7 / above 35", "backupRetentionDays", _ints_outside(7, 35)),
    _case("backupRetentionDays not an integer", "backupRetentionDays", not_integers),
    _case(
        "instanceClass not allowed",
        "instanceClass",
        st.text(max_size=20).filter(lambda s: s not in ALLOWED_INSTANCE_CLASSES),
    ),
    _case(
        "instanceClass wrong type",
        "instanceClass",
        st.one_of(
            st.integers(), st.booleans(), st.lists(st.sampled_from(ALLOWED_INSTANCE_CLASSES), min_size=1, max_size=1)
        ),
    ),
    _case(
        "postgresVersion not creatable",
        "postgresVersion",
        st.one_of(
            st.sampled_from(["13.7", "13.19", "13", "14.10", "16.4", "13.23.1"]), st.floats(13, 14), st.text(max_size=6)
        ).filter(lambda v: v not in CREATABLE_POSTGRES_VERSIONS),
    ),
    _case(
        "cpuAlarmThresholdPercent out of 1..99",
        "cpuAlarmThresholdPercent",
        st.one_of(
            st.floats(max_value=0.999),
            st.floats(min_value=99.001),
            st.just(float("nan")),
            st.sampled_from(["inf", "-1", "100", "high", ""]),
            st.booleans(),
        ),
    ),
    _case(
        "freeStorageAlarmThresholdGiB not below allocated storage",
        "freeStorageAlarmThresholdGiB",
        st.one_of(st.integers(min_value=DEFAULTS["allocatedStorageGiB"]), st.integers(max_value=0)),
    ),
    _case(
        "allocatedStorageGiB out of range",
        "allocatedStorageGiB",
        _ints_outside(20, 65536),
        also=("freeStorageAlarmThresholdGiB", "maxAllocatedStorageGiB"),
    ),
    _case("alarmEvaluationPeriods out of 1..24", "alarmEvaluationPeriods", _ints_outside(1, 24)),
    _case(
        "alarmPeriodMinutes not allowed",
        "alarmPeriodMinutes",
        st.integers().filter(lambda m: m not in (1, 5, 10, 15, 30, 60)),
    ),
    _case(
        "monitoringIntervalSeconds not allowed",
        "monitoringIntervalSeconds",
        st.integers().filter(lambda s: s not in (1, 5, 10, 15, 30, 60)),
    ),
    _case(
        "logRetentionDays not allowed", "logRetentionDays", st.integers().filter(lambda d: d not in LOG_RETENTION_DAYS)
    ),
    _case("kmsPendingWindowDays out of 7..30", "kmsPendingWindowDays", _ints_outside(7, 30)),
    _case("databasePort out of 1150..65535", "databasePort", _ints_outside(1150, 65535)),
    _case(
        "performanceInsightsEnabled not a boolean",
        "performanceInsightsEnabled",
        st.one_of(st.integers(), st.sampled_from(["yes", "no", "1", "on", ""])),
    ),
    _case(
        "region not us-east-1",
        "region",
        st.one_of(
            st.sampled_from(["us-west-2", "eu-west-1", "US-EAST-1", "us-east-1a"]),
            st.text(max_size=10).filter(lambda s: s != "us-east-1"),
        ),
    ),
    _case(
        "vpcCidr not a private /16-/28",
        "vpcCidr",
        st.sampled_from(["8.8.0.0/16", "10.0.0.0/8", "10.1.0.0/29", "10.1.0.1/16", "not-a-cidr", "2001:db8::/56"]),
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
        "databaseSubnetCidrs outside the VPC",
        "databaseSubnetCidrs",
        st.integers(2, 255).map(lambda o: [f"10.{o}.10.0/24", "10.1.11.0/24", "10.1.12.0/24"]),
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
        "environmentName not 2-12 lower-case letters",
        "environmentName",
        st.sampled_from(["Staging", "s", "staging-1", "prod_env", ""]),
    ),
    _case("costCenter not a tag value", "costCenter", st.sampled_from(["", "a" * 257, "eng\n", "€uro"])),
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
        "devVpcCidr": st.sampled_from(
            ["10.1.0.0/16", "10.1.64.0/18", "10.0.0.0/8", "8.8.8.0/24", "nope"]
        ),  # overlaps staging, public, junk
        "devVpcId": st.sampled_from(["vpc-123", "VPC-0A1B2C3D", "subnet-0a1b2c3d4e5f60718", ""]),
        "devDbPort": _ints_outside(1150, 65535),
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
    **{f"appSubnetCidrs: {kind}": bad_app_subnets(kind) for kind in APP_SUBNET_KINDS},
    **dict(window_cases),
    **dict(other_cases),
    "misspelled key": misspelled_keys(),
    **{f"migration.{sub_key}": bad_migrations(sub_key) for sub_key in MIGRATION_SUB_KEYS},
}
