"""The gate's one way to hash files and trees of files (SHA-256), always by root-relative POSIX path.

A digest that named absolute paths would change when the checkout moves (another CI runner,
another clone) though nothing it covers did: every tree digest here names a file by its path
relative to a root the caller gives. Asset content hashes and CDK fingerprints, whose formats
are fixed by ``sha256sum`` and aws-cdk-lib, live in harness.reading.digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def relative_posix(path: Path | str, *, root: Path) -> str:
    """``path`` relative to ``root`` as POSIX; a path outside ``root`` as given (it does not move with it)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def tree_digest(files: Iterable[Path], *, root: Path) -> str:
    """``sha256:<hex>`` over the sorted lines ``<relative path>\\0<sha256 of the file>\\n`` of ``files``."""
    named = sorted((relative_posix(p, root=root), p) for p in files)
    lines = "".join(f"{name}\0{sha256_file(path)}\n" for name, path in named)
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def framed_digest(parts: Iterable[bytes]) -> str:
    """The hex SHA-256 of ``parts``, each framed by its length, so no two sequences of parts collide."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
