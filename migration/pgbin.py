"""Where the PostgreSQL server binaries are. Standard library only: nox imports it too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Installing needs root; without it, an administrator runs this once (or any PostgreSQL whose
# postgres, initdb and pg_ctl are on PATH will do). The servers themselves run as any user.
INSTALL_HINT = (
    "sudo apt-get update && sudo apt-get install -y postgresql "
    "(or put a PostgreSQL's postgres, initdb and pg_ctl on PATH; the rehearsal itself needs no root)"
)
DEBIAN_ROOT = Path("/usr/lib/postgresql")


@dataclass(frozen=True, kw_only=True)
class ServerBinaries:
    bindir: Path
    major: int

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def find_server_binaries(*, search_roots: tuple[Path, ...] = (DEBIAN_ROOT,)) -> ServerBinaries | None:
    """The newest Debian-layout server (``/usr/lib/postgresql/<major>/bin``), else one on PATH."""
    candidates: list[Path] = []
    for root in search_roots:
        found = [d for d in root.glob("*/bin") if d.parent.name.isdigit()]
        candidates += sorted(found, key=lambda d: int(d.parent.name), reverse=True)
    on_path = shutil.which("postgres")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / tool, os.X_OK) for tool in ("postgres", "initdb", "pg_ctl")):
            version = subprocess.run(
                [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
            )
            match = re.search(r"(\d+)(?:\.\d+)?", version.stdout)
            if match:
                return ServerBinaries(bindir=bindir, major=int(match.group(1)))
    return None
