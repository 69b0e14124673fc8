"""Evidence bound to the inputs: ``reports/evidence/`` and ``python -m harness verify``.

``evidence.json`` records, for one gate run: the SHA-256 of every file of every gated cloud
assembly the gate read or ``cdk deploy`` would publish (manifests, construct trees, stack and
nested-stack templates, asset manifests and every file of the assets they name), of every
file under ``policies/`` and of the lock files; the versions of the tools as the running tools
reported them (checkov from its own process, cfn-lint, cdk-nag and its packs with the resources
each was handed); the exact commands (scratch paths shown as ``$GATE_SCRATCH``); and the verdict.
``SHA256SUMS`` repeats the hashes in ``sha256sum`` format, paths relative to the project root, so
``sha256sum -c reports/evidence/SHA256SUMS`` works from the root for an assembly inside it.

``python -m harness verify --reports DIR --assembly PATH`` re-hashes the assembly: exit 0 when it
is the one the evidence was produced from, 1 naming each file that differs, is missing or is not
in the evidence, 2 (one line) when the input is unusable.

Everything is deterministic: sorted, no wall-clock time (the one timestamp is
:func:`reproducible_time`, the same as the OSCAL documents').
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.inputs import read_json

EVIDENCE_DIR = "evidence"
EVIDENCE_FILE = "evidence.json"
SUMS_FILE = "SHA256SUMS"
SCHEMA = "staging-rds-compliance-evidence/1"
LOCK_GLOBS = ("requirements/*.txt", "requirements/*.in", "package-lock.json")
SCRATCH = "$GATE_SCRATCH"
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------ timestamps


@dataclass(frozen=True, kw_only=True)
class Timestamp:
    value: dt.datetime
    source: str  # "SOURCE_DATE_EPOCH", "git commit <sha>" or "fixed epoch (no SOURCE_DATE_EPOCH, no git)"

    @property
    def iso(self) -> str:
        return self.value.isoformat(timespec="seconds")


def reproducible_time(root: Path, env: Mapping[str, str] | None = None) -> Timestamp:
    """The time OSCAL documents carry: ``SOURCE_DATE_EPOCH``, else the commit time of HEAD, else 1970-01-01.

    Never the wall clock: the same inputs give byte-identical reports. The commit time is the
    reproducible-builds convention (the time of the last change of the sources); the Unix epoch
    is the fallback outside a git checkout, and it says so.
    """
    env = os.environ if env is None else env
    raw = env.get("SOURCE_DATE_EPOCH")
    if raw is not None:
        if not raw.strip().isdigit():
            raise HarnessError(
                f"SOURCE_DATE_EPOCH has invalid value {raw!r}: must be a non-negative integer count of seconds "
                "since 1970-01-01 UTC (valid example: 1767225600)"
            )
        return Timestamp(value=dt.datetime.fromtimestamp(int(raw), tz=dt.UTC), source="SOURCE_DATE_EPOCH")
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct %H"], capture_output=True, text=True, timeout=10,
            check=False,
        )  # fmt: skip
        seconds, commit = done.stdout.split()
        return Timestamp(value=dt.datetime.fromtimestamp(int(seconds), tz=dt.UTC), source=f"git commit {commit}")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return Timestamp(
            value=dt.datetime.fromtimestamp(0, tz=dt.UTC), source="fixed epoch (no SOURCE_DATE_EPOCH, no git)"
        )


# ------------------------------------------------------------------------------------ assembly files


def _json(path: Path) -> Any:
    """The parsed file, or None for anything the gate's own reader refuses (a hostile input is hashed, not followed)."""
    try:
        return read_json(path, what="assembly file")
    except HarnessError:
        return None


def _inside(root: Path, base: Path, name: object) -> Path | None:
    if not isinstance(name, str) or not name:
        return None
    candidate = (base / name).resolve()
    try:
        candidate.relative_to(root)
    except ValueError:
        return None
    return candidate


def assembly_files(root: Path) -> list[Path]:
    """Every file of a cloud assembly the gate reads or a deploy publishes: manifests, construct trees,
    templates, nested templates, asset manifests and their assets.

    Tolerant on purpose (``verify`` runs on tampered assemblies): what cannot be parsed is still
    listed, so its hash differs, and nothing it would have named is followed.
    """
    root = root.resolve()
    found: set[Path] = set()
    pending = [root / "manifest.json"]
    while pending:
        manifest = pending.pop()
        if manifest in found or not manifest.is_file():
            continue
        found.add(manifest)
        data = _json(manifest)
        artifacts = data.get("artifacts") if isinstance(data, dict) else None
        for artifact in (artifacts or {}).values() if isinstance(artifacts, dict) else []:
            properties = artifact.get("properties") if isinstance(artifact, dict) else None
            if isinstance(properties, dict):
                _add_artifact(root, manifest.parent, artifact.get("type"), properties, found=found, pending=pending)
    return sorted(found)


