"""First run on any machine: ``python3 bootstrap.py -s tests`` (any nox arguments).

Creates the project's own virtualenv (``.nox/_bootstrap``) with the Python that runs this
script, installs ``requirements/nox.txt`` into it (nox and uv, pinned by hash), then runs
nox from it. Nothing is installed into that Python itself, so it works where ``pip
install`` is refused (Debian and Ubuntu: PEP 668 "externally-managed-environment") and
where it is allowed alike. Later runs reuse the venv while the lock file is unchanged.

Creating the venv needs ``ensurepip``, which Debian ships apart (package ``python3-venv``).
Without it the venv is created without pip and the lock file is installed with the system's
own pip (``pip --python``, pip >= 22.3) or with ``uv`` from PATH; if neither exists, one line
says what to install. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".nox" / "_bootstrap"
LOCK = ROOT / "requirements" / "nox.txt"
STAMP = VENV / ".lock-stamp"
MINIMUM_PYTHON = (3, 11)
NO_INSTALLER = (
    "bootstrap: cannot create a virtualenv with {python}: it has no ensurepip (on Debian/Ubuntu: "
    "apt-get install -y python3-venv), and neither its pip nor uv is available to install into one"
)


class BootstrapError(Exception):
    """Set-up cannot continue; the message is one line saying what to do."""


def venv_python(venv_dir: Path = VENV) -> Path:
    return venv_dir / ("Scripts" if os.name == "nt" else "bin") / ("python.exe" if os.name == "nt" else "python")


def has_ensurepip() -> bool:
    return importlib.util.find_spec("ensurepip") is not None


def system_pip_supports_python_option(python: str = sys.executable) -> bool:
    """pip >= 22.3 installs into another interpreter with ``--python``."""
    probe = subprocess.run([python, "-m", "pip", "--version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return False
    found = re.match(r"pip (\d+)\.(\d+)", probe.stdout)  # "pip 23.0.1 from /usr/lib/python3/dist-packages/pip ..."
    return found is not None and (int(found[1]), int(found[2])) >= (22, 3)


def install_commands(
    *, ensurepip: bool, system_pip: bool, uv: str | None, target: Path = VENV, python: str = sys.executable
) -> list[list[str]]:
    """How to put the lock file into the venv at ``target`` (which exists), best way first."""
    requirement = ["--require-hashes", "-r", str(LOCK)]
    target_python = str(venv_python(target))
    if ensurepip:
        return [[target_python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirement]]
    if system_pip:
        return [[python, "-m", "pip", "--python", target_python, "install", "--quiet", "--disable-pip-version-check",
                 *requirement]]  # fmt: skip
    if uv:
        return [[uv, "pip", "install", "--quiet", "--python", target_python, *requirement]]
    raise BootstrapError(NO_INSTALLER.format(python=python))


def ensure_venv() -> Path:
    """The bootstrap venv with requirements/nox.txt installed; rebuilt when the lock file changes."""
    wanted = LOCK.read_text(encoding="utf-8")
    python = venv_python()
    if python.exists() and STAMP.exists() and STAMP.read_text(encoding="utf-8") == wanted:
        return python
    ensurepip = has_ensurepip()
    commands = install_commands(
        ensurepip=ensurepip,
        system_pip=not ensurepip and system_pip_supports_python_option(),
        uv=None if ensurepip else shutil.which("uv"),
    )
    shutil.rmtree(VENV, ignore_errors=True)
    print(f"bootstrap: creating {VENV.relative_to(ROOT)} with {sys.executable} and installing {LOCK.name}", flush=True)
    venv.EnvBuilder(with_pip=ensurepip, clear=True).create(VENV)
    for command in commands:
        if subprocess.run(command, check=False).returncode != 0:
            raise BootstrapError(f"bootstrap: installing {LOCK.relative_to(ROOT)} failed: {' '.join(command[:4])} ...")
    STAMP.write_text(wanted, encoding="utf-8")
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        print(f"bootstrap: Python {'.'.join(map(str, MINIMUM_PYTHON))}+ is needed, this is {sys.version.split()[0]}",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        python = ensure_venv()
    except BootstrapError as error:
        print(error, file=sys.stderr)
        return 2
    # The venv's bin first on PATH: nox's sessions and ensure_checkov find its uv there.
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(python), "-m", "nox", *argv], cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
