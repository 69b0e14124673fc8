"""The bytes that deploy: content hashes, CDK's fingerprint, asset manifests matched to templates.

In-process over small assemblies written here (harness.reading.assembly.load_assembly and the findings
of harness.reading.deployed), plus CDK itself synthesizing assets of awkward content so the reproduced
fingerprint is checked against the real one, and two gate runs for one-line harness failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.model import Status
from harness.reading.assembly import load_assembly
from harness.reading.assets import Environment, image_location, s3_location
from harness.reading.deployed import RULE_ASSET, RULE_DEPLOYED
from harness.reading.digests import CDK_CHUNK, cdk_file_fingerprint, digest_directory, digest_file
from harness.verdict.deployed_findings import deployment_findings
from tests.harness.assemblies import BUCKET, file_entry, template_url, zip_entry
from tests.harness.conftest import ROOT, checkov_bin

TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assembly(
    root: Path, template: Any = TEMPLATE, *, url: str | None = "sealed", files: dict[str, Any] | None = None,
    with_asset_manifest: bool = True,
) -> Path:  # fmt: skip
    """One stack, CDK-style: templateFile, an asset manifest (its template entry under the real hash) and the URL."""
    _write(root / "S.template.json", template)
    digest = _sha(root / "S.template.json")
    entries = {digest: file_entry("S.template.json", digest, "S Template"), **(files or {})}
    if with_asset_manifest:
        _write(root / "S.assets.json", {"version": "55.0.0", "files": entries, "dockerImages": {}})
    properties: dict[str, Any] = {"templateFile": "S.template.json"}
    if url is not None:
        properties["stackTemplateAssetObjectUrl"] = f"s3://{BUCKET}/{digest}.json" if url == "sealed" else url
    manifest: dict[str, Any] = {"version": "55.0.0", "artifacts": {
        "S.assets": {"type": "cdk:asset-manifest", "properties": {"file": "S.assets.json"}},
        "S": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
              "properties": properties, "dependencies": ["S.assets"]}}}  # fmt: skip
    if not with_asset_manifest:  # the legacy synthesizer: no asset manifest artifact at all
        del manifest["artifacts"]["S.assets"]
        manifest["artifacts"]["S"]["dependencies"] = []
    _write(root / "manifest.json", manifest)
    return root


def _notes(root: Path) -> list[tuple[str, Status, str]]:
    return [(f.rule_id, f.status, f.message) for f in deployment_findings([load_assembly(root)])]


def _gating(root: Path) -> list[tuple[str, str]]:
    return [(rule, message) for rule, status, message in _notes(root) if status.gates]


# ---------------------------------------------------------------------------------------- hashing


def test_the_content_hash_of_a_directory_is_what_sha256sum_prints(tmp_path: Path) -> None:
    _write(tmp_path / "code" / "b.js", "b")
    _write(tmp_path / "code" / "a" / "z.js", "z")
    _write(tmp_path / "code" / "A.js", "A")
    digest = digest_directory(tmp_path / "code")
    listing = subprocess.run(
        "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum",
        shell=True, cwd=tmp_path / "code", capture_output=True, text=True, check=True,
    ).stdout.split()[0]  # fmt: skip
    assert digest.sha256 == listing
    assert [path for path, _ in digest.files] == ["A.js", "a/z.js", "b.js"]
    (tmp_path / "code" / "b.js").write_text("c", encoding="utf-8")
    assert digest_directory(tmp_path / "code").sha256 != digest.sha256


def test_a_symlink_is_a_problem_and_a_fifo_a_harness_failure(tmp_path: Path) -> None:
    _write(tmp_path / "code" / "index.js", "x")
    (tmp_path / "code" / "link.js").symlink_to("/etc/hostname")
    assert digest_directory(tmp_path / "code").problems == (
        "link.js: a symbolic link (the gate reads only regular files)",
    )
    os.mkfifo(tmp_path / "code" / "pipe")
    with pytest.raises(HarnessError, match="it is a FIFO, not a regular file"):
        digest_directory(tmp_path / "code")
    with pytest.raises(HarnessError, match="a symbolic link"):
        digest_file(tmp_path / "code" / "link.js")


def _awkward_files(directory: Path) -> None:
    """Content where CDK's fingerprint is not the plain bytes: CRLF, a CR at a chunk edge, binary, order."""
    _write(directory / "crlf.txt", "one\r\ntwo\r\n")
    (directory / "edge.txt").write_bytes(b"x" * (CDK_CHUNK - 1) + b"\r\n" + b"y" * 10)
    (directory / "trailing-cr.txt").write_bytes(b"z" * (CDK_CHUNK - 1) + b"\r")
    (directory / "binary.bin").write_bytes(b"\0\r\n" * 5000)
    (directory / "late-nul.txt").write_bytes(b"a\r\n" * 4000 + b"\0")
    (directory / "latin1.txt").write_bytes(b"caf\xe9\r\n")
    (directory / "empty").write_bytes(b"")
    _write(directory / "Upper" / "x.js", "1")
    _write(directory / "lower" / "a.b", "2")
    _write(directory / "lower.js", "3")
    _write(directory / "ü.js", "4")