def _add_artifact(
    root: Path, base: Path, kind: object, properties: Mapping[str, Any], *, found: set[Path], pending: list[Path]
) -> None:
    """The files one manifest artifact names: into ``found``, or a nested assembly's manifest into ``pending``."""
    if kind == "cdk:cloud-assembly":
        nested = _inside(root, base, properties.get("directoryName"))
        if nested is not None:
            pending.append(nested / "manifest.json")
        return
    named = {"cdk:asset-manifest": "file", "aws:cloudformation:stack": "templateFile", "cdk:tree": "file"}
    if kind not in named:
        return
    path = _inside(root, base, properties.get(named[str(kind)]))
    if path is None or not path.is_file():
        return
    found.add(path)
    if kind == "aws:cloudformation:stack":
        found.update(_nested_templates(root, path))
    elif kind == "cdk:asset-manifest":
        # What `cdk deploy` publishes: every asset the manifest names (function code, Docker
        # contexts). Changing an asset changes what deploys with every template untouched.
        found.update(_asset_sources(root, path))


def _asset_sources(root: Path, asset_manifest: Path) -> Iterator[Path]:
    """Every file of every file or Docker image asset an asset manifest names (inside the assembly)."""
    data = _json(asset_manifest)
    if not isinstance(data, dict):
        return
    for section, key in (("files", "path"), ("dockerImages", "directory")):
        entries = data.get(section)
        for entry in entries.values() if isinstance(entries, dict) else []:
            source = entry.get("source") if isinstance(entry, dict) else None
            path = _inside(root, asset_manifest.parent, source.get(key) if isinstance(source, dict) else None)
            if path is None:
                continue
            if path.is_file():
                yield path
            elif path.is_dir():
                yield from (f for f in path.rglob("*") if f.is_file() and f.resolve().is_relative_to(root))


def _nested_templates(root: Path, template: Path) -> Iterator[Path]:
    seen: set[Path] = set()
    pending = [template]
    while pending:
        body = _json(pending.pop())
        resources = body.get("Resources") if isinstance(body, dict) else None
        for resource in (resources or {}).values() if isinstance(resources, dict) else []:
            metadata = resource.get("Metadata") if isinstance(resource, dict) else None
            asset = metadata.get("aws:asset:path") if isinstance(metadata, dict) else None
            if (
                resource.get("Type") == "AWS::CloudFormation::Stack"
                and isinstance(asset, str)
                and asset.endswith(".json")
            ):
                path = _inside(root, template.parent, asset)
                if path is not None and path.is_file() and path not in seen:
                    seen.add(path)
                    pending.append(path)
                    yield path


def _hashes(base: Path, paths: Sequence[Path]) -> list[dict[str, str]]:
    return [{"path": p.relative_to(base).as_posix(), "sha256": sha256_file(p)} for p in sorted(paths)]


# ------------------------------------------------------------------------------------ writing


def shown(path: Path, root: Path) -> str:
    """A path relative to the project root where it is inside it, else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def sanitize(command: str, *, root: Path, scratch: str = "") -> str:
    """A command line without this machine's scratch directory and with root-relative paths."""
    if scratch:
        command = command.replace(scratch, SCRATCH)
    return command.replace(str(root.resolve()) + "/", "")


