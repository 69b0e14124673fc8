"""Sessions of the staging RDS compliance harness. ``nox -l`` lists them with their docstrings.

Set-up on a fresh machine is two commands (README): install ``requirements/nox.txt`` (nox and
uv, hash-pinned), then ``nox -s compliance`` or ``nox -s tests``. Every other tool, the
Node.js runtime for jsii included, is installed by the sessions from the hashed lock files
in ``requirements/``. Sessions live in ``nox_sessions/``, one module per concern.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bootstrap import ca_environment

# nox run directly, not through bootstrap.py: uv and Node trust the CA bundle pip trusts (README, "Behind a proxy").
os.environ.update(ca_environment(dict(os.environ)))

nox.needs_version = ">=2025.02.09"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "tests"]

# Importing a module registers its sessions.
from nox_sessions import bench, compliance, core, rehearsal, snapshot  # noqa: E402,F401
