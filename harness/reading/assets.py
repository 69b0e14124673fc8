"""What ``cdk deploy`` publishes for a stack: its asset manifests, the sources they name, where they go.

The CLI deploys a stack artifact by first publishing the asset manifests the artifact depends on
(artifact type ``cdk:asset-manifest``, e.g. ``StagingDatabase.assets.json``): each file entry's
``source.path`` (a file, or a directory it zips) is uploaded to ``s3://<bucketName>/<objectKey>``
of every destination, each Docker entry's ``source.directory`` is built and pushed to
``<repositoryName>:<imageTag>``. Object keys and tags are content hashes and the CLI skips an
upload when the key already exists, so a key whose name is not the hash of its source may
deploy whatever an earlier upload left there: :meth:`AssetBook.problem` verifies the name.

Every location is kept in one normal form, ``s3://<bucket>/<key>`` or ``<repository>:<tag>``,
with the placeholders the CLI fills from the stack's environment (``${AWS::Region}``,
``${AWS::Partition}``, ``${AWS::URLSuffix}``, and ``${AWS::AccountId}`` when the stack names its
account) substituted; template expressions are brought to the same form by the project's resolver
(:func:`template_text`), so both sides compare as strings.

A manifest of the wrong shape is a :class:`HarnessError` (exit 2, one line with a valid example);
a missing manifest or source, a source outside the assembly or produced by a command at publish
time is a *problem* the gate reports NOT EVALUATED (harness.reading.deployed).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.reading.digests import DigestCache, cdk_file_fingerprint
from harness.reading.inputs import read_json
from policies.lib import cfn_resolver as cfn

ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
HASH_IN_NAME = re.compile(r"([0-9a-f]{64})")
FILE_EXAMPLE = (
    '{"source": {"path": "asset.<hash>", "packaging": "zip"}, "destinations": {"d": '
    '{"bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1", "objectKey": "<hash>.zip"}}}'
)
IMAGE_EXAMPLE = (
    '{"source": {"directory": "asset.<hash>"}, "destinations": {"d": '
    '{"repositoryName": "cdk-hnb659fds-container-assets-${AWS::AccountId}-us-east-1", "imageTag": "<hash>"}}}'
)


@dataclass(frozen=True, kw_only=True)
class Asset:
    """One entry of an asset manifest."""

    manifest: Path
    asset_id: str
    kind: str  # "file" | "image"
    packaging: str  # file assets: "file" (uploaded as is) or "zip" (a directory, zipped); images: ""
    source_text: str  # source.path / source.directory as written
    source: Path | None  # inside the assembly; None when it is not (see ``problem``)
    locations: tuple[str, ...]  # s3://bucket/key or repository:tag, environment placeholders filled
    problem: str = ""  # why the source cannot be judged ("" when it can)

    @property
    def label(self) -> str:
        return f"{self.manifest.name} entry {self.asset_id}"


@dataclass(frozen=True, kw_only=True)
class Environment:
    region: str
    account: str | None = None

    @property
    def placeholders(self) -> dict[str, str]:
        suffix = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        partition = (
            "aws-cn" if self.region.startswith("cn-") else "aws-us-gov" if self.region.startswith("us-gov-") else "aws"
        )
        known = {"AWS::Region": self.region, "AWS::Partition": partition, "AWS::URLSuffix": suffix}
        if self.account:
            known["AWS::AccountId"] = self.account
        return known

    def fill(self, text: str) -> str:
        for name, value in self.placeholders.items():
            text = text.replace("${" + name + "}", value)
        return text

    @property
    def resolver_environment(self) -> cfn.Environment:
        return cfn.Environment(region=self.region, account=self.account)


@dataclass
class AssetBook:
    """The assets one stack artifact deploys with (its own and its nested stacks'), digests shared."""

    root: Path  # the top-level assembly directory: no source may leave it
    environment: Environment
    digests: DigestCache
    manifests: tuple[Path, ...] = ()
    assets: tuple[Asset, ...] = ()
    problems: tuple[str, ...] = ()  # manifests the artifact names that are not there
    _checked: dict[tuple[str, str], str] = field(default_factory=dict)

    @functools.cached_property
    def by_location(self) -> dict[str, list[Asset]]:
        index: dict[str, list[Asset]] = {}
        for asset in self.assets:
            for location in asset.locations:
                index.setdefault(location, []).append(asset)
        return index

    def at(self, location: str) -> list[Asset]:
        return self.by_location.get(location, [])

    @functools.cached_property
    def by_hash(self) -> dict[str, list[tuple[Asset, str]]]:
        """(asset, location) by the content hash the location names (what a template's S3 key refers to)."""
        index: dict[str, list[tuple[Asset, str]]] = {}
        for asset in self.assets:
            for location in asset.locations:
                named = _named_hash(location)
                if named:
                    index.setdefault(named, []).append((asset, location))
        return index

    def problem(self, asset: Asset, location: str) -> str:
        """Why what deploys at ``location`` is not known to be ``asset``'s source ("" when it is)."""
        key = (asset.label, location)
        if key not in self._checked:
            self._checked[key] = asset.problem or self._name_problem(asset, location)
        return self._checked[key]

    def _name_problem(self, asset: Asset, location: str) -> str:
        assert asset.source is not None
        named = _named_hash(location)
        if not named:
            return f"{asset.label}: its destination {location} does not name a content hash, so the gate cannot tell what it holds"
        if asset.kind == "image":
            return (
                ""  # a Docker fingerprint hashes build options too: reviewed by content (harness.verdict.code_review)
            )
        if asset.packaging == "zip":
            directory = self.digests.directory(asset.source)
            if directory.problems:
                return f"{asset.label}: {self.shown(asset.source)} holds what the gate does not read: {'; '.join(directory.problems)}"
            actual = directory.cdk_fingerprint
            accepted = {actual}
        else:
            actual = self.digests.sha256(asset.source)  # a template's name is the SHA-256 of its bytes
            if named == actual:
                return ""
            accepted = {cdk_file_fingerprint(self.digests.file(asset.source))}  # other file assets: CDK's fingerprint
        if named in accepted:
            return ""
        return (
            f"{asset.label}: {location} names content {named}, but its source {self.shown(asset.source)} hashes to "
            f"{actual}: the bucket may already hold other content under that key, and that is what would deploy"
        )

    def shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def _named_hash(location: str) -> str:
    """The content hash an object key or image tag names (the last 64-hex run of its last segment)."""
    tail = location.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    found = HASH_IN_NAME.findall(tail)
    return found[-1] if found else ""


# --------------------------------------------------------------------------------------------- reading


def load_book(
    *, directory: Path, root: Path, manifest_path: Path, artifact_id: str, artifact: Mapping[str, Any],
    artifacts: Mapping[str, Mapping[str, Any]], environment: Environment, digests: DigestCache,
) -> AssetBook:  # fmt: skip
    """The asset manifests a stack artifact depends on (as the CLI publishes them before deploying it)."""
    dependencies = artifact.get("dependencies", [])
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise HarnessError(
            f"malformed cloud assembly manifest {manifest_path}: artifact {artifact_id!r} dependencies must be a "
            'list of artifact ids (valid example: ["StagingDatabase.assets"])'
        )
    manifests: list[Path] = []
    assets: list[Asset] = []
    problems: list[str] = []
    for dependency in dependencies:
        declared = artifacts.get(dependency)
        if declared is None or declared.get("type") != ASSET_MANIFEST_ARTIFACT:
            continue
        name = (declared.get("properties") or {}).get("file")
        if not isinstance(name, str) or not name:
            raise HarnessError(
                f"malformed cloud assembly manifest {manifest_path}: asset manifest artifact {dependency!r} has no "
                'properties.file (valid example: "StagingDatabase.assets.json")'
            )
        path = _inside_or_none(directory, name, root)
        if path is None:
            raise HarnessError(
                f"malformed cloud assembly manifest {manifest_path}: asset manifest artifact {dependency!r} file "
                f"{name!r} points outside the assembly {root}"
            )
        if not path.exists():
            problems.append(f"asset manifest {name} (artifact {dependency}) is missing from the assembly")
            continue
        manifests.append(path)
        assets += _manifest_assets(path, root=root, environment=environment)
    return AssetBook(
        root=root, environment=environment, digests=digests, manifests=tuple(manifests), assets=tuple(assets),
        problems=tuple(problems),
    )  # fmt: skip


def _inside_or_none(base: Path, name: str, root: Path) -> Path | None:
    if Path(name).is_absolute():
        return None
    candidate = (base / name).resolve()
    return candidate if candidate.is_relative_to(root.resolve()) else None


def _manifest_assets(path: Path, *, root: Path, environment: Environment) -> list[Asset]:
    data = read_json(path, what="asset manifest")
    if not isinstance(data, dict):
        raise HarnessError(f'malformed asset manifest {path}: not a JSON object (valid example: {{"files": {{}}}})')
    assets: list[Asset] = []
    for section, kind, example in (("files", "file", FILE_EXAMPLE), ("dockerImages", "image", IMAGE_EXAMPLE)):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise HarnessError(f"malformed asset manifest {path}: {section} must be an object (valid example: {{}})")
        for asset_id, entry in sorted(entries.items()):
            assets.append(_asset(path, asset_id, entry, kind=kind, root=root, environment=environment, example=example))
    return assets


def _asset(
    path: Path, asset_id: str, entry: Any, *, kind: str, root: Path, environment: Environment, example: str
) -> Asset:
    def malformed(what: str) -> HarnessError:
        return HarnessError(f"malformed asset manifest {path}: entry {asset_id!r} {what} (valid example: {example})")

    if not isinstance(entry, dict) or not isinstance(entry.get("source"), dict):
        raise malformed("has no source object")
    source = entry["source"]
    key = "path" if kind == "file" else "directory"
    packaging = source.get("packaging", "file") if kind == "file" else ""
    if packaging not in ("file", "zip", ""):
        raise malformed(f"has packaging {packaging!r}, not 'file' or 'zip'")
    locations = tuple(_locations(entry.get("destinations"), kind=kind, environment=environment, malformed=malformed))

    def asset(source_text: str, source: Path | None, problem: str = "") -> Asset:
        return Asset(
            manifest=path, asset_id=asset_id, kind=kind, packaging=packaging, locations=locations,
            source_text=source_text, source=source, problem=problem,
        )  # fmt: skip

    if "executable" in source:
        command = source["executable"]
        return asset(str(command), None, f"{path.name} entry {asset_id}: produced by a command at publish time "
                     f"({command!r}), not a file of the assembly")  # fmt: skip
    text = source.get(key)
    if not isinstance(text, str) or not text:
        raise malformed(f"has no source.{key}")
    where = f"{path.name} entry {asset_id}: source {text!r}"
    resolved = _inside_or_none(path.parent, text, root)
    if resolved is None:
        return asset(text, None, f"{where} is outside the assembly {root.name}")
    if not resolved.exists():
        return asset(text, None, f"{where} is missing from the assembly")
    expected_dir = kind == "image" or packaging == "zip"
    if expected_dir != resolved.is_dir():
        return asset(text, None, f"{where} is not {'a directory' if expected_dir else 'a file'}, as its packaging says")
    return asset(text, resolved)


def _locations(destinations: Any, *, kind: str, environment: Environment, malformed: Any) -> Iterable[str]:
    if not isinstance(destinations, dict) or not destinations:
        raise malformed("has no destinations object")
    fields = ("bucketName", "objectKey") if kind == "file" else ("repositoryName", "imageTag")
    for destination in destinations.values():
        if not isinstance(destination, dict) or not all(isinstance(destination.get(f), str) for f in fields):
            raise malformed(f"has a destination without {' and '.join(fields)}")
        first, second = (environment.fill(destination[f]) for f in fields)
        yield f"s3://{first}/{second}" if kind == "file" else f"{first}:{second}"


# --------------------------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Text:
    """A template expression as text in the normal form, or why it has none."""

    value: str = ""
    reason: str = ""


def template_text(expression: Any, resolver: cfn.Resolver) -> Text:
    """An expression resolved to text; pseudo parameters the environment leaves open stay ``${AWS::...}``."""
    return as_text(resolver.value(expression))


def as_text(value: Any) -> Text:
    """A resolved value as text in the normal form, or why it is not one."""
    if isinstance(value, str):
        return Text(value=value)
    if isinstance(value, cfn.Text) and all(s.kind == "pseudo" for s in value.symbols):
        return Text(value=str(value))
    if isinstance(value, cfn.Unknown):
        return Text(reason=value.reason)
    return Text(reason=f"it names {value}, not a location the assembly publishes to")


def s3_location(url: str) -> str:
    """``s3://bucket/key`` of an S3 URL (s3://, path-style or virtual-hosted https), or "" if it is none."""
    if url.startswith("s3://"):
        bucket, _, key = url[len("s3://") :].partition("/")
        return f"s3://{bucket}/{key}" if bucket and key else ""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.query or parts.fragment:
        return ""
    host, path = parts.netloc, parts.path.lstrip("/")
    if re.fullmatch(r"s3([.-][^/]*)?\.amazonaws\.com(\.cn)?", host):
        bucket, _, key = path.partition("/")
    elif match := re.fullmatch(r"(.+?)\.s3([.-][^/]*)?\.amazonaws\.com(\.cn)?", host):
        bucket, key = match.group(1), path
    else:
        return ""
    return f"s3://{bucket}/{key}" if bucket and key else ""


def image_location(uri: str, environment: Environment) -> str:
    """``repository:tag`` of an image in this account's ECR (where CDK pushes image assets), or ""."""
    account = environment.account or "${AWS::AccountId}"
    suffix = environment.placeholders["AWS::URLSuffix"]
    prefix = f"{account}.dkr.ecr.{environment.region}.{suffix}/"
    if not uri.startswith(prefix):
        return ""
    reference = uri[len(prefix) :]
    return reference if re.fullmatch(r"[a-z0-9._/${}:A-Z-]+:[A-Za-z0-9_.-]+", reference) else ""
