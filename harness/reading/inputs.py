"""Reading the gate's inputs defensively: regular files only, bounded in size, time and nesting.

Every input (manifests, templates, construct trees) may come from an untrusted pull request.
A FIFO or device would block ``open()`` or never end, a huge or deeply nested document
would exhaust memory or the interpreter's stack, and a decode error would surface as a
traceback. Each of these is refused here with one line naming the file and the problem
(a :class:`HarnessError`, exit 2).
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

MAX_INPUT_BYTES = 64 * 1024 * 1024
READ_TIMEOUT_S = 30.0
# CloudFormation documents nest about 15 levels deep; far beyond that is an attack or a bug.
MAX_JSON_DEPTH = 100
_CHUNK = 1 << 20

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def describe_mode(mode: int) -> str:
    """What a file that is not a regular file is ("a FIFO", "a directory"...), for a one-line refusal."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_bytes(path: Path, *, what: str, limit: int = MAX_INPUT_BYTES, timeout_s: float = READ_TIMEOUT_S) -> bytes:
    """The bytes of a regular file, or a HarnessError; never blocks on a FIFO or device."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as error:
        raise HarnessError(f"cannot read {what} {path}: no such file") from error
    except OSError as error:
        raise HarnessError(f"cannot read {what} {path}: {error.strerror}") from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise HarnessError(f"refused {what} {path}: it is {describe_mode(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise HarnessError(f"refused {what} {path}: {info.st_size} bytes, more than the {limit} the gate reads")
        return _read_all(descriptor, path=path, what=what, limit=limit, deadline=time.monotonic() + timeout_s)
    except OSError as error:
        raise HarnessError(f"cannot read {what} {path}: {error.strerror}") from error
    finally:
        os.close(descriptor)


def _read_all(descriptor: int, *, path: Path, what: str, limit: int, deadline: float) -> bytes:
    """Read to the end in chunks, refusing a file that grows past ``limit`` or outlasts ``deadline``."""
    chunks: list[bytes] = []
    size = 0
    while chunk := os.read(descriptor, _CHUNK):
        size += len(chunk)
        if size > limit:
            raise HarnessError(f"refused {what} {path}: grew beyond {limit} bytes while being read")
        if time.monotonic() > deadline:
            raise HarnessError(f"refused {what} {path}: not read in time")
        chunks.append(chunk)
    return b"".join(chunks)


def read_text(path: Path, *, what: str) -> str:
    data = read_bytes(path, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HarnessError(f"{what} {path} is not UTF-8 text: byte {error.start} ({error.reason})") from error


def parse_json(text: str, *, what: str, path: Path) -> Any:
    try:
        data = json.loads(text)
    except RecursionError as error:
        raise HarnessError(f"unparseable {what} {path}: nested too deeply to parse") from error
    except ValueError as error:
        message = getattr(error, "msg", str(error))
        line = getattr(error, "lineno", None)
        where = f" at line {line}" if line else ""
        raise HarnessError(f"unparseable {what} {path}: {message}{where}") from error
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise HarnessError(f"refused {what} {path}: nested {depth} levels deep, more than the {MAX_JSON_DEPTH} allowed")
    return data


def read_json(path: Path, *, what: str) -> Any:
    return parse_json(read_text(path, what=what), what=what, path=path)


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (a recursive walk would itself overflow)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            return depth
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def resolved(path: Path, *, what: str) -> Path:
    """``path.resolve()``, or one line: Python 3.11 raises RuntimeError (not OSError) on a symbolic-link loop."""
    try:
        return path.resolve()
    except (OSError, RuntimeError) as error:
        raise HarnessError(f"refused {what} {path}: {error}") from error


def inside(root: Path, relative: str, *, what: str, owner: Path) -> Path:
    """``root / relative``, refusing absolute paths and paths that leave ``root``."""
    if not relative or Path(relative).is_absolute():
        raise HarnessError(f"malformed {owner}: {what} {relative!r} must be a path relative to {root}")
    candidate = resolved(root / relative, what=f"{what} {relative!r} of {owner}:")
    try:
        candidate.relative_to(resolved(root, what="the assembly"))
    except ValueError as error:
        raise HarnessError(f"malformed {owner}: {what} {relative!r} points outside the assembly {root}") from error
    return candidate


def regular_files(root: Path) -> list[Path]:
    """Every regular file under ``root`` (sorted), as a hostile directory allows: a symbolic link is followed
    only to a regular file inside ``root``; a link loop, a link out, a FIFO, socket or device is left out,
    never opened."""
    top = resolved(root, what="the directory")
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(top):
        subdirectories.sort()
        for name in sorted(files):
            path = Path(directory) / name
            try:
                target = path.resolve(strict=True)
                regular = stat.S_ISREG(target.stat().st_mode)
            except (OSError, RuntimeError):  # gone, unreadable, or a link loop
                continue
            if regular and target.is_relative_to(top):
                found.append(path)
    return sorted(found)
