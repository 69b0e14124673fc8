"""Test assemblies that are internally consistent, exactly as an attacker who edits a template would leave them.

The gate judges the template that deploys (harness.reading.deployed): the asset that the stack
artifact's ``stackTemplateAssetObjectUrl`` names, matched by SHA-256 to ``templateFile``. A test
that edits a template must therefore also fix up what points at it, or every edited assembly would
be NOT EVALUATED for the wrong reason. :func:`seal_assembly` does what such an attacker does: each
nested template (``aws:asset:path``) gets an asset manifest entry under its real hash and a
``TemplateURL`` in CDK's own form naming it, then each stack template gets its real hash as the
asset's id and object key, and the manifest's ``stackTemplateAssetObjectUrl`` names that object.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

ASSET_MANIFEST_ARTIFACT = "cdk:asset-manifest"
BUCKET = "cdk-hnb659fds-assets-${AWS::AccountId}-us-east-1"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def asset_manifests(directory: Path) -> dict[str, Path]:
    """Artifact id -> asset manifest file of the assembly's manifest.json."""
    artifacts = read(directory / "manifest.json")["artifacts"]
    return {
        artifact_id: directory / artifact["properties"]["file"]
        for artifact_id, artifact in artifacts.items()
        if artifact["type"] == ASSET_MANIFEST_ARTIFACT
    }


def copy_assets(source: Path, directory: Path) -> None:
    """The asset manifests of ``source`` and every source they name (function code directories...)."""
    for manifest in asset_manifests(source).values():
        shutil.copyfile(manifest, directory / manifest.name)
        for section, key in (("files", "path"), ("dockerImages", "directory")):
            for entry in read(manifest).get(section, {}).values():
                name = entry["source"][key]
                origin, target = source / name, directory / name
                if origin.is_dir() and not target.exists():
                    shutil.copytree(origin, target)
                elif origin.is_file() and not target.exists():
                    shutil.copyfile(origin, target)


def file_entry(source: str, digest: str, display: str) -> dict[str, Any]:
    """An asset manifest entry as CDK writes one for a template."""
    return {
        "displayName": display,
        "source": {"path": source, "packaging": "file"},
        "destinations": {
            "current_account-us-east-1": {
                "bucketName": BUCKET,
                "objectKey": f"{digest}.json",
                "region": "us-east-1",
                "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-file-publishing-role-${AWS::AccountId}-us-east-1",
            }
        },
    }


def template_url(digest: str) -> dict[str, Any]:
    """A nested stack's TemplateURL exactly as CDK writes it."""
    return {
        "Fn::Join": [
            "",
            ["https://s3.us-east-1.", {"Ref": "AWS::URLSuffix"}, "/", {"Fn::Sub": BUCKET}, f"/{digest}.json"],
        ]
    }


def _publish(files: dict[str, Any], source: str, digest: str, display: str) -> None:
    for asset_id in [k for k, v in files.items() if v["source"].get("path") == source]:
        del files[asset_id]
    files[digest] = file_entry(source, digest, display)


def _seal_template(directory: Path, name: str, files: dict[str, Any], seen: set[str]) -> str:
    """Seal the nested templates ``name`` declares, then return ``name``'s own hash."""
    if name in seen:
        return sha256(directory / name)
    seen.add(name)
    path = directory / name
    body = read(path)
    changed = False
    for logical_id, resource in sorted((body.get("Resources") or {}).items()):
        asset = (resource.get("Metadata") or {}).get("aws:asset:path")
        if resource.get("Type") != "AWS::CloudFormation::Stack" or not isinstance(asset, str):
            continue
        if not (directory / asset).is_file():
            continue
        digest = _seal_template(directory, asset, files, seen)
        _publish(files, asset, digest, f"{logical_id} Nested Stack Template")
        resource.setdefault("Properties", {})["TemplateURL"] = template_url(digest)
        changed = True
    if changed:
        write(path, body)
    return sha256(path)


def seal_assembly(directory: Path, *, nested: bool = True) -> Path:
    """Asset manifests, template URLs and (unless ``nested`` is false) nested TemplateURLs that match
    the templates as they now are."""
    manifest_path = directory / "manifest.json"
    manifest = read(manifest_path)
    manifests = asset_manifests(directory)
    for artifact in manifest["artifacts"].values():
        properties = artifact.get("properties", {})
        if artifact["type"] != "aws:cloudformation:stack" or "stackTemplateAssetObjectUrl" not in properties:
            continue
        dependency = next(d for d in artifact.get("dependencies", []) if d in manifests)
        asset_manifest = read(manifests[dependency])
        files = asset_manifest.setdefault("files", {})
        name = properties["templateFile"]
        digest = _seal_template(directory, name, files, set()) if nested else sha256(directory / name)
        _publish(files, name, digest, f"{properties.get('stackName', name)} Template")
        properties["stackTemplateAssetObjectUrl"] = f"s3://{BUCKET}/{digest}.json"
        write(manifests[dependency], asset_manifest)
    write(manifest_path, manifest)
    return directory


# ------------------------------------------------------------------------------------ an attacker's edits


def the_asset_manifest(directory: Path) -> Path:
    (path,) = asset_manifests(directory).values()
    return path


def code_asset_id(directory: Path) -> str:
    """The (one) zipped code asset of the synthesized stack: the default security group's handler."""
    files = read(the_asset_manifest(directory))["files"]
    return str(next(asset_id for asset_id, entry in files.items() if entry["source"].get("packaging") == "zip"))


def write_code(directory: Path, files: dict[str, str]) -> str:
    """A new code directory staged as CDK stages one (``asset.<fingerprint>``); its fingerprint."""
    from harness.reading.digests import digest_directory  # noqa: PLC0415

    staging = directory / "asset.staging"
    for name, text in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_text(text, encoding="utf-8")
    fingerprint = digest_directory(staging).cdk_fingerprint
    staging.rename(directory / f"asset.{fingerprint}")
    return fingerprint


def zip_entry(digest: str, display: str) -> dict[str, Any]:
    entry = file_entry(f"asset.{digest}", digest, display)
    entry["source"]["packaging"] = "zip"
    entry["destinations"]["current_account-us-east-1"]["objectKey"] = f"{digest}.zip"
    return entry


def add_code_asset(directory: Path, files: dict[str, str], display: str = "code") -> str:
    """Stage code and publish it in the asset manifest, consistently; its hash (the S3 key is ``<hash>.zip``)."""
    digest = write_code(directory, files)
    manifest = the_asset_manifest(directory)
    data = read(manifest)
    data["files"][digest] = zip_entry(digest, display)
    write(manifest, data)
    return digest


def replace_code_asset(directory: Path, files: dict[str, str]) -> str:
    """Swap the handler's code for ``files`` and fix up everything that names it (manifest, template, URL)."""
    old = code_asset_id(directory)
    new = add_code_asset(directory, files, display="replaced handler code")
    manifest = the_asset_manifest(directory)
    data = read(manifest)
    del data["files"][old]
    write(manifest, data)
    shutil.rmtree(directory / f"asset.{old}")
    for template in directory.glob("*.template.json"):
        template.write_text(template.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    seal_assembly(directory, nested=False)
    return new
