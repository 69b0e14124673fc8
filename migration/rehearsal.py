"""Rehearse the dev -> staging migration against two real local PostgreSQL servers.

Both servers listen on 127.0.0.1 only (unix sockets in a private temp dir). "staging"
starts with the parameter group exactly as the synthesized template holds it, mapped to
what vanilla PostgreSQL understands, and must report the spec's values (``SHOW
shared_buffers`` = 256MB, ``SHOW max_connections`` = 200): a unit mistake fails here for
real. "dev" starts without logical decoding, so the runbook's preflight must refuse it;
it is then restarted with what ``rds.logical_replication=1`` does (the dev reboot).

Then the runbook's own scripts run in order while a writer process inserts and updates
throughout. Afterwards every write the writer saw acknowledged is checked on staging (no
loss, no duplicate, last update wins), sequences are checked, and the write pause is
measured from the writer's side: last acknowledged write on dev -> first on staging.
Nothing is left running: servers stop and the temp dir goes in ``finally``.

Run: ``python -m migration.rehearsal`` (or ``nox -s rehearsal``).
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from infra.config import MIGRATION_EXAMPLE
from migration.pgbin import INSTALL_HINT, ServerBinaries, find_server_binaries

MIGRATION_DIR = Path(__file__).resolve().parent
ROOT = MIGRATION_DIR.parent
SEED_SQL = MIGRATION_DIR / "rehearsal_seed.sql"
DATABASE = "payments"
APP_ROLE = "payments_app"
# The spec's values as PostgreSQL itself reports them. Deliberately not derived from the
# config or the template: the point is to catch a template that encodes them wrongly.
SPEC_SHOW = {"shared_buffers": "256MB", "max_connections": "200"}
# Strings only: synthesis never contacts these; they shape the migration-on template.
REHEARSAL_MIGRATION_CONTEXT = MIGRATION_EXAMPLE
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
SCRIPT_TIMEOUT_SECONDS = 120


class RehearsalError(RuntimeError):
    """The rehearsal failed; the message is one line saying what and why."""


class ServerBinariesMissingError(RehearsalError):
    """No PostgreSQL server binaries (postgres, initdb, pg_ctl) on this machine."""


class ParameterMappingError(RehearsalError):
    """A parameter group value RDS would reject, or PostgreSQL does not know."""


class SettingMismatchError(RehearsalError):
    """The server reports a different value than the spec requires (often a unit mistake)."""


# --------------------------------------------------------------------------- binaries


def require_server_binaries() -> ServerBinaries:
    binaries = find_server_binaries()
    if binaries is None:
        raise ServerBinariesMissingError(
            f"PostgreSQL server binaries (postgres, initdb, pg_ctl) not found; install them: {INSTALL_HINT}"
        )
    return binaries


def _server_user_prefix() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run server commands as the postgres user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RehearsalError("running as root but there is no 'postgres' OS user to run the servers as") from None
    return ["runuser", "-u", "postgres", "--"]


def describe_config(binaries: ServerBinaries) -> dict[str, str]:
    """Every parameter this PostgreSQL knows, with its type (bool, integer, real, string, enum)."""
    result = subprocess.run(
        [*_server_user_prefix(), binaries.tool("postgres"), "--describe-config"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    types: dict[str, str] = {}
    for line in result.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) >= 4:
            types[fields[0]] = fields[3].lower()
    if "shared_buffers" not in types:
        raise RehearsalError("postgres --describe-config listed no shared_buffers; cannot check parameter types")
    return types


# --------------------------------------------------------------------------- parameter group


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


# --------------------------------------------------------------------------- servers


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _conf_line(name: str, value: str) -> str:
    return f"{name} = '{value.replace(chr(39), chr(39) * 2)}'"


class LocalPostgres:
    """One throwaway cluster under ``root/name``, on 127.0.0.1 with a random free port."""

    def __init__(self, *, binaries: ServerBinaries, root: Path, name: str, superuser_password: str) -> None:
        self.binaries = binaries
        self.name = name
        self.data = root / f"{name}-data"
        self.sockets = root / f"{name}-sock"
        self.logfile = root / f"{name}.log"
        self.password = superuser_password
        self.port = 0
        self.settings: dict[str, str] = {}
        self._root = root
        self._running = False

    def url(self, *, user: str = "postgres", password: str | None = None, dbname: str = DATABASE) -> str:
        return f"postgresql://{user}:{password or self.password}@127.0.0.1:{self.port}/{dbname}"

    def conninfo(self, *, user: str, password: str, dbname: str = DATABASE) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password}"

    def initdb(self) -> None:
        pwfile = self._root / f"{self.name}.pw"
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        _chown_to_server_user(pwfile)
        self.sockets.mkdir()
        _chown_to_server_user(self.sockets)
        self._server_cmd(
            self.binaries.tool("initdb"), "-D", str(self.data), "-U", "postgres", "--pwfile", str(pwfile),
            "--auth=scram-sha-256", "--no-locale", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()

    def start(self, settings: Mapping[str, str]) -> None:
        """(Re)write the rehearsal's settings and start; loopback and private sockets only."""
        self.settings = dict(settings)
        self.port = self.port or _free_loopback_port()
        harness = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.sockets),
        }
        conf = self.data / "rehearsal.conf"
        conf.write_text(
            "\n".join(_conf_line(k, v) for k, v in {**self.settings, **harness}.items()) + "\n", encoding="utf-8"
        )
        _chown_to_server_user(conf)
        main_conf = self.data / "postgresql.conf"
        if "include = 'rehearsal.conf'" not in main_conf.read_text(encoding="utf-8"):
            with main_conf.open("a", encoding="utf-8") as handle:
                handle.write("\ninclude = 'rehearsal.conf'\n")
        try:
            self._server_cmd(
                self.binaries.tool("pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "30", "start"
            )
        except RehearsalError as error:
            raise RehearsalError(f"{self.name} server did not start: {error}; log: {self.log_tail()}") from None
        self._running = True

    def stop(self) -> None:
        if not self._running:
            return
        for mode in ("fast", "immediate"):
            try:
                self._server_cmd(
                    self.binaries.tool("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"
                )
                break
            except RehearsalError:
                continue
        self._running = False

    def restart(self, settings: Mapping[str, str]) -> None:
        """What an RDS reboot does for a static parameter: stop, change, start."""
        self.stop()
        self.start(settings)

    def show(self, name: str) -> str:
        with psycopg.connect(self.url(dbname="postgres"), connect_timeout=5) as connection:
            row = connection.execute(f"SHOW {name}").fetchone()  # name is one of our own constants
        return str(row[0]) if row else ""

    def execute(self, sql: str, *, dbname: str = DATABASE) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url(dbname=dbname), autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(sql.encode())
            return list(cursor.fetchall()) if cursor.description else []

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.logfile.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " | ".join(text[-lines:])

    def _server_cmd(self, *command: str) -> None:
        result = subprocess.run(
            [*_server_user_prefix(), *command],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=str(self._root),
        )
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise RehearsalError(f"{Path(command[0]).name} exited {result.returncode}: {detail[-1] if detail else ''}")


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


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


@contextmanager
def temporary_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pg-rehearsal-"))
    try:
        _chown_to_server_user(root)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


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


# --------------------------------------------------------------------------- the rehearsal


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


def run_script(name: str, *, env: Mapping[str, str], log: Callable[[str], None], args: tuple[str, ...] = ()) -> float:
    """Run one runbook script as an operator would; raise with its last error line if it fails."""
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(MIGRATION_DIR / name), *args],
        check=False,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT_SECONDS,
        cwd=str(MIGRATION_DIR),
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    for line in (result.stdout + result.stderr).strip().splitlines():
        log(f"  {name}: {line}")
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise RehearsalError(f"{name} exited {result.returncode}: {lines[-1] if lines else '(no output)'}")
    return seconds


def _script_env(
    *, dev: LocalPostgres, staging: LocalPostgres, work: Path, passwords: Mapping[str, str]
) -> dict[str, str]:
    # Only what the scripts need: no inherited PG* variable may redirect them elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        {
            "PATH": f"{dev.binaries.bindir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "PGCONNECT_TIMEOUT": "5",
            "SOURCE_DATABASE_URL": dev.url(),
            "TARGET_DATABASE_URL": staging.url(),
            "REPLICATION_PASSWORD": passwords["replication"],
            "APP_ROLE_PASSWORD": passwords["app"],
            "SUBSCRIPTION_CONNINFO": dev.conninfo(user="migration_repl", password=passwords["replication"]),
            "SYNC_TIMEOUT_SECONDS": "60",
            "FENCE_TIMEOUT_SECONDS": "30",
            "CUTOVER_STATE_DIR": str(work / "cutover-state"),
            "APP_ENDPOINT_FILE": str(work / "endpoint.json"),
            "NEW_APP_ENDPOINT": json.dumps(
                {"label": "staging", "conninfo": staging.conninfo(user=APP_ROLE, password=passwords["app"])}
            ),
        }
    )
    return env


