"""The staging database's fixed values and bounds, loaded from ``infra/spec.toml``.

One source for infra/config.py (what context may set), the property tests (what they draw)
and the compliance policies (what they require). This module imports only the standard
library (``tomllib``) and nothing of ``infra``'s other modules, so it loads the same in the
app's venv and in checkov's own venv, where the policies run without aws_cdk: import it
as ``infra.spec`` or load the file by path.

The loader is hand-written rather than pydantic for that reason (checkov's venv must not
need the app's dependencies); it is strict all the same: a missing, unknown or mistyped
entry is a :class:`SpecError` naming the file, the table, the key and what was expected.
"""

from __future__ import annotations

import functools
import tomllib
import types
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

SPEC_FILE = Path(__file__).with_name("spec.toml")
# 8 kB pages: the unit RDS uses for shared_buffers.
_PAGES_PER_MIB = 1024 // 8

T = TypeVar("T")


class SpecError(ValueError):
    """infra/spec.toml is not what this module expects. One line: file, key, what is wrong."""


@dataclass(frozen=True, kw_only=True)
class IntRange:
    """An inclusive bound, written ``{ min = 7, max = 30 }``."""

    min: int
    max: int

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.min <= value <= self.max

    def __str__(self) -> str:
        return f"from {self.min} to {self.max}"


@dataclass(frozen=True, kw_only=True)
class EnvironmentSpec:
    name: str
    cost_center: str
    region: str

    @property
    def required_tags(self) -> dict[str, str]:
        """REQ-SEC-05: the tags every taggable resource carries."""
        return {"Environment": self.name, "CostCenter": self.cost_center}


@dataclass(frozen=True, kw_only=True)
class NamingSpec:
    suffix_max_length: int


@dataclass(frozen=True, kw_only=True)
class NetworkSpec:
    vpc_cidr: str
    dev_vpc_cidr: str
    availability_zone_count: int
    app_subnet_cidrs: tuple[str, ...]
    subnet_prefix_length: IntRange


@dataclass(frozen=True, kw_only=True)
class DatabaseSpec:
    instance_class: str
    engine: str
    engine_versions: tuple[str, ...]
    multi_az: bool
    deletion_protection: bool
    backup_retention_days: int
    auto_minor_version_upgrade: bool
    maintenance_window: str
    port: IntRange
    allocated_storage_gib: IntRange

    @property
    def major_version(self) -> str:
        """The one major every creatable version shares (``13``)."""
        majors = {version.split(".")[0] for version in self.engine_versions}
        if len(majors) != 1:
            raise SpecError(f"{SPEC_FILE.name}: [database] engine_versions must share one major version: {majors}")
        return majors.pop()


@dataclass(frozen=True, kw_only=True)
class ParametersSpec:
    max_connections: int
    shared_buffers_mib: int

    @property
    def shared_buffers_pages(self) -> int:
        """What the parameter group holds: RDS counts 8 kB pages (256 MiB -> 32768)."""
        return self.shared_buffers_mib * _PAGES_PER_MIB


@dataclass(frozen=True, kw_only=True)
class MonitoringSpec:
    enhanced_monitoring_interval_seconds: int
    cpu_alarm_threshold_percent: int
    free_storage_alarm_threshold_gib: int
    alarm_evaluation_periods: IntRange
    alarm_period_minutes: tuple[int, ...]

    @property
    def free_storage_alarm_threshold_bytes(self) -> int:
        """``FreeStorageSpace`` is reported in bytes: 10 GiB -> 10737418240."""
        return self.free_storage_alarm_threshold_gib * 1024**3


@dataclass(frozen=True, kw_only=True)
class LogsSpec:
    retention_days_min: int
    retention_days_allowed: tuple[int, ...]

    @property
    def retention_days_accepted(self) -> tuple[int, ...]:
        """The CloudWatch Logs periods that keep logs at least ``retention_days_min`` days."""
        return tuple(days for days in self.retention_days_allowed if days >= self.retention_days_min)


@dataclass(frozen=True, kw_only=True)
class EncryptionSpec:
    kms_pending_window_days: IntRange


@dataclass(frozen=True, kw_only=True)
class SecretsSpec:
    rotation_max_days: int


@dataclass(frozen=True, kw_only=True)
class Spec:
    """infra/spec.toml, one attribute per table."""

    environment: EnvironmentSpec
    naming: NamingSpec
    network: NetworkSpec
    database: DatabaseSpec
    parameters: ParametersSpec
    monitoring: MonitoringSpec
    logs: LogsSpec
    encryption: EncryptionSpec
    secrets: SecretsSpec


def load_spec(path: Path = SPEC_FILE) -> Spec:
    """Read and check ``path``; raises :class:`SpecError` (one line) on anything unexpected."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SpecError(f"{path.name}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path.name}: not valid TOML ({error})") from None
    return _build(Spec, data, where=path.name)


@functools.cache
def spec() -> Spec:
    """The project's spec, read once per process."""
    return load_spec()


def _build(cls: type[T], table: object, *, where: str) -> T:
    if not isinstance(table, dict):
        raise SpecError(f"{where}: must be a table, got {table!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(names))
    missing = [name for name in names if name not in table]
    if unknown or missing:
        raise SpecError(f"{where}: unknown key(s) {unknown or '-'}, missing key(s) {missing or '-'}")
    values = {name: _value(hints[name], table[name], where=f"{where} {name}") for name in names}
    return cls(**values)


def _value(hint: Any, raw: object, *, where: str) -> Any:
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, raw, where=where)
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(hint)
        if not isinstance(raw, list):
            raise SpecError(f"{where}: must be a list, got {raw!r}")
        return tuple(_value(item, element, where=where) for element in raw)
    if isinstance(hint, types.UnionType) or origin is not None:
        raise SpecError(f"{where}: unsupported type {hint}")  # keep spec.toml's types simple
    # bool is an int in Python; a spec value of the wrong one of the two is still wrong.
    if not isinstance(raw, hint) or (hint is int and isinstance(raw, bool)):
        raise SpecError(f"{where}: must be {hint.__name__}, got {raw!r}")
    return raw
