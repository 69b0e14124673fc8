"""bootstrap.py: the README's commands set themselves up on any Python 3.11+, pip allowed or not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bootstrap


def test_with_ensurepip_the_venv_installs_with_its_own_pip(tmp_path: Path) -> None:
    (command,) = bootstrap.install_commands(ensurepip=True, system_pip=True, uv="/usr/bin/uv", target=tmp_path)
    assert command[:4] == [str(bootstrap.venv_python(tmp_path)), "-m", "pip", "install"]
    assert "--require-hashes" in command and str(bootstrap.LOCK) in command


def test_without_ensurepip_the_system_pip_installs_into_the_venv(tmp_path: Path) -> None:
    """Debian without python3-venv: the venv has no pip; ``pip --python`` installs into it."""
    (command,) = bootstrap.install_commands(
        ensurepip=False, system_pip=True, uv=None, target=tmp_path, python="/usr/bin/python3"
    )
    assert command[:5] == ["/usr/bin/python3", "-m", "pip", "--python", str(bootstrap.venv_python(tmp_path))]


def test_without_ensurepip_or_pip_uv_from_path_installs(tmp_path: Path) -> None:
    (command,) = bootstrap.install_commands(ensurepip=False, system_pip=False, uv="/opt/uv", target=tmp_path)
    assert command[:3] == ["/opt/uv", "pip", "install"]


def test_without_any_installer_one_line_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(bootstrap.BootstrapError) as raised:
        bootstrap.install_commands(
            ensurepip=False, system_pip=False, uv=None, target=tmp_path, python="/usr/bin/python3"
        )
    message = str(raised.value)
    assert "apt-get install -y python3-venv" in message and "/usr/bin/python3" in message
    assert "\n" not in message


def test_the_pip_version_probe_reads_this_interpreter() -> None:
    # This test venv has pip only if nox's backend put one there; either answer must be a bool, never a crash.
    assert bootstrap.system_pip_supports_python_option(sys.executable) in (True, False)


def test_bootstrap_imports_only_the_standard_library() -> None:
    """It runs before anything is installed."""
    code = "import sys; sys.path.insert(0, '.'); import bootstrap; print('ok')"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], cwd=Path(bootstrap.__file__).parent, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.stdout.strip() == "ok", result.stderr
