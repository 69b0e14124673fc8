"""Content hashes of what a deploy publishes: every file read once, in one pass, for two digests.

* The **content hash** (what ``policies/code.yaml`` lists; documented in policies/README.md):
  a file's is the SHA-256 of its bytes; a directory's is the SHA-256 of the lines
  ``<sha256 of the file>  <relative path>\\n`` of every regular file below it, sorted by the
  path's UTF-8 bytes: exactly what ``sha256sum`` prints, so a reviewer reproduces it with
  coreutils alone::

      cd asset.<hash> && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum

* **aws-cdk-lib's asset fingerprint** (``core/lib/fs/fingerprint.ts``), which names a CDK asset
  (``asset.<hash>``, the S3 object key ``<hash>.zip``): SHA-256 over framed fields (the options,
  then ``file:<relative path>`` = ``<size>:<sha256>`` of each file, directories walked depth-first
  in name order), where a text file (no NUL byte in its first 8 KiB) is hashed with CRLF turned
  into LF, per 8 KiB chunk. Reproduced here for the default options (no ``extraHash``, no asset
  salt, symlinks not followed inside, glob ignore mode), so the gate can check that an asset's
  name is the hash of what it holds. Checked against assets CDK itself synthesized
  (``tests/harness/test_deployed.py``). A custom or bundling-derived hash, or a Docker image's
  (its build options are hashed in), cannot be reproduced from the assembly.

Only regular files are read (``os.open`` with ``O_NOFOLLOW | O_NONBLOCK``, bounded in size):
a symbolic link inside an asset is reported as a problem, a FIFO or device is a harness failure.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError
from harness.reading.inputs import describe_mode, read_bytes

CDK_CHUNK = 8 * 1024  # fingerprint.ts reads 8 KiB at a time; its CRLF handling is defined per chunk
MAX_ASSET_FILE_BYTES = 512 * 1024 * 1024  # far beyond a Lambda package (250 MB unzipped)
MAX_ASSET_FILES = 50_000
CDK_IGNORED_NAMES = frozenset({".is_custom_resource"})  # AssetStaging always excludes it from the fingerprint
_SOH, _STX, _ETX = b"\x01", b"\x02", b"\x03"


@dataclass(frozen=True, kw_only=True)
class FileDigest:
    sha256: str  # of the bytes: the content hash of a file
    cdk_content: str  # "<size>:<sha256>" as aws-cdk-lib's contentFingerprint computes it


@dataclass(frozen=True, kw_only=True)
class DirectoryDigest:
    sha256: str  # the content hash of the directory (module docstring)
    cdk_fingerprint: str
    files: tuple[tuple[str, str], ...]  # (relative POSIX path, sha256), sorted as the content hash sorts them
    problems: tuple[str, ...] = ()  # what the gate could not read (symbolic links, non-UTF-8 names)


def content_hash_of_files(files: Iterator[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str:
    """The directory content hash of (relative path, sha256) pairs (any order)."""
    ordered = sorted(files, key=lambda item: item[0].encode("utf-8"))
    return hashlib.sha256("".join(f"{digest}  {path}\n" for path, digest in ordered).encode("utf-8")).hexdigest()


def _frame(digest: hashlib._Hash, header: str, value: str) -> None:
    digest.update(_SOH + header.encode("utf-8") + _STX + value.encode("utf-8") + _ETX)


def _cdk_options(digest: hashlib._Hash) -> None:
    _frame(digest, "options.extra", "")
    _frame(digest, "options.follow", "external")


class _CdkContent:
    """contentFingerprintMiss of fingerprint.ts, fed the same 8 KiB chunks."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.binary = False
        self.pending = ""  # a chunk that ended in CR waits for the next one, as a string

    def update(self, chunk: bytes) -> None:
        if self.size == 0:
            self.binary = b"\0" in chunk
        if self.binary:
            self.size += len(chunk)
            self.digest.update(chunk)
            return
        text = chunk.decode("utf-8", "replace")
        if text.endswith("\r"):
            self.pending += text
            return
        data = (self.pending + text).replace("\r\n", "\n").encode("utf-8")
        self.pending = ""
        self.size += len(data)
        self.digest.update(data)

    def result(self) -> str:
        if self.pending:  # fingerprint.ts hashes it but does not count its size
            self.digest.update(self.pending.encode("utf-8"))
        return f"{self.size}:{self.digest.hexdigest()}"