def build_evidence(
    *,
    root: Path,
    policies_dir: Path,
    assemblies: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    commands: Sequence[str],
    verdict: Mapping[str, Any],
    timestamp: Timestamp,
    versions: Mapping[str, str],
) -> dict[str, Any]:
    """The evidence document (a dict, rendered by :func:`render_evidence`)."""
    inputs = []
    for assembly in sorted(assemblies, key=lambda a: str(a["label"])):
        if "files" in assembly:  # hashed by the run that read it (a shard, for python -m harness merge)
            inputs.append({"label": assembly["label"], "path": assembly["path"], "files": list(assembly["files"])})
            continue
        directory = Path(str(assembly["abs_path"]))
        inputs.append(
            {
                "label": assembly["label"],
                "path": shown(directory, root),
                "files": _hashes(directory, assembly_files(directory)) if directory.is_dir() else [],
            }
        )
    policy_files = [p for p in policies_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    locks = sorted({p for pattern in LOCK_GLOBS for p in root.glob(pattern) if p.is_file()})
    return {
        "schema": SCHEMA,
        "timestamp": {"value": timestamp.iso, "source": timestamp.source},
        "verdict": dict(verdict),
        "assemblies": inputs,
        "policies": {"path": shown(policies_dir, root), "files": _hashes(policies_dir, policy_files)},
        "locks": _hashes(root, locks),
        "tools": [
            {k: tool[k] for k in ("tool", "version", "evaluated", "packs") if k in tool}
            for tool in sorted(tools, key=lambda t: (str(t["tool"]), str(t.get("command", ""))))
        ],
        "versions": dict(sorted(versions.items())),
        "commands": list(commands),
    }


HARNESS_GLOBS = ("harness/**/*.py", "harness/**/*.yaml")


def harness_digest(root: Path) -> str:
    """One SHA-256 over the gate's own code (path and content of each file): which harness judged.

    Shards of one merge must come from the same harness (``python -m harness merge`` compares it).
    """
    files = sorted({p for pattern in HARNESS_GLOBS for p in root.glob(pattern) if p.is_file()})
    lines = "".join(f"{p.relative_to(root).as_posix()}\0{sha256_file(p)}\n" for p in files)
    return "sha256:" + hashlib.sha256(lines.encode("utf-8")).hexdigest()


def render_evidence(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_sums(document: Mapping[str, Any], *, root: Path) -> str:
    """``sha256sum -c`` format, paths relative to the project root (absolute outside it)."""
    lines = []
    for assembly in document["assemblies"]:
        base = root / assembly["path"]
        lines += [f"{f['sha256']}  {shown(base / f['path'], root)}" for f in assembly["files"]]
    base = root / document["policies"]["path"]
    lines += [f"{f['sha256']}  {shown(base / f['path'], root)}" for f in document["policies"]["files"]]
    lines += [f"{f['sha256']}  {f['path']}" for f in document["locks"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------ verify


@dataclass(frozen=True, kw_only=True)
class Difference:
    path: str
    kind: str  # "differs" | "missing" | "not in the evidence"
    detail: str = ""

    def line(self) -> str:
        return f"{self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def load_evidence(reports: Path) -> dict[str, Any]:
    path = reports / EVIDENCE_DIR / EVIDENCE_FILE
    if not path.is_file():
        raise HarnessError(f"no evidence at {path}: run the gate with --reports {reports} first")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise HarnessError(f"evidence file {path} is not valid JSON: {error}") from error
    if (
        not isinstance(document, dict)
        or document.get("schema") != SCHEMA
        or not isinstance(document.get("assemblies"), list)
    ):
        raise HarnessError(
            f"evidence file {path} is not {SCHEMA} evidence (schema {document.get('schema') if isinstance(document, dict) else None!r})"
        )
    return document


def compare_assembly(recorded: Mapping[str, Any], assembly: Path) -> list[Difference]:
    """Each file of ``assembly`` whose content is not the one recorded (or that is missing or extra)."""
    assembly = assembly.resolve()
    expected = {str(f["path"]): str(f["sha256"]) for f in recorded.get("files", [])}
    differences = []
    for relpath, digest in sorted(expected.items()):
        path = assembly / relpath
        if not path.is_file():
            differences.append(Difference(path=relpath, kind="missing"))
            continue
        actual = sha256_file(path)
        if actual != digest:
            differences.append(Difference(path=relpath, kind="differs", detail=f"sha256 {actual}, evidence {digest}"))
    for path in assembly_files(assembly):
        relpath = path.relative_to(assembly).as_posix()
        if relpath not in expected:
            differences.append(Difference(path=relpath, kind="not in the evidence"))
    return differences


def verify(reports: Path, assembly: Path) -> tuple[int, list[str]]:
    """(exit code, lines): 0 and a confirmation, 1 and one line per differing file; HarnessError for bad input."""
    if not assembly.is_dir():
        raise HarnessError(f"--assembly {assembly} is not a directory (give the cloud assembly, e.g. cdk.out)")
    if not (assembly / "manifest.json").is_file():
        raise HarnessError(f"--assembly {assembly} is not a cloud assembly: manifest.json is missing")
    document = load_evidence(reports)
    recorded = document["assemblies"]
    if not recorded:
        raise HarnessError(f"the evidence in {reports} records no assembly (the run failed before it read one)")
    label = assembly.resolve().name
    match = [a for a in recorded if a.get("label") == label]
    chosen = match[0] if match else recorded[0] if len(recorded) == 1 else None
    if chosen is None:
        names = ", ".join(str(a.get("label")) for a in recorded)
        raise HarnessError(f"the evidence in {reports} records assemblies {names}; none is named {label!r}")
    differences = compare_assembly(chosen, assembly)
    verdict = document.get("verdict", {}).get("verdict", "?")
    if differences:
        return 1, [
            f"{assembly}: {len(differences)} file(s) differ from the evidence of the {verdict} run "
            f"({chosen.get('label')}):",
            *(f"  {d.line()}" for d in differences),
        ]
    return 0, [
        f"{assembly}: all {len(chosen.get('files', []))} file(s) match the evidence of the {verdict} run ({chosen.get('label')})"
    ]


def verify_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m harness verify",
        description="Check that a cloud assembly is the one a gate run's evidence (reports/evidence/) was produced from.",
        epilog="exit codes: 0 same files, 1 a file differs (each named), 2 unusable input",
    )
    parser.add_argument("--reports", type=Path, required=True, help="the report directory of the gate run")
    parser.add_argument("--assembly", type=Path, required=True, help="the cloud assembly to check, e.g. cdk.out")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    try:
        code, lines = verify(args.reports, args.assembly)
    except HarnessError as error:
        print(f"verify error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"verify error: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    print("\n".join(lines), file=sys.stdout if code == 0 else sys.stderr)
    return code
