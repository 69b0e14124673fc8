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

Behind a proxy or a TLS-inspecting company CA, pip works from its own settings (``PIP_CERT``,
``cert`` in pip.conf) but uv and Node (npm, jsii) read others: ``SSL_CERT_FILE`` (uv; or
``UV_NATIVE_TLS=1`` for the system store) and ``NODE_EXTRA_CA_CERTS``. When those are unset and
pip has a CA bundle, :func:`ca_environment` hands pip's bundle on to them for nox and every session.
"""

from __future__ import annotations

import configparser
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


def pip_config_files(environ: dict[str, str]) -> list[Path]:
    """pip's configuration files, lowest precedence first (pip's "Configuration" docs: global, user, site)."""
    home = Path(environ.get("HOME") or Path.home())
    xdg = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
    files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf"), home / ".pip" / "pip.conf", xdg / "pip" / "pip.conf"]
    if environ.get("VIRTUAL_ENV"):
        files.append(Path(environ["VIRTUAL_ENV"]) / "pip.conf")
    if environ.get("PIP_CONFIG_FILE") and environ["PIP_CONFIG_FILE"] != os.devnull:
        files.append(Path(environ["PIP_CONFIG_FILE"]))
    return files


def pip_cert(environ: dict[str, str], *, config_files: list[Path] | None = None) -> str:
    """The CA bundle pip uses: ``PIP_CERT``, else ``cert`` of the [global] or [install] section of its config."""
    if environ.get("PIP_CERT"):
        return environ["PIP_CERT"]
    found = ""
    for path in pip_config_files(environ) if config_files is None else config_files:
        config = configparser.ConfigParser(interpolation=None)
        try:
            config.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if config.has_option(section, "cert"):
                found = config.get(section, "cert").strip()  # a later file overrides an earlier one
    return found


def ca_environment(environ: dict[str, str], *, config_files: list[Path] | None = None) -> dict[str, str]:
    """What uv and Node need to trust the CA pip trusts: ``SSL_CERT_FILE`` and ``NODE_EXTRA_CA_CERTS``,
    each only when unset and pip has a bundle that exists (``UV_NATIVE_TLS`` and proxies pass through as set)."""
    cert = (
        environ.get("SSL_CERT_FILE")
        or environ.get("REQUESTS_CA_BUNDLE")
        or pip_cert(environ, config_files=config_files)
    )
    if not cert or not Path(cert).expanduser().is_file():
        return {}
    bundle = str(Path(cert).expanduser())
    return {name: bundle for name in ("SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS") if not environ.get(name)}


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        print(f"bootstrap: Python {'.'.join(map(str, MINIMUM_PYTHON))}+ is needed, this is {sys.version.split()[0]}",
              file=sys.stderr)  # fmt: skip
        return 2
    handed_on = ca_environment(dict(os.environ))
    if handed_on:  # for the venv's install (uv without ensurepip) and for nox and every session alike
        names = " and ".join(sorted(handed_on))
        print(
            f"bootstrap: {names} set to {next(iter(handed_on.values()))}, the CA bundle pip trusts (for uv and Node)",
            flush=True,
        )
        os.environ.update(handed_on)
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
