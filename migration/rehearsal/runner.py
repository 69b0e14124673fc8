"""The rehearsal run: two servers, the runbook's own scripts in order, a writer writing throughout.

Stages, in order: start both servers (staging with the template's parameter group, checked
with ``SHOW``) and seed dev; the preflight must refuse dev before its reboot with logical
decoding; start the writer; replicate (scripts 01-05, then 02-05 again: idempotent); a
cut-over whose switch fails must roll itself back; the real cut-over (06, 07); a rollback
after staging took writes must be refused; stop the writer and check every acknowledged
write; clean up (09, twice) and check nothing is left.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from infra.config import MIGRATION_EXAMPLE
from migration.rehearsal.checks import (
    SPEC_SHOW,
    RehearsalReport,
    check_clean,
    check_reported_settings,
    verify_staging,
    writer_rows,
)
from migration.rehearsal.errors import RehearsalError
from migration.rehearsal.parameters import MappedParameters, map_rds_parameters, parameter_group_parameters
from migration.rehearsal.servers import (
    DATABASE,
    LocalPostgres,
    describe_config,
    psql_file,
    require_server_binaries,
    temporary_root,
)

MIGRATION_DIR = Path(__file__).resolve().parent.parent
ROOT = MIGRATION_DIR.parent
SEED_SQL = MIGRATION_DIR / "rehearsal_seed.sql"
APP_ROLE = "payments_app"
# Strings only: synthesis never contacts these; they shape the migration-on template.
REHEARSAL_MIGRATION_CONTEXT = MIGRATION_EXAMPLE
SCRIPT_TIMEOUT_SECONDS = 120
REPLICATION_SCRIPTS = ("02_roles.sh", "03_copy_schema.sh", "04_create_publication.sh", "05_create_subscription.sh")


@dataclass(kw_only=True)
class _Run:
    """One rehearsal in progress: the two servers, the scripts' environment, what was measured."""

    dev: LocalPostgres
    staging: LocalPostgres
    root: Path
    passwords: dict[str, str]
    log: Callable[[str], None]
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    writer: subprocess.Popen[bytes] | None = None

    def script(self, name: str, *args: str, timed: bool = True) -> None:
        seconds = run_script(name, env=self.env, log=self.log, args=args)
        if timed:
            self.timings[name] = seconds


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
    with temporary_root() as root:
        run = _Run(
            dev=LocalPostgres(binaries=binaries, root=root, name="dev", superuser_password=passwords["dev"]),
            staging=LocalPostgres(
                binaries=binaries, root=root, name="staging", superuser_password=passwords["staging"]
            ),
            root=root,
            passwords=passwords,
            log=log,
        )
        try:
            reported = _start_servers(run, mapped=mapped, rows=rows)
            run.env = _script_env(dev=run.dev, staging=run.staging, work=root, passwords=passwords)
            refused = _expect_preflight_refusal(env=run.env, log=log)
            run.dev.restart({"wal_level": "logical"})  # the dev parameter group's rds.logical_replication=1 + reboot
            log("dev restarted with wal_level=logical (rds.logical_replication=1 + reboot)")
            stop_file, result_file = _start_writer(run, rows=rows)
            _replicate(run, streaming_seconds=streaming_seconds)
            _rehearse_aborted_cutover(env=run.env, root=root, dev=run.dev, staging=run.staging, log=log)
            _cut_over(run)
            time.sleep(after_switch_seconds)  # the writer carries on against staging
            refused_at = _rehearse_refused_rollback(env=run.env, dev=run.dev, log=log)
            report = _stop_writer_and_verify(run, stop_file=stop_file, result_file=result_file, rows=rows,
                                             refused_at=refused_at)  # fmt: skip
            _clean_up(run)
        finally:
            _stop_everything(run)
    report.reported_settings = reported
    report.applied_parameters = mapped.settings
    report.skipped_parameters = mapped.skipped
    report.preflight_refused_without_logical = refused
    report.script_seconds = {k: round(v, 3) for k, v in run.timings.items()}
    report.wall_seconds = time.monotonic() - started
    return report


