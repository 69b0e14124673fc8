"""Snapshot session: compare every synthesized stack template with its reviewed JSON snapshot.

``nox -s snapshot`` fails on any template change and prints syrupy's diff. After reviewing
the diff, accept it with ``nox -s snapshot -- --snapshot-update`` and commit the changed
files under ``tests/snapshot/__snapshots__/`` together with the infrastructure change
(docs/testing.md, "Reviewing and accepting snapshot changes"). Args go to pytest.
"""

from __future__ import annotations

import nox

from nox_sessions.tools import PROJECT_BYTECODE_ENV, ROOT, install_locked


@nox.session(default=False, venv_backend="none")  # install_locked activates the shared venv
def snapshot(session: nox.Session) -> None:
    """Snapshot tests of every stack template; accept a reviewed change with: -- --snapshot-update."""
    install_locked(session, "test")
    session.run("pytest", str(ROOT / "tests" / "snapshot"), *session.posargs, env=PROJECT_BYTECODE_ENV)
