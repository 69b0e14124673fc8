"""Hostile or broken inputs are refused with one line naming the file and the problem, never a hang or traceback."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.reading.assembly import load_assembly
from harness.reading.inputs import MAX_JSON_DEPTH, read_json, read_text

STACK = {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/us-east-1",
         "properties": {"templateFile": "S.template.json"}}  # fmt: skip
TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}


def _write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _assembly(root: Path, *, manifest: Any = None, template: Any = TEMPLATE) -> Path:
    _write(root / "manifest.json", manifest if manifest is not None else {"artifacts": {"S": STACK}})
    if template is not None:
        _write(root / "S.template.json", template)
    return root


def _refused_within(seconds: float, path: Path, match: str) -> None:
    """read_text must refuse ``path`` quickly (a FIFO would block a plain open() forever)."""
    outcome: dict[str, BaseException] = {}

    def read() -> None:
        try:
            read_text(path, what="template")
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"reading {path} blocked"
    assert isinstance(outcome.get("error"), HarnessError), outcome
    assert match in str(outcome["error"])


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "S.template.json"
    os.mkfifo(fifo)
    _refused_within(5, fifo, "it is a FIFO, not a regular file")


def test_a_device_and_a_directory_are_refused(tmp_path: Path) -> None:
    _refused_within(5, Path("/dev/zero"), "a character device")
    (tmp_path / "dir.json").mkdir()
    _refused_within(5, tmp_path / "dir.json", "not a regular file")


def test_undecodable_and_deeply_nested_json_are_one_line_errors(tmp_path: Path) -> None:
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"Description": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(HarnessError, match=r"is not UTF-8 text: byte \d+"):
        read_json(latin, what="template")
    deep = _write(tmp_path / "deep.json", "[" * (MAX_JSON_DEPTH + 5) + "]" * (MAX_JSON_DEPTH + 5))
    with pytest.raises(HarnessError, match="levels deep"):
        read_json(deep, what="template")
    deeper = _write(tmp_path / "deeper.json", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(HarnessError, match="nested too deeply"):
        read_json(deeper, what="template")
    broken = _write(tmp_path / "broken.json", '{"Resources": ')
    with pytest.raises(HarnessError, match=r"unparseable template .*broken.json: .* at line 1"):
        read_json(broken, what="template")


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ({"artifacts": []}, "no artifacts object"),
        ({"artifacts": {"S": "stack"}}, "artifact 'S' has no type"),
        ({"artifacts": {"S": {**STACK, "properties": []}}}, "properties is not an object"),
        ({"artifacts": {"S": {**STACK, "properties": {}}}}, "has no templateFile"),
        (
            {"artifacts": {"S": {**STACK, "properties": {"templateFile": "../../etc/passwd"}}}},
            "points outside the assembly",
        ),
        ({"artifacts": {"S": {**STACK, "properties": {"templateFile": "/etc/passwd"}}}}, "must be a path relative"),
        ({"artifacts": {"N": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "."}}}}, "includes itself"),
    ],
)
def test_a_manifest_of_the_wrong_shape_names_the_problem(tmp_path: Path, manifest: Any, message: str) -> None:
    with pytest.raises(HarnessError, match=message):
        load_assembly(_assembly(tmp_path, manifest=manifest))


def test_a_template_without_types_or_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="resource 'Topic' has no Type"):
        load_assembly(_assembly(tmp_path / "a", template={"Resources": {"Topic": {"Properties": {}}}}))
    with pytest.raises(HarnessError, match="not a CloudFormation template object"):
        load_assembly(_assembly(tmp_path / "b", template=[1, 2]))


def test_a_symlink_out_of_the_assembly_is_refused(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside.template.json", TEMPLATE)
    root = _assembly(tmp_path / "asm", template=None)
    (root / "S.template.json").symlink_to(outside)
    with pytest.raises(HarnessError, match="points outside the assembly"):
        load_assembly(root)


def test_nested_stacks_in_the_assembly_are_loaded_and_bound_external_ones_are_recorded(tmp_path: Path) -> None:
    parent = {"Resources": {
        "Key": {"Type": "AWS::KMS::Key"},
        "Inner": {"Type": "AWS::CloudFormation::Stack", "Metadata": {"aws:asset:path": "Inner.nested.template.json"},
                  "Properties": {"TemplateURL": "https://bucket/x", "Parameters": {"KeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}}},
        "Far": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://example.com/t.json"}},
    }}  # fmt: skip
    root = _assembly(tmp_path, template=parent)
    _write(root / "Inner.nested.template.json", {"Parameters": {"KeyArn": {"Type": "String"}},
                                                 "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}})  # fmt: skip
    assembly = load_assembly(root)
    top, inner = assembly.stacks
    assert (top.stack_id, inner.stack_id, inner.parent) == ("S", "S/Inner", "S")
    assert top.external_nested == ("Far",)
    assert inner.parent_parameters == {"KeyArn": {"Fn::GetAtt": ["Key", "Arn"]}}
    assert assembly.resource_count == 4


def test_nested_stacks_nested_beyond_the_limit_are_refused(tmp_path: Path) -> None:
    loop = {"Resources": {"Self": {"Type": "AWS::CloudFormation::Stack",
                                   "Metadata": {"aws:asset:path": "S.template.json"}}}}  # fmt: skip
    with pytest.raises(HarnessError, match="nested more than"):
        load_assembly(_assembly(tmp_path, template=loop))


def test_a_pinned_account_is_read_from_the_environment(tmp_path: Path) -> None:
    stack = {**STACK, "environment": "aws://123456789012/eu-west-1"}
    (loaded,) = load_assembly(_assembly(tmp_path, manifest={"artifacts": {"S": stack}})).stacks
    assert (loaded.account, loaded.region) == ("123456789012", "eu-west-1")