def test_the_fingerprint_is_cdks_own_on_assets_cdk_synthesizes(tmp_path: Path) -> None:
    """aws-cdk-lib (this very install) stages a directory and a file of awkward content; the names it gives
    them are the fingerprints harness.reading.digests computes."""
    from aws_cdk import App, Stack  # noqa: PLC0415
    from aws_cdk import aws_s3_assets as s3_assets  # noqa: PLC0415

    source = tmp_path / "source"
    _awkward_files(source)
    app = App(outdir=str(tmp_path / "out"))
    stack = Stack(app, "S")
    directory = s3_assets.Asset(stack, "Dir", path=str(source))
    single = s3_assets.Asset(stack, "File", path=str(source / "edge.txt"))
    app.synth()
    assert digest_directory(source).cdk_fingerprint == directory.asset_hash
    assert digest_directory(tmp_path / "out" / f"asset.{directory.asset_hash}").cdk_fingerprint == directory.asset_hash
    assert cdk_file_fingerprint(digest_file(source / "edge.txt")) == single.asset_hash


def test_the_fingerprint_of_the_real_stack_names_its_assets(default_assembly: Path) -> None:
    manifest = json.loads((default_assembly / "StagingDatabase.assets.json").read_text(encoding="utf-8"))
    for asset_id, entry in manifest["files"].items():
        source = default_assembly / entry["source"]["path"]
        if entry["source"]["packaging"] == "zip":
            assert digest_directory(source).cdk_fingerprint == asset_id
        else:
            assert _sha(source) == asset_id  # a template's asset is named by the SHA-256 of its bytes


# ---------------------------------------------------------------------------------------- locations


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://b/k.json", "s3://b/k.json"),
        ("https://s3.us-east-1.amazonaws.com/b/dir/k.json", "s3://b/dir/k.json"),
        ("https://s3.amazonaws.com/b/k.json", "s3://b/k.json"),
        ("https://b.s3.us-east-1.amazonaws.com/k.json", "s3://b/k.json"),
        ("https://b.s3.amazonaws.com.cn/k.json", "s3://b/k.json"),
        ("https://example.com/b/k.json", ""),
        ("http://s3.amazonaws.com/b/k.json", ""),
        ("https://s3.amazonaws.com/b/k.json?versionId=1", ""),
        ("s3://b", ""),
    ],
)
def test_s3_urls_are_read_in_every_form_cloudformation_takes(url: str, location: str) -> None:
    assert s3_location(url) == location


def test_an_image_is_an_asset_only_in_this_accounts_ecr() -> None:
    environment = Environment(region="us-east-1")
    repo = "cdk-hnb659fds-container-assets-${AWS::AccountId}-us-east-1"
    assert (
        image_location(f"${{AWS::AccountId}}.dkr.ecr.us-east-1.amazonaws.com/{repo}:{'a' * 64}", environment)
        == f"{repo}:{'a' * 64}"
    )
    assert image_location(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}:{'a' * 64}", environment) == ""
    assert image_location("public.ecr.aws/x/y:latest", environment) == ""


# ---------------------------------------------------------------------------------------- matching


def test_a_consistent_stack_deploys_its_template_file(tmp_path: Path) -> None:
    root = _assembly(tmp_path / "a")
    (stack,) = load_assembly(root).stacks
    assert stack.path == root / "S.template.json"
    assert [(rule, status) for rule, status, _ in _notes(root)] == [(RULE_DEPLOYED, Status.PASSED)]


def test_a_legacy_stack_without_a_template_url_deploys_its_template_file(tmp_path: Path) -> None:
    root = _assembly(tmp_path / "a", url=None, with_asset_manifest=False)
    assert load_assembly(root).stacks[0].path == root / "S.template.json"
    assert not _gating(root)