def _start_servers(run: _Run, *, mapped: MappedParameters, rows: int) -> dict[str, str]:
    """Both clusters up (dev on PostgreSQL defaults, staging on the parameter group), dev seeded."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda server: server.initdb(), (run.dev, run.staging)))
    run.dev.start({})  # dev before its parameter group change: PostgreSQL defaults (wal_level=replica)
    run.staging.start(mapped.settings)
    reported = check_reported_settings(run.staging, SPEC_SHOW)
    run.log(
        f"staging reports shared_buffers={reported['shared_buffers']} max_connections={reported['max_connections']}"
    )
    for server in (run.dev, run.staging):
        server.execute(f"CREATE DATABASE {DATABASE}", dbname="postgres")
    psql_file(run.dev, SEED_SQL, variables={"rows": str(rows), "app_password": run.passwords["app"]})
    run.log(f"dev seeded with {rows} payments")
    return reported


def _start_writer(run: _Run, *, rows: int) -> tuple[Path, Path]:
    """The application stand-in: writes to whichever endpoint the switch file names. Returns (stop, result)."""
    endpoint_file = run.root / "endpoint.json"
    endpoint_file.write_text(
        json.dumps({"label": "dev", "conninfo": run.dev.conninfo(user=APP_ROLE, password=run.passwords["app"])}),
        encoding="utf-8",
    )
    stop_file, result_file = run.root / "writer.stop", run.root / "writer.json"
    run.writer = subprocess.Popen(
        [sys.executable, "-m", "migration.writer", "--endpoint-file", str(endpoint_file), "--stop-file",
         str(stop_file), "--result", str(result_file), "--seed-ids", str(rows)],
        cwd=str(ROOT), env={**run.env, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    _wait_for(lambda: writer_rows(run.dev) > 0, timeout=15, what="the writer's first insert on dev")
    return stop_file, result_file


def _replicate(run: _Run, *, streaming_seconds: float) -> None:
    for script in ("01_preflight.sh", *REPLICATION_SCRIPTS):
        run.script(script)
    for script in REPLICATION_SCRIPTS:
        run.script(script, timed=False)  # idempotent: a second run changes nothing and succeeds
    time.sleep(streaming_seconds)  # the writer keeps going while changes stream


def _cut_over(run: _Run) -> None:
    # The runbook's gate before the cut-over. It also waits out the apply worker's restart
    # after the aborted cut-over (the launcher retries every wal_retrieve_retry_interval).
    run.script("06_replication_lag.sh", "--max-delay", "10")
    run.script("07_cutover.sh")


def _stop_writer_and_verify(
    run: _Run, *, stop_file: Path, result_file: Path, rows: int, refused_at: float
) -> RehearsalReport:
    time.sleep(0.2)
    stop_file.touch()
    assert run.writer is not None, "the writer starts before the cut-over"
    if run.writer.wait(timeout=30) != 0:
        raise RehearsalError(f"writer exited {run.writer.returncode}")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    report = verify_staging(result=result, dev=run.dev, staging=run.staging, seed_rows=rows)
    if result["last_write"]["staging"] <= refused_at:
        raise RehearsalError("the refused rollback disturbed staging: no write succeeded there afterwards")
    return report


def _clean_up(run: _Run) -> None:
    run.script("09_cleanup.sh")
    run.script("09_cleanup.sh", timed=False)  # idempotent too
    check_clean(dev=run.dev, staging=run.staging)


def _stop_everything(run: _Run) -> None:
    if run.writer is not None and run.writer.poll() is None:
        run.writer.kill()
        run.writer.wait(timeout=10)
    for server in (run.dev, run.staging):
        server.stop()


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


def _expect_refusal(
    name: str, *, env: Mapping[str, str], log: Callable[[str], None], because: str, otherwise: str
) -> str:
    """Run a script that must refuse, and refuse for the reason ``because`` names; else fail with ``otherwise``."""
    try:
        run_script(name, env=env, log=log)
    except RehearsalError as refusal:
        if because not in str(refusal):
            raise RehearsalError(f"{name} failed for another reason than {because!r}: {refusal}") from None
        return str(refusal)
    raise RehearsalError(f"{name} {otherwise}")


def _expect_preflight_refusal(*, env: Mapping[str, str], log: Callable[[str], None]) -> str:
    """The preflight must refuse a source without logical decoding, or its check cannot fail."""
    refusal = _expect_refusal(
        "01_preflight.sh", env=env, log=log, because="rds.logical_replication=1",
        otherwise="accepted a source with wal_level=replica: its check cannot fail",
    )  # fmt: skip
    log("preflight refused dev before its parameter change, as it must")
    return refusal


def _rehearse_aborted_cutover(
    *, env: Mapping[str, str], root: Path, dev: LocalPostgres, staging: LocalPostgres, log: Callable[[str], None]
) -> None:
    """A cut-over whose last step fails must hand the source its writes back (automatic rollback)."""
    broken_switch = {**env, "APP_ENDPOINT_FILE": str(root / "no-such-dir" / "endpoint.json")}
    before = writer_rows(dev)
    try:
        run_script("07_cutover.sh", env=broken_switch, log=log)
    except RehearsalError as failure:
        log(f"cut-over with a failing switch aborted as it must: {failure}")
    else:
        raise RehearsalError("07_cutover.sh succeeded although its switch could not write: the abort test is void")
    _wait_for(lambda: writer_rows(dev) > before, timeout=10, what="writes to resume on dev after the aborted cut-over")
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
    _expect_refusal(
        "rollback.sh", env=back_to_dev, log=log, because="took writes after the switch",
        otherwise="rolled back although staging had taken writes: they would be lost",
    )  # fmt: skip
    log("rollback.sh refused to discard staging's new writes, as it must")
    return time.monotonic()


def _wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RehearsalError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


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
    parser = argparse.ArgumentParser(
        prog="python -m migration.rehearsal",
        description="Rehearse the dev -> staging migration on two local PostgreSQL servers.",
    )
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
