"""The migration rehearsal, for real: two local PostgreSQL servers and the runbook's scripts.

Fails (never skips) when the PostgreSQL server binaries are missing: ``nox -s tests``
installs them (``ensure_postgres_server``); a bare pytest run must get them the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from migration.pgbin import INSTALL_HINT, ServerBinaries, find_server_binaries
from migration.rehearsal import REHEARSAL_MIGRATION_CONTEXT as MIGRATION
from migration.rehearsal import (
    SPEC_SHOW,
    ParameterMappingError,
    RehearsalError,
    RehearsalReport,
    ServerBinariesMissingError,
    SettingMismatchError,
    describe_config,
    map_rds_parameters,
    parameter_group_parameters,
    run_rehearsal,
    verify_parameter_group_on_server,
)
from tests.conftest import synth_template

pytestmark = pytest.mark.slow
SEED_ROWS = 2000


@pytest.fixture(scope="module")
def binaries() -> ServerBinaries:
    found = find_server_binaries()
    if found is None:  # fail closed: a missing server must not turn into a green, empty run
        pytest.fail(f"PostgreSQL server binaries (postgres, initdb, pg_ctl) are missing; install them: {INSTALL_HINT}")
    return found


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return synth_template({"migration": MIGRATION})


@pytest.fixture(scope="module")
def report(binaries: ServerBinaries, template: dict[str, Any]) -> RehearsalReport:
    del binaries  # ordering only: fail with the install hint before anything starts
    lines: list[str] = []
    try:
        return run_rehearsal(template=template, rows=SEED_ROWS, log=lines.append)
    except RehearsalError as error:
        pytest.fail(f"{error}\n" + "\n".join(lines[-40:]))


# ------------------------------------------------------------------ the rehearsal itself


def test_no_acknowledged_write_is_lost_or_duplicated(report: RehearsalReport) -> None:
    # run_rehearsal raises on any loss/duplicate/stale update; here: it really checked rows on both sides.
    assert report.seed_rows == SEED_ROWS
    assert report.writer_inserts.get("dev", 0) > 0, "the writer never wrote on dev: replication of live writes untested"
    assert report.writer_inserts.get("staging", 0) > 0, "the writer never wrote on staging: the switch untested"
    assert report.rows_verified == SEED_ROWS + sum(report.writer_inserts.values())
    assert report.writer_updates > 0


def test_sequences_continue_after_the_cutover(report: RehearsalReport) -> None:
    assert report.sequence_last_value >= report.max_payment_id
    # Every row has its own id (checked in run_rehearsal); an aborted insert may leave a gap.
    assert report.max_payment_id >= report.rows_verified


def test_write_pause_is_measured(report: RehearsalReport) -> None:
    # A measurement, not a benchmark: it must exist and be a pause, not an overlap (split brain).
    assert report.write_pause_seconds > 0
    assert report.write_pause_seconds < 30  # the writer gives up after 15 s; longer means never resumed
    assert report.script_seconds["07_cutover.sh"] > 0


def test_staging_server_reports_the_spec_values_from_the_template(report: RehearsalReport) -> None:
    assert report.reported_settings == SPEC_SHOW == {"shared_buffers": "256MB", "max_connections": "200"}
    # The template's strings reached the server unchanged (no conversion in between).
    assert report.applied_parameters["shared_buffers"] == "32768"
    assert report.applied_parameters["max_connections"] == "200"
    assert report.applied_parameters["wal_level"] == "logical"  # from rds.logical_replication=1
    assert set(report.skipped_parameters) == {"rds.force_ssl", "rds.logical_replication"}


def test_preflight_refused_the_source_before_its_parameter_change(report: RehearsalReport) -> None:
    assert "rds.logical_replication=1" in report.preflight_refused_without_logical


# ------------------------------------------------------------------ unit mistakes fail for real


def test_unit_suffix_is_rejected_like_rds_rejects_it(binaries: ServerBinaries, template: dict[str, Any]) -> None:
    parameters = {**parameter_group_parameters(template), "shared_buffers": "256MB"}
    with pytest.raises(
        ParameterMappingError, match=r"shared_buffers='256MB': RDS integer parameters take a bare number"
    ):
        map_rds_parameters(parameters, known=describe_config(binaries))


def test_megabytes_given_as_pages_fail_on_a_real_server(binaries: ServerBinaries, template: dict[str, Any]) -> None:
    del binaries
    parameters = {**parameter_group_parameters(template), "shared_buffers": "256"}  # 256 pages = 2 MB
    with pytest.raises(SettingMismatchError, match=r"SHOW shared_buffers reports '2MB', the spec needs '256MB'"):
        verify_parameter_group_on_server(parameters)


def test_wrong_max_connections_fails_on_a_real_server(binaries: ServerBinaries, template: dict[str, Any]) -> None:
    del binaries
    parameters = {**parameter_group_parameters(template), "max_connections": "100"}
    with pytest.raises(SettingMismatchError, match=r"SHOW max_connections reports '100', the spec needs '200'"):
        verify_parameter_group_on_server(parameters)


# ------------------------------------------------------------------ mapping and fail-closed rules

KNOWN = {"shared_buffers": "integer", "max_connections": "integer", "log_connections": "bool", "wal_level": "enum"}


def test_mapping_passes_values_through_and_explains_rds_only_ones() -> None:
    mapped = map_rds_parameters(
        {"shared_buffers": "32768", "rds.force_ssl": "1", "rds.logical_replication": "1", "rds.other": "x"}, known=KNOWN
    )
    assert mapped.settings == {"shared_buffers": "32768", "wal_level": "logical"}
    assert set(mapped.skipped) == {"rds.force_ssl", "rds.logical_replication", "rds.other"}
    assert all(mapped.skipped.values())


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"shared_bufers": "32768"}, "does not know"),
        ({"shared_buffers": "{DBInstanceClassMemory/32768}"}, "RDS formula"),
        ({"max_connections": "200 "}, "bare number"),
        ({"log_connections": "yes please"}, "not a boolean"),
    ],
)
def test_mapping_rejects_what_rds_or_postgresql_would(parameters: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterMappingError, match=message):
        map_rds_parameters(parameters, known=KNOWN)


def test_template_without_exactly_one_parameter_group_is_an_error() -> None:
    with pytest.raises(RehearsalError, match="exactly one"):
        parameter_group_parameters({"Resources": {}})


def test_missing_server_binaries_fail_closed(monkeypatch: pytest.MonkeyPatch, template: dict[str, Any]) -> None:
    monkeypatch.setattr("migration.rehearsal.servers.find_server_binaries", lambda: None)
    with pytest.raises(ServerBinariesMissingError, match=r"apt-get install -y postgresql"):
        run_rehearsal(template=template)


def test_binary_search_finds_nothing_in_an_empty_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_server_binaries(search_roots=(tmp_path,)) is None
