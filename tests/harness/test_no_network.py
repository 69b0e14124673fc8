"""The gate needs no network: it passes with outbound connections truly blocked.

``unshare --net`` gives the gate (and every tool it starts: checkov, cfn-lint, jsii's
Node.js) a network namespace with only a down loopback, so any connection attempt fails at
once. As root that is ``unshare --net``; without root, ``unshare --user --map-root-user
--net`` does the same where the kernel allows unprivileged user namespaces (most do). Where
neither works the tests are skipped, and the skip message says how to run them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.tools.run_checkov import CHECKOV_OFFLINE_ENV, checkov_env
from tests.harness.conftest import GateRunner

pytestmark = pytest.mark.slow


HOW_TO_RUN = (
    "run them as root (sudo -E .nox/_venv-test/bin/python -m pytest tests/harness/test_no_network.py) "
    "or allow unprivileged user namespaces (sysctl -w user.max_user_namespaces=15000; on Debian/Ubuntu "
    "also kernel.unprivileged_userns_clone=1 or kernel.apparmor_restrict_unprivileged_userns=0)"
)


def _unshare() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip(
            f"needs util-linux unshare to create a network namespace (apt-get install util-linux); {HOW_TO_RUN}"
        )
    # Root: a plain network namespace. Anyone else: inside a user namespace of their own.
    flags = ["--net"] if os.geteuid() == 0 else ["--user", "--map-root-user", "--net"]
    probe = subprocess.run([unshare, *flags, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"unshare {' '.join(flags)} is not permitted here ({probe.stderr.decode().strip()}); {HOW_TO_RUN}")
    return [unshare, *flags, "--"]


def test_the_namespace_really_blocks_connections() -> None:
    prefix = _unshare()
    code = "import socket; socket.create_connection(('1.1.1.1', 443), timeout=3)"
    blocked = subprocess.run([*prefix, "python3", "-c", code], capture_output=True, text=True, check=False)
    assert blocked.returncode != 0
    assert "unreachable" in blocked.stderr.lower() or "errno" in blocked.stderr.lower()


def test_gate_passes_offline_on_synthesis(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("--no-tests", "--out", str(tmp_path / "cdk.out"), prefix=_unshare())
    assert run.returncode == 0, run.stderr
    assert run.report["verdict"] == "PASS"


def test_gate_passes_offline_on_an_assembly(gate: GateRunner, make_assembly: Callable[..., Path]) -> None:
    run = gate("--assembly", str(make_assembly("clean")), prefix=_unshare())
    assert run.returncode == 0, run.stderr


def test_checkov_runs_with_the_offline_environment() -> None:
    env = checkov_env({"PATH": "/usr/bin", "BC_SKIP_MAPPING": "FALSE"})
    assert {k: env[k] for k in CHECKOV_OFFLINE_ENV} == {
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
        "CKV_PARSE_ERROR_FAIL": "true",
    }


def test_the_gate_starts_checkov_with_the_offline_environment(
    gate: GateRunner, make_assembly: Callable[..., Path], tmp_path: Path
) -> None:
    # A stand-in checkov that records the environment it was started with, then fails.
    dump = tmp_path / "checkov-env.txt"
    fake = tmp_path / "checkov"
    fake.write_text(f"#!/bin/sh\nenv > {dump}\nexit 2\n", encoding="utf-8")
    fake.chmod(0o755)
    run = gate("--assembly", str(make_assembly("clean")), "--checkov", str(fake))
    assert run.returncode == 2
    seen = dict(line.split("=", 1) for line in dump.read_text(encoding="utf-8").splitlines() if "=" in line)
    assert {key: seen.get(key) for key in CHECKOV_OFFLINE_ENV} == CHECKOV_OFFLINE_ENV