def digest_file(path: Path, *, what: str = "asset file") -> FileDigest:
    """Both digests of one regular file, read once; a symbolic link or special file is a HarnessError."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        reason = "a symbolic link" if error.errno == errno.ELOOP else (error.strerror or str(error))
        raise HarnessError(f"cannot read {what} {path}: {reason}") from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise HarnessError(f"refused {what} {path}: it is {describe_mode(info.st_mode)}, not a regular file")
        if info.st_size > MAX_ASSET_FILE_BYTES:
            raise HarnessError(f"refused {what} {path}: {info.st_size} bytes, more than {MAX_ASSET_FILE_BYTES}")
        plain, cdk = hashlib.sha256(), _CdkContent()
        total = 0
        while chunk := os.read(descriptor, CDK_CHUNK):
            total += len(chunk)
            if total > MAX_ASSET_FILE_BYTES:
                raise HarnessError(f"refused {what} {path}: grew beyond {MAX_ASSET_FILE_BYTES} bytes while being read")
            plain.update(chunk)
            cdk.update(chunk)
        return FileDigest(sha256=plain.hexdigest(), cdk_content=cdk.result())
    except OSError as error:
        raise HarnessError(f"cannot read {what} {path}: {error.strerror}") from error
    finally:
        os.close(descriptor)


def cdk_file_fingerprint(digest: FileDigest) -> str:
    """The fingerprint CDK gives a single-file asset (its ``file:`` field has an empty relative path)."""
    hasher = hashlib.sha256()
    _cdk_options(hasher)
    _frame(hasher, "file:", digest.cdk_content)
    return hasher.hexdigest()


@dataclass
class _Walk:
    root: Path
    files: list[tuple[str, Path]] = field(default_factory=list)  # CDK order: depth-first, names sorted
    problems: list[str] = field(default_factory=list)

    def visit(self, directory: Path, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            raise HarnessError(f"cannot read asset directory {directory}: {error.strerror}") from error
        # JavaScript compares names by UTF-16 code units; big-endian UTF-16 bytes sort the same way.
        for entry in sorted(entries, key=lambda e: e.name.encode("utf-16-be", "surrogatepass")):
            relative = f"{prefix}{entry.name}"
            try:
                relative.encode("utf-8")
            except UnicodeEncodeError:
                self.problems.append(f"{relative.encode('utf-8', 'replace').decode()}: a file name that is not UTF-8")
                continue
            if entry.is_symlink():
                self.problems.append(f"{relative}: a symbolic link (the gate reads only regular files)")
            elif entry.is_dir(follow_symlinks=False):
                self.visit(Path(entry.path), relative + "/")
            else:  # regular or special: digest_file refuses the latter
                self.files.append((relative, Path(entry.path)))
            if len(self.files) > MAX_ASSET_FILES:
                raise HarnessError(f"refused asset directory {self.root}: more than {MAX_ASSET_FILES} files")


def digest_directory(root: Path, *, cache: DigestCache | None = None) -> DirectoryDigest:
    walk = _Walk(root=root)
    walk.visit(root, "")
    fingerprint = hashlib.sha256()
    _cdk_options(fingerprint)
    pairs: list[tuple[str, str]] = []
    for relative, path in walk.files:
        digest = cache.file(path) if cache is not None else digest_file(path)
        pairs.append((relative, digest.sha256))
        if path.name not in CDK_IGNORED_NAMES:
            _frame(fingerprint, f"file:{relative}", digest.cdk_content)
    ordered = tuple(sorted(pairs, key=lambda item: item[0].encode("utf-8")))
    return DirectoryDigest(
        sha256=content_hash_of_files(ordered),
        cdk_fingerprint=fingerprint.hexdigest(),
        files=ordered,
        problems=tuple(walk.problems),
    )


@dataclass
class DigestCache:
    """Digests of one gate run's inputs, by resolved path: a file shared by several assets is read once."""

    files: dict[Path, FileDigest] = field(default_factory=dict)
    directories: dict[Path, DirectoryDigest] = field(default_factory=dict)
    read_sha256: dict[Path, str] = field(default_factory=dict)  # files read whole for a parser
    contents: dict[Path, bytes] = field(default_factory=dict, repr=False)

    def file(self, path: Path) -> FileDigest:
        key = path.resolve()
        if key not in self.files:
            self.files[key] = digest_file(path)
        return self.files[key]

    def read(self, path: Path, *, what: str) -> bytes:
        """A file's bytes for a parser (templates), read once, its SHA-256 noted from the same read."""
        key = path.resolve()
        if key not in self.contents:
            self.contents[key] = read_bytes(path, what=what)
            self.read_sha256[key] = hashlib.sha256(self.contents[key]).hexdigest()
        return self.contents[key]

    def sha256(self, path: Path) -> str:
        """The SHA-256 of a file's bytes: from the read that parsed it, else read now."""
        key = path.resolve()
        return self.read_sha256.get(key) or self.file(path).sha256

    def directory(self, path: Path) -> DirectoryDigest:
        key = path.resolve()
        if key not in self.directories:
            self.directories[key] = digest_directory(path, cache=self)
        return self.directories[key]

    @property
    def paths(self) -> frozenset[Path]:
        """Every file read (for the base cache key: a changed asset is a changed assembly)."""
        return frozenset(self.files) | frozenset(self.read_sha256)