def test_the_deployed_file_is_judged_and_the_difference_names_both_files_and_hashes(tmp_path: Path) -> None:
    root = _assembly(tmp_path / "a")
    deployed = _write(root / "D.json", {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    manifest = json.loads((root / "S.assets.json").read_text(encoding="utf-8"))
    manifest["files"][_sha(deployed)] = file_entry("D.json", _sha(deployed), "D")
    _write(root / "S.assets.json", manifest)
    stack_manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    stack_manifest["artifacts"]["S"]["properties"]["stackTemplateAssetObjectUrl"] = (
        f"s3://{BUCKET}/{_sha(deployed)}.json"
    )
    _write(root / "manifest.json", stack_manifest)
    (stack,) = load_assembly(root).stacks
    assert stack.path == deployed and "Queue" in stack.resources
    ((rule, message),) = _gating(root)
    assert rule == RULE_DEPLOYED
    for fragment in ("D.json", _sha(deployed), "S.template.json", _sha(root / "S.template.json")):
        assert fragment in message


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("no-entry", "which no asset of its asset manifests"),
        ("key-not-its-hash", "hashes to"),
        ("source-outside", "is outside the assembly"),
        ("source-absolute", "is outside the assembly"),
        ("source-missing", "is missing from the assembly"),
        ("manifest-missing", "is missing from the assembly"),
        ("url-not-s3", "is not an S3 object"),
        ("published-by-command", "produced by a command at publish time"),
    ],
)
def test_a_template_url_the_assembly_cannot_account_for_is_not_evaluated(
    tmp_path: Path, case: str, fragment: str
) -> None:
    root = _assembly(tmp_path / "a")
    assets_path = root / "S.assets.json"
    assets = json.loads(assets_path.read_text(encoding="utf-8"))
    (entry,) = assets["files"].values()
    if case == "no-entry":
        assets["files"] = {}
    elif case == "key-not-its-hash":
        (root / "S.template.json").write_text(
            json.dumps({"Resources": {"Other": {"Type": "AWS::SQS::Queue"}}}), encoding="utf-8"
        )
    elif case == "source-outside":
        entry["source"]["path"] = "../elsewhere.json"
        _write(tmp_path / "elsewhere.json", TEMPLATE)
    elif case == "source-absolute":
        entry["source"]["path"] = str(root / "S.template.json")
    elif case == "source-missing":
        entry["source"]["path"] = "gone.json"
    elif case == "published-by-command":
        entry["source"] = {"executable": ["sh", "-c", "cat S.template.json"]}
    _write(assets_path, assets)
    if case == "manifest-missing":
        assets_path.unlink()
    if case == "url-not-s3":
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        manifest["artifacts"]["S"]["properties"]["stackTemplateAssetObjectUrl"] = "file:///tmp/t.json"
        _write(root / "manifest.json", manifest)
    gating = _gating(root)
    assert gating and all(rule in (RULE_DEPLOYED, RULE_ASSET) for rule, _ in gating), gating
    assert any(fragment in message for _, message in gating), gating


def _nested_parent(url: Any, asset_path: str | None = "N.nested.json") -> dict[str, Any]:
    metadata = {"aws:asset:path": asset_path} if asset_path else {}
    return {"Resources": {"Inner": {"Type": "AWS::CloudFormation::Stack", "Metadata": metadata,
                                    "Properties": {"TemplateURL": url}}}}  # fmt: skip


