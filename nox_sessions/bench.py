"""Benchmarks: each benchmarks/*.py prints its own figures. Never timed assertions in tests."""

from __future__ import annotations

import nox

from nox_sessions.tools import ROOT, ensure_checkov, install_locked, jsii_node_env


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Run every benchmark in benchmarks/ (or the ones named in args) and print their figures."""
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    scripts = sorted((ROOT / "benchmarks").glob("*.py"))
    wanted = set(session.posargs)
    for script in scripts:
        if wanted and script.stem not in wanted:
            continue
        session.log(f"benchmark {script.stem}")
        session.run(
            "python", str(script), env={"CHECKOV_BIN": str(checkov), "PYTHONPATH": str(ROOT), **jsii_node_env(session)}
        )
