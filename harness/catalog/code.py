"""``policies/code.yaml``: the code someone read and accepted, by content hash.

Each entry (see policies/README.md, "Reviewed code"):

``sha256``    the content hash (harness.reading.digests for files and directories, harness.reading.code_carriers for
              inline code, the image digest for ``image-digest``)
``kind``      ``directory`` | ``file`` | ``inline`` | ``image-digest``
``what``      one line: what the code is and does
``source``    where it comes from (a package and path, a repository and commit, a template property)
``reason``    why it may run here
``reviewer``  who read it; ``date``: when (ISO date)
``origin``    optional, ``aws-cdk-lib@<version>``: every file is a file of that package, which
              ``tests/harness/test_code_review.py`` proves against the installed one
``files``     directories: each file read, ``{path, sha256}`` and, with ``origin``, ``from`` (its
              path in the package); their content hash must add up to ``sha256``
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.reading.digests import content_hash_of_files

CODE_FILE = "code.yaml"
KINDS = ("directory", "file", "inline", "image-digest")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ORIGIN = re.compile(r"^aws-cdk-lib@\d+\.\d+\.\d+$")
_FIELDS = frozenset({"sha256", "kind", "what", "source", "reason", "reviewer", "date", "origin", "files"})
_EXAMPLE = (
    "{sha256: <64 hex>, kind: directory, what: ..., source: ..., reason: ..., reviewer: platform-team, "
    "date: 2026-12-07}"
)


@dataclass(frozen=True, kw_only=True)
class ReviewedFile:
    path: str
    sha256: str
    package_path: str = ""  # ``from``: the file's path inside ``origin``'s package


@dataclass(frozen=True, kw_only=True)
class ReviewedCode:
    sha256: str
    kind: str
    what: str
    source: str
    reason: str
    reviewer: str
    date: dt.date
    origin: str = ""
    files: tuple[ReviewedFile, ...] = ()


def _text(path: Path, index: int, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(
            f"{path}: reviewed entry #{index}: field {key!r} is required and must be a non-empty string (valid example: {_EXAMPLE})"
        )
    return " ".join(value.split())


def _sha(path: Path, where: str, value: Any) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ValueError(
            f"{path}: {where}: field 'sha256' has invalid value {value!r}: must be 64 lower-case hex digits"
        )
    return value


def _files(path: Path, index: int, raw: Any, *, origin: str) -> tuple[ReviewedFile, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise ValueError(
            f"{path}: reviewed entry #{index}: field 'files' must be a list of {{path, sha256, from}} mappings"
        )
    files = []
    for item in raw:
        name = item.get("path")
        if not isinstance(name, str) or not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(
                f"{path}: reviewed entry #{index}: a file has invalid path {name!r}: a relative path such as index.js"
            )
        package_path = item.get("from", "")
        if origin and (not isinstance(package_path, str) or not package_path):
            raise ValueError(f"{path}: reviewed entry #{index}: file {name!r} needs 'from' (its path in {origin})")
        files.append(ReviewedFile(path=name, sha256=_sha(path, f"reviewed entry #{index} file {name!r}", item.get("sha256")),
                                  package_path=str(package_path or "")))  # fmt: skip
    return tuple(files)


def _entry(path: Path, index: int, entry: Mapping[str, Any]) -> ReviewedCode:
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise ValueError(
            f"{path}: reviewed entry #{index}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})"
        )
    sha256 = _sha(path, f"reviewed entry #{index}", entry.get("sha256"))
    kind = _text(path, index, entry, "kind")
    if kind not in KINDS:
        raise ValueError(
            f"{path}: reviewed entry #{index}: field 'kind' has invalid value {kind!r}: one of {', '.join(KINDS)}"
        )
    date = entry.get("date")
    if not isinstance(date, dt.date):
        raise ValueError(
            f"{path}: reviewed entry #{index}: field 'date' must be an ISO date (YYYY-MM-DD, e.g. 2026-12-07)"
        )
    origin = str(entry.get("origin") or "")
    if origin and not _ORIGIN.fullmatch(origin):
        raise ValueError(
            f"{path}: reviewed entry #{index}: field 'origin' has invalid value {origin!r} (valid example: aws-cdk-lib@2.275.0)"
        )
    files = _files(path, index, entry.get("files"), origin=origin)
    if files and (kind != "directory" or content_hash_of_files(tuple((f.path, f.sha256) for f in files)) != sha256):
        raise ValueError(
            f"{path}: reviewed entry #{index}: its files do not add up to sha256 {sha256} (a directory's content hash, policies/README.md)"
        )
    return ReviewedCode(
        sha256=sha256, kind=kind, what=_text(path, index, entry, "what"), source=_text(path, index, entry, "source"),
        reason=_text(path, index, entry, "reason"), reviewer=_text(path, index, entry, "reviewer"), date=date,
        origin=origin, files=files,
    )  # fmt: skip


def load_reviewed_code(root: Path) -> tuple[ReviewedCode, ...]:
    """Every entry of ``<root>/code.yaml``; a problem is a ValueError naming the entry and the field."""
    path = root / CODE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML: {' '.join(str(error).split())}") from error
    entries = data.get("reviewed") if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ValueError(
            f"{path}: top-level key 'reviewed' must be a list of mappings (valid example: reviewed: [{_EXAMPLE}])"
        )
    reviewed = tuple(_entry(path, index, entry) for index, entry in enumerate(entries))
    seen: set[str] = set()
    for item in reviewed:
        if item.sha256 in seen:
            raise ValueError(f"{path}: sha256 {item.sha256} is listed twice: one entry per reviewed content")
        seen.add(item.sha256)
    return reviewed
