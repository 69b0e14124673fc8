"""What the rehearsal checks: the settings the server reports, and every write after the cut-over.

The spec's values are checked as PostgreSQL itself reports them (``SHOW``), taken from
infra/spec.toml, not from the config or the template: the point is to catch a template that
encodes them wrongly (shared_buffers in the wrong unit).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from infra.spec import spec
from migration.rehearsal.errors import RehearsalError, SettingMismatchError
from migration.rehearsal.parameters import map_rds_parameters
from migration.rehearsal.servers import LocalPostgres, describe_config, require_server_binaries, temporary_root

# The spec's values as PostgreSQL reports them (SHOW prints shared_buffers in MB).
SPEC_SHOW = {
    "shared_buffers": f"{spec().parameters.shared_buffers_mib}MB",
    "max_connections": str(spec().parameters.max_connections),
}


def check_reported_settings(server: LocalPostgres, expected: Mapping[str, str]) -> dict[str, str]:
    """``SHOW`` every expected setting; raise :class:`SettingMismatchError` on the first difference."""
    reported = {name: server.show(name) for name in expected}
    for name, want in expected.items():
        if reported[name] != want:
            given = server.settings.get(name, "(default)")
            raise SettingMismatchError(
                f"{server.name}: SHOW {name} reports {reported[name]!r}, the spec needs {want!r} "
                f"(parameter group value {given!r}; shared_buffers is counted in 8 kB pages)"
            )
    return reported


def verify_parameter_group_on_server(
    parameters: Mapping[str, str], *, expected: Mapping[str, str] = SPEC_SHOW
) -> dict[str, str]:
    """Start a throwaway server with these parameter group values and check what it reports."""
    binaries = require_server_binaries()
    mapped = map_rds_parameters(parameters, known=describe_config(binaries))
    with temporary_root() as root:
        server = LocalPostgres(
            binaries=binaries, root=root, name="paramcheck", superuser_password=secrets.token_urlsafe(16)
        )
        try:
            server.initdb()
            server.start(mapped.settings)
            return check_reported_settings(server, expected)
        finally:
            server.stop()


@dataclass(kw_only=True)
class RehearsalReport:
    write_pause_seconds: float
    rows_verified: int
    seed_rows: int
    writer_inserts: dict[str, int]
    writer_updates: int
    writer_failures: dict[str, int]
    reported_settings: dict[str, str]
    applied_parameters: dict[str, str]
    skipped_parameters: dict[str, str]
    preflight_refused_without_logical: str
    sequence_last_value: int
    max_payment_id: int
    script_seconds: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def summary(self) -> str:
        inserts = ", ".join(f"{k} {v}" for k, v in sorted(self.writer_inserts.items()))
        return (
            f"write pause {self.write_pause_seconds:.3f} s (last write on dev -> first on staging); "
            f"rows verified {self.rows_verified} ({self.seed_rows} seeded, inserts: {inserts}, "
            f"{self.writer_updates} rows with updates); sequence {self.sequence_last_value} >= max id {self.max_payment_id}; "
            f"SHOW shared_buffers={self.reported_settings['shared_buffers']} max_connections={self.reported_settings['max_connections']}; "
            f"wall time {self.wall_seconds:.1f} s"
        )


def writer_rows(server: LocalPostgres) -> int:
    return int(server.execute("SELECT count(*) FROM public.payments WHERE payment_ref LIKE 'w-%'")[0][0])


def verify_staging(
    *, result: Mapping[str, Any], dev: LocalPostgres, staging: LocalPostgres, seed_rows: int
) -> RehearsalReport:
    """Read both servers and check the writer's record against them (see :func:`verify_writes`)."""
    rows = staging.execute("SELECT payment_ref, id, version, amount_cents FROM public.payments")
    return verify_writes(
        result=result,
        staging_rows=[(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows],
        dev_refs={str(r[0]) for r in dev.execute("SELECT payment_ref FROM public.payments")},
        sequence_last_value=int(staging.execute("SELECT last_value FROM public.payments_id_seq")[0][0]),
        seed_rows=seed_rows,
    )


def verify_writes(
    *,
    result: Mapping[str, Any],
    staging_rows: list[tuple[str, int, int, int]],
    dev_refs: set[str],
    sequence_last_value: int,
    seed_rows: int,
) -> RehearsalReport:
    """Every acknowledged write is on staging exactly once, in its last acknowledged state.

    ``result`` is the writer's JSON record; ``staging_rows`` are (payment_ref, id, version,
    amount_cents). Raises :class:`RehearsalError` naming the first broken invariant.
    """
    pause = _write_pause(result)
    by_ref = _acknowledged_writes_on_staging(result, staging_rows=staging_rows, dev_refs=dev_refs, seed_rows=seed_rows)
    max_id = max(ident for ident, _version, _amount in by_ref.values())
    _sequence_follows_dev(result, seed_rows=seed_rows, sequence_last_value=sequence_last_value, max_id=max_id)
    on = result["inserted_on"]
    return RehearsalReport(
        write_pause_seconds=pause,
        rows_verified=len(staging_rows),
        seed_rows=sum(1 for ref in by_ref if ref.startswith("s-")),
        writer_inserts={label: sum(1 for ref in on if on[ref] == label) for label in sorted(set(on.values()))},
        writer_updates=len(result["updated"]),
        writer_failures=dict(result["failures"]),
        reported_settings={},
        applied_parameters={},
        skipped_parameters={},
        preflight_refused_without_logical="",
        sequence_last_value=sequence_last_value,
        max_payment_id=max_id,
    )


def _write_pause(result: Mapping[str, Any]) -> float:
    """Seconds from the last acknowledged write on dev to the first on staging; never an overlap."""
    if result["abandoned"]:
        raise RehearsalError(f"the writer gave up on {result['abandoned']} operation(s): writes never resumed")
    last_dev, first_staging = result["last_write"].get("dev"), result["first_write"].get("staging")
    if last_dev is None or first_staging is None:
        raise RehearsalError(f"the writer did not write on both sides (acknowledged writes: {result['successes']})")
    pause = float(first_staging - last_dev)
    if pause <= 0:
        raise RehearsalError(
            f"writes overlapped: a write on dev at +{-pause:.3f}s after the first on staging (split brain)"
        )
    return pause


def _acknowledged_writes_on_staging(
    result: Mapping[str, Any], *, staging_rows: list[tuple[str, int, int, int]], dev_refs: set[str], seed_rows: int
) -> dict[str, tuple[int, int, int]]:
    """No duplicate, no lost insert, every update in its last state, nothing unknown; by payment_ref."""
    by_ref = {ref: (ident, version, amount) for ref, ident, version, amount in staging_rows}
    by_id = {ident: (ref, version, amount) for ref, (ident, version, amount) in by_ref.items()}
    if len(by_ref) != len(staging_rows) or len(by_id) != len(staging_rows):
        raise RehearsalError(f"duplicates on staging: {len(staging_rows)} rows, {len(by_ref)} refs, {len(by_id)} ids")
    lost = [ref for ref, ident in result["inserted"].items() if by_ref.get(ref, (None,))[0] != ident]
    if lost:
        raise RehearsalError(f"{len(lost)} acknowledged insert(s) missing or renumbered on staging, e.g. {lost[:3]}")
    stale = [
        ident
        for ident, (version, amount) in result["updated"].items()
        if by_id.get(int(ident), ("", -1, -1))[1:] != (version, amount)
    ]
    if stale:
        raise RehearsalError(
            f"{len(stale)} acknowledged update(s) not in their last state on staging, e.g. ids {stale[:3]}"
        )
    seeds = [ref for ref in by_ref if ref.startswith("s-")]
    unexpected = set(by_ref) - set(result["inserted"]) - set(seeds)
    if len(seeds) != seed_rows or unexpected:
        raise RehearsalError(
            f"staging has {len(seeds)} seeded rows (want {seed_rows}) and {len(unexpected)} unknown rows"
        )
    if dev_refs - set(by_ref):
        raise RehearsalError(f"{len(dev_refs - set(by_ref))} row(s) on dev never reached staging")
    return by_ref


def _sequence_follows_dev(result: Mapping[str, Any], *, seed_rows: int, sequence_last_value: int, max_id: int) -> None:
    """Staging kept numbering after dev's last id, and can go on without collision (max_id: staging's max(id))."""
    on = result["inserted_on"]
    dev_ids = [ident for ref, ident in result["inserted"].items() if on[ref] == "dev"] + [seed_rows]
    staging_ids = [ident for ref, ident in result["inserted"].items() if on[ref] == "staging"]
    if not staging_ids or min(staging_ids) <= max(dev_ids):
        raise RehearsalError(
            f"staging ids {min(staging_ids, default=None)} do not follow dev's last id {max(dev_ids)}: sequence not synced"
        )
    if sequence_last_value < max_id:
        raise RehearsalError(
            f"staging payments_id_seq is at {sequence_last_value}, below max(id) {max_id}: the next insert collides"
        )


def check_clean(*, dev: LocalPostgres, staging: LocalPostgres) -> None:
    """Clean-up left no slot, publication, subscription, fence schema or replication user."""
    leftovers = {
        "dev slots": dev.execute("SELECT count(*) FROM pg_replication_slots")[0][0],
        "dev publications": dev.execute("SELECT count(*) FROM pg_publication")[0][0],
        "dev replication user": dev.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'migration_repl'")[0][0],
        "staging subscriptions": staging.execute("SELECT count(*) FROM pg_subscription")[0][0],
        "fence schemas": dev.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmigrate'")[0][0]
        + staging.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmigrate'")[0][0],
    }
    remaining = {k: v for k, v in leftovers.items() if v}
    if remaining:
        raise RehearsalError(f"09_cleanup.sh left objects behind: {remaining}")
