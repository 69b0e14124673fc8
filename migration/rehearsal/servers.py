"""Throwaway local PostgreSQL servers: loopback only, private sockets, removed afterwards.

As root (CI containers), server commands run as the ``postgres`` OS user: PostgreSQL refuses
to run as root. Without root, the servers run as the calling user and need no privileges.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from migration.pgbin import INSTALL_HINT, ServerBinaries, find_server_binaries
from migration.rehearsal.errors import RehearsalError, ServerBinariesMissingError

DATABASE = "payments"


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
    # runuser lives in /usr/sbin, which a minimal PATH (PATH=/usr/bin:/bin, cron, some CI) lacks.
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    runuser = shutil.which("runuser", path=search)
    if runuser is None:
        raise RehearsalError("running as root but util-linux runuser is missing (apt-get install -y util-linux)")
    return [runuser, "-u", "postgres", "--"]


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


@contextmanager
def temporary_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="pg-rehearsal-"))
    try:
        _chown_to_server_user(root)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def psql_file(server: LocalPostgres, path: Path, *, variables: Mapping[str, str]) -> None:
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
