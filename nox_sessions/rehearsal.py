"""The migration rehearsal: two real local PostgreSQL servers, the runbook's own scripts."""

from __future__ import annotations

import os
import shutil

import nox

from migration.pgbin import INSTALL_HINT, find_server_binaries
from nox_sessions.tools import install_locked

# Stops only clusters the package install itself started (Debian starts "main" on 5432):
# the rehearsal runs its own servers on random loopback ports and must leave nothing running.
_STOP_PACKAGE_CLUSTERS = (
    "pg_lsclusters --no-header 2>/dev/null | awk '$4 == \"online\" { print $1, $2 }' "
    '| while read -r version cluster; do pg_ctlcluster "$version" "$cluster" stop; done'
)


def ensure_postgres_server(session: nox.Session) -> None:
    """Install Debian's PostgreSQL server packages when no server binaries are found."""
    if find_server_binaries() is not None:
        return
    if shutil.which("apt-get") is None:
        session.error(f"PostgreSQL server binaries are missing and there is no apt-get; install them: {INSTALL_HINT}")
    if os.geteuid() != 0:  # apt-get would fail on its lock file with a less helpful message
        session.error(f"PostgreSQL server binaries are missing; installing them needs root, so run: {INSTALL_HINT}")
    session.log("PostgreSQL server binaries missing: installing Debian's postgresql package")
    session.run(
        "bash", "-c", "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql", external=True
    )
    session.run("bash", "-c", _STOP_PACKAGE_CLUSTERS, external=True)
    if find_server_binaries() is None:
        session.error(f"postgresql installed but no server binaries found under /usr/lib/postgresql: {INSTALL_HINT}")


@nox.session(default=False, venv_backend="none")  # install_locked activates the shared venv
def rehearsal(session: nox.Session) -> None:
    """Rehearse the dev -> staging migration on two local PostgreSQL servers (docs/migration.md). Args: --rows N."""
    install_locked(session, "test")
    ensure_postgres_server(session)
    session.run("python", "-m", "migration.rehearsal", *session.posargs)