def test_a_nested_stack_deploys_the_asset_its_template_url_names(tmp_path: Path) -> None:
    root = tmp_path / "a"
    clean = _write(root / "N.nested.json", {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    other = _write(root / "Other.nested.json", {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    files = {_sha(p): file_entry(p.name, _sha(p), p.name) for p in (clean, other)}
    _assembly(root, _nested_parent(template_url(_sha(clean))), files=files)
    nested = load_assembly(root).stacks[1]
    assert nested.path == clean and not _gating(root)
    _assembly(root, _nested_parent(template_url(_sha(other))), files=files)
    nested = load_assembly(root).stacks[1]
    assert nested.path == other and "Queue" in nested.resources
    ((rule, message),) = _gating(root)
    assert rule == RULE_DEPLOYED and "Other.nested.json" in message and "N.nested.json" in message


def test_a_nested_template_url_the_assembly_does_not_publish_is_not_evaluated(tmp_path: Path) -> None:
    root = tmp_path / "a"
    _write(root / "N.nested.json", TEMPLATE)
    _assembly(root, _nested_parent("https://s3.amazonaws.com/other-bucket/n.json"))
    assert load_assembly(root).stacks[1].path == root / "N.nested.json"  # still judged, for what it says
    ((rule, message),) = _gating(root)
    assert rule == RULE_DEPLOYED and "names no asset of the assembly" in message
    _assembly(root, _nested_parent("https://s3.amazonaws.com/other-bucket/n.json", asset_path=None))
    assert load_assembly(root).stacks[0].external_nested == (
        "Inner",
    )  # harness.verdict.content: gate:external-template


def test_a_nested_template_url_naming_an_unusable_asset_says_why(tmp_path: Path) -> None:
    root = tmp_path / "a"
    digest = "d" * 64
    gone = file_entry("gone.nested.json", digest, "gone")
    _assembly(root, _nested_parent(template_url(digest), asset_path=None), files={digest: gone})
    assert load_assembly(root).stacks[0].external_nested == ("Inner",)
    messages = [message for rule, message in _gating(root) if rule == RULE_DEPLOYED]
    assert any("gone.nested.json" in m and "is missing from the assembly" in m for m in messages), messages


def test_every_asset_a_template_references_is_published_from_the_assembly(tmp_path: Path) -> None:
    root = tmp_path / "a"
    _write(root / "asset.code" / "index.js", "x")
    digest = digest_directory(root / "asset.code").cdk_fingerprint
    (root / "asset.code").rename(root / f"asset.{digest}")
    function: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Code": {"S3Bucket": {"Fn::Sub": BUCKET}, "S3Key": f"{digest}.zip"}},
    }
    _assembly(root, {"Resources": {"Fn": function}}, files={digest: zip_entry(digest, "code")})
    assert not [g for g in _gating(root) if g[0] == RULE_ASSET]
    function["Properties"]["Environment"] = {"Variables": {"EXTRA": f"s3://{BUCKET}/{'c' * 64}.zip"}}
    _assembly(root, {"Resources": {"Fn": function}}, files={digest: zip_entry(digest, "code")})
    ((_, message),) = [g for g in _gating(root) if g[0] == RULE_ASSET]
    assert "Properties.Environment.Variables.EXTRA references content " + "c" * 64 in message


# ---------------------------------------------------------------------------------------- hostile manifests


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a, m: "[1, 2", "unparseable asset manifest"),
        (lambda a, m: [], "not a JSON object"),
        (lambda a, m: {**a, "files": []}, "files must be an object"),
        (lambda a, m: {"files": {"x": {"destinations": {}}}}, "entry 'x' has no source object"),
        (
            lambda a, m: {"files": {"x": {"source": {"path": "p", "packaging": "tar"}, "destinations": {"d": {}}}}},
            "packaging 'tar'",
        ),
        (lambda a, m: {"files": {"x": {"source": {"path": "p"}}}}, "has no destinations object"),
        (
            lambda a, m: {"files": {"x": {"source": {"path": "p"}, "destinations": {"d": {"bucketName": "b"}}}}},
            "without bucketName and objectKey",
        ),
        (
            lambda a, m: {
                "dockerImages": {"x": {"source": {}, "destinations": {"d": {"repositoryName": "r", "imageTag": "t"}}}}
            },
            "has no source.directory",
        ),
    ],
)
def test_an_asset_manifest_of_the_wrong_shape_is_one_line(tmp_path: Path, edit: Any, message: str) -> None:
    root = _assembly(tmp_path / "a")
    assets = json.loads((root / "S.assets.json").read_text(encoding="utf-8"))
    _write(root / "S.assets.json", edit(assets, None))
    with pytest.raises(HarnessError, match=r"S\.assets\.json") as error:
        load_assembly(root)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["artifacts"]["S"].__setitem__("dependencies", "S.assets"), "dependencies must be a list"),
        (
            lambda s: s["artifacts"]["S.assets"]["properties"].__setitem__("file", "../x.json"),
            "points outside the assembly",
        ),
        (lambda s: s["artifacts"]["S.assets"]["properties"].pop("file"), "has no properties.file"),
        (lambda s: s["artifacts"]["S"]["properties"].__setitem__("stackTemplateAssetObjectUrl", 7), "is not a URL"),
    ],
)
def test_a_stack_artifact_of_the_wrong_shape_is_one_line(tmp_path: Path, edit: Any, message: str) -> None:
    root = _assembly(tmp_path / "a")
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    edit(manifest)
    _write(root / "manifest.json", manifest)
    with pytest.raises(HarnessError, match=r"manifest\.json") as error:
        load_assembly(root)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["asset-manifest-garbage", "destination-without-key"])
def test_the_gate_exits_2_with_one_line_on_a_hostile_asset_manifest(
    synthesized: Path, tmp_path: Path, case: str
) -> None:
    from tests.harness.conftest import write_assembly  # noqa: PLC0415

    root = write_assembly(synthesized, tmp_path / "a")
    assets = root / "StagingDatabase.assets.json"
    if case == "asset-manifest-garbage":
        assets.write_text("{not json", encoding="utf-8")
    else:
        data = json.loads(assets.read_text(encoding="utf-8"))
        for entry in data["files"].values():
            for destination in entry["destinations"].values():
                destination.pop("objectKey")
        assets.write_text(json.dumps(data), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "harness", "--assembly", str(root), "--reports", str(tmp_path / "r"), "-q",
         "--checkov", checkov_bin()], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("compliance gate error:")]
    assert len(errors) == 1 and "StagingDatabase.assets.json" in errors[0], run.stderr
