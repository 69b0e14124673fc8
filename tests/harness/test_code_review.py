"""Code is content: what carries code, its content hash, the reviewed list, and waivers bound to the code.

In-process: small templates through harness.reading.code_carriers and harness.verdict.code_review, policies/code.yaml
against the installed aws-cdk-lib's own files, and WaiverBook on subjects with and without code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from harness.catalog import POLICIES_DIR, Tool, Waiver
from harness.catalog.code import ReviewedCode, load_reviewed_code
from harness.catalog.loading import load_waivers
from harness.model import Status, Subject
from harness.reading.assets import AssetBook, Environment
from harness.reading.code_carriers import CARRIERS, CodePiece, inline_hash, served_by, template_code
from harness.reading.digests import DigestCache, digest_directory
from harness.tools.waivers import WaiverBook
from harness.verdict.code_hashes import cdk_files, cdk_handler_entries, cdk_version
from harness.verdict.code_review import RULE_CODE, code_findings
from policies.lib import cfn_resolver as cfn
from tests.harness.conftest import ROOT

ENVIRONMENT = Environment(region="us-east-1")
CODE = "exports.handler = async () => ({});"


def _code(resources: dict[str, Any], book: AssetBook | None = None) -> dict[str, tuple[CodePiece, ...]]:
    body = {"Resources": resources}
    resolver = cfn.Resolver(body, environment=ENVIRONMENT.resolver_environment)
    return template_code(
        resources,
        resolver=resolver,
        book=book or AssetBook(root=Path("/nowhere"), environment=ENVIRONMENT, digests=DigestCache()),
    )


def _function(code: Any) -> dict[str, Any]:
    return {"Type": "AWS::Lambda::Function", "Properties": {"Code": code, "Handler": "index.handler"}}


# ---------------------------------------------------------------------------------------- what carries code


def test_inline_code_is_hashed_as_written() -> None:
    ((piece,),) = _code({"Fn": _function({"ZipFile": CODE})}).values()
    assert (piece.path, piece.kind, piece.location) == ("Properties.Code.ZipFile", "inline", "inline")
    assert piece.sha256 == hashlib.sha256(CODE.encode()).hexdigest() == inline_hash(CODE)
    user_data = {"Fn::Base64": {"Fn::Sub": "#!/bin/sh\necho ${AWS::Region}\n"}}
    instance = {"Type": "AWS::EC2::Instance", "Properties": {"UserData": user_data}}
    ((piece,),) = _code({"I": instance}).values()
    canonical = json.dumps(user_data, sort_keys=True, separators=(",", ":")).encode()
    assert piece.sha256 == hashlib.sha256(canonical).hexdigest()


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionString": "{}"}}, "Properties.DefinitionString"),
        ({"Type": "AWS::SSM::Document", "Properties": {"Content": {"mainSteps": []}}}, "Properties.Content"),
        ({"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"UserData": "eA=="}}},
         "Properties.LaunchTemplateData.UserData"),
        ({"Type": "AWS::SNS::Topic", "Metadata": {"AWS::CloudFormation::Init": {"config": {}}}}, "Metadata.AWS::CloudFormation::Init"),
        ({"Type": "AWS::ECS::TaskDefinition", "Properties": {"ContainerDefinitions": [{"Image": f"r@sha256:{'a' * 64}"},
          {"Command": ["sh", "-c", "x"]}]}}, "Properties.ContainerDefinitions[1].Command"),
        ({"Type": "AWS::CloudFront::Function", "Properties": {"FunctionCode": "function handler(e) {}"}}, "Properties.FunctionCode"),
    ],
)  # fmt: skip
def test_each_kind_of_code_is_found_where_it_lives(resource: dict[str, Any], path: str) -> None:
    ((_, pieces),) = _code({"R": resource}).items()
    assert path in [p.path for p in pieces]


def test_code_the_gate_cannot_read_has_no_hash() -> None:
    cases = {
        "Foreign": _function({"S3Bucket": "attacker", "S3Key": "code.zip"}),
        "Versioned": _function({"S3Bucket": "b", "S3Key": "k.zip", "S3ObjectVersion": "3"}),
        "Tagged": _function({"ImageUri": "public.ecr.aws/x/y:latest"}),
        "Undecided": _function({"Fn::If": ["Maybe", {"ZipFile": CODE}, {"ZipFile": ""}]}),
        "Parameter": _function({"S3Bucket": {"Ref": "Bucket"}, "S3Key": "k.zip"}),
    }
    code = _code(cases)
    for logical_id in cases:
        (piece,) = code[logical_id]
        assert not piece.readable and piece.problem, (logical_id, piece)
    assert "chosen at deploy time" in code["Undecided"][0].problem


def test_a_decided_condition_and_a_digest_pinned_image_are_read() -> None:
    body = {"Conditions": {"Yes": {"Fn::Equals": ["a", "a"]}},
            "Resources": {"Decided": _function({"Fn::If": ["Yes", {"ZipFile": CODE}, {"ZipFile": ""}]})}}  # fmt: skip
    resolver = cfn.Resolver(body, environment=ENVIRONMENT.resolver_environment)
    book = AssetBook(root=Path("/nowhere"), environment=ENVIRONMENT, digests=DigestCache())
    (decided,) = template_code(body["Resources"], resolver=resolver, book=book)["Decided"]
    assert decided.readable and decided.sha256 == inline_hash(CODE)
    (pinned,) = _code({"Pinned": _function({"ImageUri": f"r.example/x@sha256:{'b' * 64}"})})["Pinned"]
    assert (pinned.kind, pinned.sha256) == ("image-digest", "b" * 64)


def test_no_value_removes_code_and_a_custom_resource_is_served_by_its_function() -> None:
    assert _code({"Fn": _function({"ZipFile": {"Ref": "AWS::NoValue"}})}) == {}
    resources = {"Fn": _function({"ZipFile": CODE}),
                 "Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": {"Fn::GetAtt": ["Fn", "Arn"]}}}}  # fmt: skip
    assert served_by(resources, resolver=cfn.Resolver({"Resources": resources})) == {"Custom": "Fn"}


def test_a_functions_layer_is_its_code_too_and_a_foreign_layer_cannot_be_read() -> None:
    layer = {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": {"S3Bucket": "x", "S3Key": "y.zip"}}}
    function = _function({"ZipFile": CODE})
    function["Properties"]["Layers"] = [{"Ref": "Layer"}, "arn:aws:lambda:us-east-1:123456789012:layer:sdk:3"]
    code = _code({"Fn": function, "Layer": layer})
    borrowed = [p for p in code["Fn"] if p.via]
    assert [(p.via, p.location) for p in borrowed] == [("Layer", "s3://x/y.zip")]
    (foreign,) = [p for p in code["Fn"] if p.path == "Properties.Layers[1]"]
    assert not foreign.readable and "not a AWS::Lambda::LayerVersion of this template" in foreign.problem


def test_the_carrier_table_names_real_types_and_one_form_each() -> None:
    schemas = json.loads((ROOT / "policies" / "lib" / "cfn_types.json").read_text(encoding="utf-8"))
    known = set(schemas.get("types", schemas))
    for carrier in CARRIERS:
        assert carrier.resource_type == "*" or carrier.resource_type in known, carrier
        assert carrier.path[0] in ("Properties", "Metadata"), carrier


# ---------------------------------------------------------------------------------------- the reviewed list


def _piece(kind: str = "inline", sha256: str = "a" * 64, problem: str = "") -> CodePiece:
    return CodePiece(
        path="Properties.Code.ZipFile", what="code", kind=kind, sha256=sha256, location="inline", problem=problem
    )


def _reviewed(sha256: str = "a" * 64, kind: str = "inline") -> ReviewedCode:
    return ReviewedCode(
        sha256=sha256, kind=kind, what="w", source="s", reason="r", reviewer="me", date=dt.date(2026, 12, 7)
    )


def _judged(piece: CodePiece, reviewed: list[ReviewedCode]) -> tuple[Status, str]:
    stack = SimpleNamespace(  # what code_findings reads of a StackTemplate
        assembly="a", stack_id="S", relpath="S.template.json", code={"Fn": (piece,)},
        construct_path=lambda _: "", resource_type=lambda _: "AWS::Lambda::Function",
    )  # fmt: skip
    (finding,) = code_findings([SimpleNamespace(stacks=(stack,))], reviewed=reviewed)  # type: ignore[list-item]
    assert finding.rule_id == RULE_CODE
    return finding.status, finding.message


def test_only_reviewed_code_of_the_same_kind_passes() -> None:
    assert _judged(_piece(), [_reviewed()])[0] is Status.PASSED
    status, message = _judged(_piece(), [])
    assert status is Status.NOT_EVALUATED and "a" * 64 in message and "policies/code.yaml" in message
    assert _judged(_piece(kind="file"), [_reviewed()])[0] is Status.NOT_EVALUATED
    status, message = _judged(_piece(problem="not in the assembly"), [_reviewed()])
    assert status is Status.NOT_EVALUATED and "not in the assembly" in message


def test_the_reviewed_list_loads_and_every_cdk_entry_is_a_file_of_the_pinned_aws_cdk_lib() -> None:
    reviewed = load_reviewed_code(POLICIES_DIR)
    cdk = [entry for entry in reviewed if entry.origin]
    assert cdk, "policies/code.yaml reviews at least the handler the stack uses"
    package = cdk_files()
    for entry in cdk:
        assert entry.origin == f"aws-cdk-lib@{cdk_version()}", (
            f"{entry.what}: reviewed for {entry.origin}: review it again"
        )
        for file in entry.files:
            assert file.package_path in package, (entry.what, file.package_path)
            assert hashlib.sha256(package[file.package_path]).hexdigest() == file.sha256, (entry.what, file.path)


def test_the_listed_handlers_include_the_stacks_own_code(default_assembly: Path) -> None:
    """cdk-handlers stages a handler exactly as CDK did in the synthesized stack: its hash is among them."""
    (asset,) = (p for p in default_assembly.glob("asset.*") if p.is_dir())
    listed = {entry["sha256"] for entry in cdk_handler_entries()}
    assert digest_directory(asset).sha256 in listed
    reviewed = {entry.sha256 for entry in load_reviewed_code(POLICIES_DIR)}
    assert digest_directory(asset).sha256 in reviewed


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.update(sha256="ABC"), "64 lower-case hex"),
        (lambda e: e.update(kind="script"), "field 'kind' has invalid value 'script'"),
        (lambda e: e.update(colour="red"), "unknown field 'colour'"),
        (lambda e: e.pop("reviewer"), "field 'reviewer' is required"),
        (lambda e: e.update(date="yesterday"), "ISO date"),
        (lambda e: e["files"][0].update(sha256="c" * 64), "do not add up"),
        (lambda e: e["files"][0].pop("from"), "needs 'from'"),
        (lambda e: e.update(origin="aws-cdk-lib"), "field 'origin' has invalid value"),
    ],
)
def test_a_bad_reviewed_entry_is_one_line(tmp_path: Path, edit: Any, message: str) -> None:
    data = yaml.safe_load((POLICIES_DIR / "code.yaml").read_text(encoding="utf-8"))
    edit(data["reviewed"][0])
    (tmp_path / "code.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match=r"code\.yaml") as error:
        load_reviewed_code(tmp_path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_same_code_listed_twice_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load((POLICIES_DIR / "code.yaml").read_text(encoding="utf-8"))
    data["reviewed"].append(data["reviewed"][0])
    (tmp_path / "code.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ValueError, match="listed twice"):
        load_reviewed_code(tmp_path)


# ---------------------------------------------------------------------------------------- waivers bind to code


def _waiver(code: tuple[str, ...] = ()) -> Waiver:
    return Waiver(id="W", tool=Tool.CHECKOV, rule="CKV_AWS_115", targets=("Fn",), reason="r", owner="o",
                  expires=dt.date(2099, 1, 1), resource_type="AWS::Lambda::Function", code_sha256=code)  # fmt: skip


def _subject(code: tuple[str, ...]) -> Subject:
    return Subject(stack="S", logical_id="Fn", resource_type="AWS::Lambda::Function", code_sha256=code)


@pytest.mark.parametrize(
    ("waiver_code", "subject_code", "covered"),
    [
        (("a" * 64,), ("a" * 64,), True),  # the code the waiver names
        (("a" * 64,), ("b" * 64,), False),  # the code was replaced: the waiver goes stale
        ((), ("a" * 64,), False),  # a waiver that names no code does not cover code
        (("a" * 64,), (), False),  # nor does a code waiver cover a resource without it
        (("a" * 64,), ("",), False),  # code the gate cannot read cannot be waived
        ((), (), True),
    ],
)
def test_a_waiver_on_code_binds_to_its_hash(
    waiver_code: tuple[str, ...], subject_code: tuple[str, ...], covered: bool
) -> None:
    book = WaiverBook(waivers=[_waiver(waiver_code)], today=dt.date(2026, 12, 7))
    judgement = book.apply(tools=[Tool.CHECKOV], rule="CKV_AWS_115", subject=_subject(subject_code),
                           status=Status.FAILED, message="m")  # fmt: skip
    assert (judgement.status is Status.WAIVED) is covered
    assert (book.report()[0].matched == 1) is covered  # unmatched: reported stale


def test_the_waivers_on_the_handler_name_its_reviewed_code() -> None:
    reviewed = {entry.sha256 for entry in load_reviewed_code(POLICIES_DIR)}
    bound = [w for w in load_waivers(POLICIES_DIR) if w.resource_type == "AWS::Lambda::Function"]
    assert bound and all(w.code_sha256 and set(w.code_sha256) <= reviewed for w in bound)


def test_a_bad_code_hash_in_a_waiver_is_one_line(tmp_path: Path) -> None:
    text = (POLICIES_DIR / "waivers.yaml").read_text(encoding="utf-8")
    (tmp_path / "waivers.yaml").write_text(
        text.replace("code_sha256: 49b1", "code_sha256: XX49b1", 1), encoding="utf-8"
    )
    with pytest.raises(ValueError, match="field 'code_sha256' has invalid value") as error:
        load_waivers(tmp_path)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------------------------------- the command


def test_the_hash_command_prints_what_a_reviewer_pastes_and_refuses_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "index.js").write_text(CODE, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "harness.verdict.code_hashes", "hash", str(tmp_path / "code")],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (entry,) = yaml.safe_load(done.stdout)
    assert entry["sha256"] == digest_directory(tmp_path / "code").sha256 and entry["kind"] == "directory"
    missing = subprocess.run([sys.executable, "-m", "harness.verdict.code_hashes", "hash", str(tmp_path / "nope")],
                             capture_output=True, text=True, cwd=ROOT, check=False, timeout=60)  # fmt: skip
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "Traceback" not in missing.stderr