def run_rehearsal(
    *,
    template: Mapping[str, Any],
    rows: int = 3000,
    streaming_seconds: float = 1.0,
    after_switch_seconds: float = 0.5,
    log: Callable[[str], None] = print,
) -> RehearsalReport:
    """The whole rehearsal; raises :class:`RehearsalError` on the first failed check."""
    started = time.monotonic()
    binaries = require_server_binaries()
    mapped = map_rds_parameters(parameter_group_parameters(template), known=describe_config(binaries))
    for name, reason in mapped.skipped.items():
        log(f"parameter {name} not applied as-is: {reason}")
    log(f"PostgreSQL {binaries.major} from {binaries.bindir}; staging settings {mapped.settings}")
    passwords = {key: secrets.token_urlsafe(18) for key in ("dev", "staging", "replication", "app")}
    writer: subprocess.Popen[bytes] | None = None
    with temporary_root() as root:
        dev = LocalPostgres(binaries=binaries, root=root, name="dev", superuser_password=passwords["dev"])
        staging = LocalPostgres(binaries=binaries, root=root, name="staging", superuser_password=passwords["staging"])
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(lambda server: server.initdb(), (dev, staging)))
            dev.start({})  # dev before its parameter group change: PostgreSQL defaults (wal_level=replica)
            staging.start(mapped.settings)
            reported = check_reported_settings(staging, SPEC_SHOW)
            log(
                f"staging reports shared_buffers={reported['shared_buffers']} max_connections={reported['max_connections']}"
            )
            for server in (dev, staging):
                server.execute(f"CREATE DATABASE {DATABASE}", dbname="postgres")
            _psql_file(dev, SEED_SQL, variables={"rows": str(rows), "app_password": passwords["app"]})
            log(f"dev seeded with {rows} payments")

            env = _script_env(dev=dev, staging=staging, work=root, passwords=passwords)
            timings: dict[str, float] = {}
            refused = _expect_preflight_refusal(env=env, log=log)
            dev.restart({"wal_level": "logical"})  # the dev parameter group's rds.logical_replication=1, and the reboot
            log("dev restarted with wal_level=logical (rds.logical_replication=1 + reboot)")

            endpoint_file = root / "endpoint.json"
            endpoint_file.write_text(
                json.dumps({"label": "dev", "conninfo": dev.conninfo(user=APP_ROLE, password=passwords["app"])}),
                encoding="utf-8",
            )
            stop_file, result_file = root / "writer.stop", root / "writer.json"
            writer = subprocess.Popen(
                [sys.executable, "-m", "migration.writer", "--endpoint-file", str(endpoint_file), "--stop-file",
                 str(stop_file), "--result", str(result_file), "--seed-ids", str(rows)],
                cwd=str(ROOT), env={**env, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
            )  # fmt: skip
            _wait_for(lambda: _writer_rows(dev) > 0, timeout=15, what="the writer's first insert on dev")

            for script in (
                "01_preflight.sh",
                "02_roles.sh",
                "03_copy_schema.sh",
                "04_create_publication.sh",
                "05_create_subscription.sh",
            ):
                timings[script] = run_script(script, env=env, log=log)
            for script in ("02_roles.sh", "03_copy_schema.sh", "04_create_publication.sh", "05_create_subscription.sh"):
                run_script(script, env=env, log=log)  # idempotent: a second run changes nothing and succeeds
            time.sleep(streaming_seconds)  # the writer keeps going while changes stream
            _rehearse_aborted_cutover(env=env, root=root, dev=dev, staging=staging, log=log)
            # The runbook's gate before the cut-over. It also waits out the apply worker's
            # restart after the abort (the launcher retries every wal_retrieve_retry_interval).
            timings["06_replication_lag.sh"] = run_script(
                "06_replication_lag.sh", env=env, log=log, args=("--max-delay", "10")
            )
            timings["07_cutover.sh"] = run_script("07_cutover.sh", env=env, log=log)
            time.sleep(after_switch_seconds)  # the writer carries on against staging
            refused_at = _rehearse_refused_rollback(env=env, dev=dev, log=log)
            time.sleep(0.2)
            stop_file.touch()
            if writer.wait(timeout=30) != 0:
                raise RehearsalError(f"writer exited {writer.returncode}")
            result = json.loads(result_file.read_text(encoding="utf-8"))
            report = _verify(result=result, dev=dev, staging=staging, seed_rows=rows)
            if result["last_write"]["staging"] <= refused_at:
                raise RehearsalError("the refused rollback disturbed staging: no write succeeded there afterwards")
            timings["09_cleanup.sh"] = run_script("09_cleanup.sh", env=env, log=log)
            run_script("09_cleanup.sh", env=env, log=log)
            _check_clean(dev=dev, staging=staging)
        finally:
            if writer is not None and writer.poll() is None:
                writer.kill()
                writer.wait(timeout=10)
            for server in (dev, staging):
                server.stop()
    report.reported_settings = reported
    report.applied_parameters = mapped.settings
    report.skipped_parameters = mapped.skipped
    report.preflight_refused_without_logical = refused
    report.script_seconds = {k: round(v, 3) for k, v in timings.items()}
    report.wall_seconds = time.monotonic() - started
    return report


def _psql_file(server: LocalPostgres, path: Path, *, variables: Mapping[str, str]) -> None:
    args = ["psql", server.url(), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-f", str(path)]
    for key, value in variables.items():
        args += ["-v", f"{key}={value}"]
    result = subprocess.run(args, check=False, capture_output=True, text=True, timeout=60, env=_client_env(server))
    if result.returncode != 0:
        raise RehearsalError(f"psql -f {path.name} on {server.name} failed: {result.stderr.strip()}")


def _client_env(server: LocalPostgres) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PATH"] = f"{server.binaries.bindir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return env


def _expect_preflight_refusal(*, env: Mapping[str, str], log: Callable[[str], None]) -> str:
    """The preflight must refuse a source without logical decoding, or its check cannot fail."""
    try:
        run_script("01_preflight.sh", env=env, log=log)
    except RehearsalError as refusal:
        if "rds.logical_replication=1" not in str(refusal):
            raise RehearsalError(f"preflight failed for another reason than wal_level: {refusal}") from None
        log("preflight refused dev before its parameter change, as it must")
        return str(refusal)
    raise RehearsalError("01_preflight.sh accepted a source with wal_level=replica: its check cannot fail")


def _rehearse_aborted_cutover(
    *, env: Mapping[str, str], root: Path, dev: LocalPostgres, staging: LocalPostgres, log: Callable[[str], None]
) -> None:
    """A cut-over whose last step fails must hand the source its writes back (automatic rollback)."""
    broken_switch = {**env, "APP_ENDPOINT_FILE": str(root / "no-such-dir" / "endpoint.json")}
    before = _writer_rows(dev)
    try:
        run_script("07_cutover.sh", env=broken_switch, log=log)
    except RehearsalError as failure:
        log(f"cut-over with a failing switch aborted as it must: {failure}")
    else:
        raise RehearsalError("07_cutover.sh succeeded although its switch could not write: the abort test is void")
    _wait_for(lambda: _writer_rows(dev) > before, timeout=10, what="writes to resume on dev after the aborted cut-over")
    enabled = staging.execute("SELECT subenabled FROM pg_subscription WHERE subname = 'payments_migration'")
    writable = staging.execute(f"SELECT has_table_privilege('{APP_ROLE}', 'public.payments', 'INSERT')")
    if enabled != [(True,)] or writable != [(False,)]:
        raise RehearsalError(
            f"aborted cut-over left staging wrong: subscription enabled={enabled}, app can insert={writable}"
        )
    log("aborted cut-over: dev writable again, subscription re-enabled, staging still closed to the app")


def _rehearse_refused_rollback(*, env: Mapping[str, str], dev: LocalPostgres, log: Callable[[str], None]) -> float:
    """After the switch staging has new writes: rollback.sh must refuse and change nothing."""
    back_to_dev = {
        **env,
        "NEW_APP_ENDPOINT": json.dumps({"label": "dev", "conninfo": dev.conninfo(user=APP_ROLE, password="unused")}),
    }
    try:
        run_script("rollback.sh", env=back_to_dev, log=log)
    except RehearsalError as refusal:
        if "took writes after the switch" not in str(refusal):
            raise RehearsalError(f"rollback.sh failed for another reason than divergence: {refusal}") from None
        log("rollback.sh refused to discard staging's new writes, as it must")
        return time.monotonic()
    raise RehearsalError("rollback.sh rolled back although staging had taken writes: they would be lost")


def _wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RehearsalError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def _writer_rows(server: LocalPostgres) -> int:
    return int(server.execute("SELECT count(*) FROM public.payments WHERE payment_ref LIKE 'w-%'")[0][0])


def _verify(
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
    if result["abandoned"]:
        raise RehearsalError(f"the writer gave up on {result['abandoned']} operation(s): writes never resumed")
    last_dev, first_staging = result["last_write"].get("dev"), result["first_write"].get("staging")
    if last_dev is None or first_staging is None:
        raise RehearsalError(f"the writer did not write on both sides (acknowledged writes: {result['successes']})")
    pause = first_staging - last_dev
    if pause <= 0:
        raise RehearsalError(
            f"writes overlapped: a write on dev at +{-pause:.3f}s after the first on staging (split brain)"
        )

    rows = staging_rows
    by_ref = {ref: (ident, version, amount) for ref, ident, version, amount in rows}
    by_id = {ident: (ref, version, amount) for ref, (ident, version, amount) in by_ref.items()}
    if len(by_ref) != len(rows) or len(by_id) != len(rows):
        raise RehearsalError(f"duplicates on staging: {len(rows)} rows, {len(by_ref)} refs, {len(by_id)} ids")
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

    # Sequences: staging kept numbering after dev's last id, and can go on without collision.
    on = result["inserted_on"]
    dev_ids = [ident for ref, ident in result["inserted"].items() if on[ref] == "dev"] + [seed_rows]
    staging_ids = [ident for ref, ident in result["inserted"].items() if on[ref] == "staging"]
    if not staging_ids or min(staging_ids) <= max(dev_ids):
        raise RehearsalError(
            f"staging ids {min(staging_ids, default=None)} do not follow dev's last id {max(dev_ids)}: sequence not synced"
        )
    last_value = sequence_last_value
    max_id = max(by_id)
    if last_value < max_id:
        raise RehearsalError(
            f"staging payments_id_seq is at {last_value}, below max(id) {max_id}: the next insert collides"
        )
    return RehearsalReport(
        write_pause_seconds=pause,
        rows_verified=len(rows),
        seed_rows=len(seeds),
        writer_inserts={label: sum(1 for ref in on if on[ref] == label) for label in sorted(set(on.values()))},
        writer_updates=len(result["updated"]),
        writer_failures=dict(result["failures"]),
        reported_settings={},
        applied_parameters={},
        skipped_parameters={},
        preflight_refused_without_logical="",
        sequence_last_value=last_value,
        max_payment_id=max_id,
    )


def _check_clean(*, dev: LocalPostgres, staging: LocalPostgres) -> None:
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


# --------------------------------------------------------------------------- entry point


def synthesized_template() -> dict[str, Any]:
    """The stack as deployed for the migration (migration context on), synthesized offline."""
    from infra.app_builder import synthesize  # noqa: PLC0415  (jsii starts only when needed)
    from infra.stacks.staging_database import STACK_ID  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="cdk-rehearsal-") as outdir:
        assembly = synthesize(outdir=outdir, context={"migration": REHEARSAL_MIGRATION_CONTEXT})
        loaded: dict[str, Any] = json.loads((assembly / f"{STACK_ID}.template.json").read_text(encoding="utf-8"))
        return loaded


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migration.rehearsal", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="payments seeded on dev before the writer starts")
    parser.add_argument("--json", type=Path, help="also write the report here as JSON")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        template = synthesized_template()
        report = run_rehearsal(template=template, rows=args.rows, log=lambda line: print(line, flush=True))
    except RehearsalError as error:
        print(f"rehearsal FAILED: {error}", file=sys.stderr)
        return 1
    report.wall_seconds = time.monotonic() - started  # synthesis included
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2), encoding="utf-8")
    print(f"rehearsal OK: {report.summary()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
