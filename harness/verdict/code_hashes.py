"""Content hashes for the reviewers of ``policies/code.yaml``.

::

    python -m harness.verdict.code_hashes hash PATH...           # a file's or directory's content hash, and its files
    python -m harness.verdict.code_hashes assembly DIR           # every piece of code an assembly carries, reviewed or not
    python -m harness.verdict.code_hashes cdk-handlers           # every handler the installed aws-cdk-lib ships, as CDK stages it

Each prints YAML a reviewer completes (``reason``, ``reviewer``, ``date``) and appends to
``policies/code.yaml`` *after reading the code*. ``cdk-handlers`` reads aws-cdk-lib's own package
(the jsii tarball inside the installed ``aws_cdk`` wheel, nothing is downloaded) and lists every
directory of ``custom-resource-handlers/dist`` in the two shapes CDK stages one: as a Lambda asset
(the directory as is) and, for Node.js handlers, as a ``CustomResourceProvider`` asset (without
``*.ts`` files, plus CDK's ``__entrypoint__.js``). Exit 0, or 2 with one line.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import sys
import tarfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import yaml

from harness.errors import HarnessError
from harness.reading.digests import DigestCache, content_hash_of_files

HANDLERS = "custom-resource-handlers/dist/"
ENTRYPOINT = "custom-resource-handlers/dist/core/nodejs-entrypoint-handler/index.js"
ENTRYPOINT_NAME = "__entrypoint__.js"


def cdk_version() -> str:
    return importlib.metadata.version("aws-cdk-lib")


def cdk_package() -> Path:
    """The installed aws-cdk-lib's jsii package (a tarball of the npm package) without importing aws_cdk."""
    spec = importlib.util.find_spec("aws_cdk")
    if spec is None or spec.origin is None:
        raise HarnessError("aws-cdk-lib is not installed in this interpreter: run through nox (requirements/test.txt)")
    tarball = Path(spec.origin).parent / "_jsii" / f"aws-cdk-lib@{cdk_version()}.jsii.tgz"
    if not tarball.is_file():
        raise HarnessError(f"aws-cdk-lib's package {tarball} is missing from the installed wheel")
    return tarball


def cdk_files(prefix: str = HANDLERS) -> dict[str, bytes]:
    """Path inside the npm package (without ``package/``) -> bytes, for every regular file under ``prefix``."""
    files: dict[str, bytes] = {}
    with tarfile.open(cdk_package(), "r:gz") as archive:
        for member in archive:
            name = member.name.removeprefix("package/")
            if member.isfile() and name.startswith(prefix):
                handle = archive.extractfile(member)
                if handle is not None:
                    files[name] = handle.read()
    return files


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _handler_dirs(files: Mapping[str, bytes]) -> dict[str, dict[str, str]]:
    """``dist/<module>/<handler>`` -> {relative path: path in the package} (module-level files are not handlers)."""
    handlers: dict[str, dict[str, str]] = {}
    for name in sorted(files):
        parts = name[len(HANDLERS) :].split("/")
        if len(parts) >= 3:
            handlers.setdefault("/".join(parts[:2]), {})["/".join(parts[2:])] = name
    return handlers


def _entry(
    *, what: str, source: str, version: str, files: Mapping[str, str], data: Mapping[str, bytes]
) -> dict[str, object]:
    listed = [
        {"path": rel, "sha256": _sha(data[package_path]), "from": package_path}
        for rel, package_path in sorted(files.items())
    ]
    return {
        "sha256": content_hash_of_files(tuple((f["path"], f["sha256"]) for f in listed)),
        "kind": "directory",
        "what": what,
        "source": source,
        "origin": f"aws-cdk-lib@{version}",
        "files": listed,
    }


def cdk_handler_entries() -> list[dict[str, object]]:
    """Every handler of the installed aws-cdk-lib, in each shape CDK stages it, as code.yaml entries (unreviewed)."""
    version = cdk_version()
    data = cdk_files()
    entries = []
    for handler, files in sorted(_handler_dirs(data).items()):
        source = f"aws-cdk-lib@{version} {HANDLERS}{handler}/"
        entries.append(
            _entry(
                what=f"aws-cdk-lib {handler} (as a Lambda asset)",
                source=source,
                version=version,
                files=files,
                data=data,
            )
        )
        if "index.js" in files and ENTRYPOINT in data and not handler.startswith("core/"):
            provider = {rel: path for rel, path in files.items() if not rel.endswith(".ts")} | {
                ENTRYPOINT_NAME: ENTRYPOINT
            }
            entries.append(_entry(what=f"aws-cdk-lib {handler} (as a CustomResourceProvider, with CDK's entrypoint)",
                                  source=source, version=version, files=provider, data=data))  # fmt: skip
    return entries


def hash_entries(paths: Sequence[Path]) -> Iterator[dict[str, object]]:
    digests = DigestCache()
    for path in paths:
        if path.is_dir():
            digest = digests.directory(path)
            yield {"sha256": digest.sha256, "kind": "directory", "source": str(path),
                   "files": [{"path": rel, "sha256": sha} for rel, sha in digest.files],
                   **({"problems": list(digest.problems)} if digest.problems else {})}  # fmt: skip
        elif path.is_file():
            yield {"sha256": digests.file(path).sha256, "kind": "file", "source": str(path)}
        else:
            raise HarnessError(f"{path}: no such file or directory")


def assembly_entries(directory: Path, policies: Path | None) -> Iterator[dict[str, object]]:
    from harness.catalog.code import load_reviewed_code  # noqa: PLC0415
    from harness.catalog.schema import POLICIES_DIR  # noqa: PLC0415
    from harness.reading.assembly import load_assembly  # noqa: PLC0415

    reviewed = {entry.sha256: entry for entry in load_reviewed_code(policies or POLICIES_DIR)}
    for stack in load_assembly(directory).stacks:
        for logical_id, pieces in sorted(stack.code.items()):
            for piece in pieces:
                entry = reviewed.get(piece.sha256)
                yield {"stack": stack.stack_id, "resource": logical_id, "property": piece.path, "kind": piece.kind,
                       "sha256": piece.sha256, "location": piece.location,
                       "status": piece.problem or (f"reviewed: {entry.what}" if entry else "not reviewed")}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.verdict.code_hashes", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    hashing = commands.add_parser("hash", help="content hash of files or directories")
    hashing.add_argument("paths", nargs="+", type=Path)
    listing = commands.add_parser("assembly", help="every piece of code a cloud assembly carries")
    listing.add_argument("directory", type=Path)
    listing.add_argument("--policies", type=Path, default=None)
    commands.add_parser("cdk-handlers", help="every handler of the installed aws-cdk-lib")
    options = parser.parse_args(argv)
    try:
        if options.command == "hash":
            entries = list(hash_entries(options.paths))
        elif options.command == "assembly":
            entries = list(assembly_entries(options.directory, options.policies))
        else:
            entries = cdk_handler_entries()
    except (HarnessError, ValueError, OSError, tarfile.TarError) as error:
        print(f"code_hashes: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(yaml.safe_dump(entries, sort_keys=False, width=200))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
