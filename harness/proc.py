"""Starting external tools so they can run concurrently, and failing closed when they cannot."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError


@dataclass(frozen=True, kw_only=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str
    duration_s: float


class Started:
    """A tool process started in the background; :meth:`wait` collects it."""

    def __init__(
        self, *, tool: str, argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None, stdin: bool = False
    ) -> None:
        self.tool = tool
        self.argv = list(argv)
        self._started = time.monotonic()
        try:
            self._process = subprocess.Popen(
                self.argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                text=True,
                env=dict(env),
                cwd=cwd,
                # Own process group: checkov forks workers that inherit our pipes. Killing only the
                # parent would orphan them, and communicate() would wait forever for EOF.
                start_new_session=True,
            )
        except OSError as error:
            raise HarnessError(f"{tool} could not be started ({self.argv[0]}): {error.strerror}") from error

    def send(self, line: str) -> None:
        """Write one line to the process's stdin and close it (a dead process is caught by wait)."""
        stdin = self._process.stdin
        if stdin is None:
            return
        try:
            stdin.write(line + "\n")
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        self._process.stdin = None  # communicate() must not touch the closed pipe

    def wait(self, *, timeout_s: float) -> Completed:
        try:
            stdout, stderr = self._process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as error:
            self.kill()
            raise HarnessError(f"{self.tool} did not finish within {timeout_s:.0f} s") from error
        return Completed(
            returncode=self._process.returncode,
            stdout=stdout,
            stderr=stderr,
            duration_s=time.monotonic() - self._started,
        )

    def kill(self) -> None:
        """Kill the tool and everything it forked; never blocks for long."""
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the whole group already exited
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            self._process.communicate(timeout=10)


def resolve_executable(candidate: str | os.PathLike[str], *, tool: str) -> str:
    """An absolute path to an executable file, or a HarnessError naming the tool."""
    text = os.fspath(candidate)
    found = text if os.sep in text else shutil.which(text)
    if not found or not Path(found).is_file():
        raise HarnessError(f"{tool} is missing: {text} does not exist")
    if not os.access(found, os.X_OK):
        raise HarnessError(f"{tool} is not executable: {found}")
    return str(Path(found).absolute())


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"
