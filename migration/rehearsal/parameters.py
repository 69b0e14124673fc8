"""The template's RDS parameter group, as settings a vanilla PostgreSQL server takes.

Values pass through unchanged where PostgreSQL reads them as RDS does; what RDS itself
would reject (a unit suffix on an integer, a formula) is refused here, and RDS-only
parameters are mapped to their local effect or skipped with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from migration.rehearsal.errors import ParameterMappingError, RehearsalError

# RDS-only parameters: what each becomes locally, and why.
RDS_PARAMETER_MAP: dict[str, Callable[[str], tuple[dict[str, str], str]]] = {
    "rds.logical_replication": lambda v: (
        ({"wal_level": "logical"}, "RDS sets wal_level=logical for rds.logical_replication=1")
        if v == "1"
        else ({}, "off: wal_level stays at the PostgreSQL default")
    ),
    "rds.force_ssl": lambda _v: (
        {},
        "RDS-only (rejects non-TLS clients); the rehearsal is loopback-only with no server certificate",
    ),
}


@dataclass(frozen=True, kw_only=True)
class MappedParameters:
    settings: dict[str, str]  # postgresql.conf name -> value, exactly as the template holds it
    skipped: dict[str, str]  # RDS parameter -> why it is not applied as-is


def parameter_group_parameters(template: Mapping[str, Any]) -> dict[str, str]:
    """``Parameters`` of the template's one ``AWS::RDS::DBParameterGroup``."""
    groups = [r for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::RDS::DBParameterGroup"]
    if len(groups) != 1:
        raise RehearsalError(f"expected exactly one AWS::RDS::DBParameterGroup in the template, found {len(groups)}")
    parameters = groups[0].get("Properties", {}).get("Parameters", {})
    if not parameters or not all(isinstance(v, str) for v in parameters.values()):
        raise RehearsalError(f"parameter group Parameters must be literal strings, got {parameters!r}")
    return dict(parameters)


def map_rds_parameters(parameters: Mapping[str, str], *, known: Mapping[str, str]) -> MappedParameters:
    """RDS parameter group -> postgresql.conf settings, rejecting what RDS itself would reject.

    Values pass through unchanged: PostgreSQL reads a bare integer in the parameter's base
    unit, as RDS does (shared_buffers in 8 kB pages). A unit suffix ("256MB") is refused
    here, because RDS refuses it for integer parameters, and PostgreSQL would accept it
    and hide the mistake.
    """
    settings: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name, value in sorted(parameters.items()):
        if name.startswith("rds."):
            if name not in RDS_PARAMETER_MAP:
                skipped[name] = "RDS-only parameter with no vanilla PostgreSQL equivalent"
                continue
            extra, reason = RDS_PARAMETER_MAP[name](value)
            settings.update(extra)
            skipped[name] = reason
            continue
        vartype = known.get(name)
        if vartype is None:
            raise ParameterMappingError(f"parameter group sets {name}={value!r}, which this PostgreSQL does not know")
        if value.startswith("{") or "(" in value:
            raise ParameterMappingError(
                f"{name}={value!r} is an RDS formula; the rehearsal cannot evaluate DBInstanceClassMemory"
            )
        if vartype == "integer" and not re.fullmatch(r"-?\d+", value):
            raise ParameterMappingError(
                f"{name}={value!r}: RDS integer parameters take a bare number in the parameter's base unit "
                "(shared_buffers counts 8 kB pages: 256 MiB = 32768); RDS rejects this value"
            )
        if vartype == "bool" and value.lower() not in ("0", "1", "on", "off", "true", "false"):
            raise ParameterMappingError(f"{name}={value!r} is not a boolean")
        settings[name] = value
    return MappedParameters(settings=settings, skipped=skipped)
