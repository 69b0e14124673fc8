"""Which properties carry code, and the code each resource of a template carries, as content hashes.

Code that runs at deploy or run time is judged by what it is, not by where it is declared: a
custom resource's handler, a function's inline or packaged code, a layer, an automation
document, a state machine, an instance's user data and cfn-init configuration, a build spec...
:data:`CARRIERS` is the table of (resource type, property path, form) that carry code; the
gate's code review (harness.verdict.code_review) reads it and nothing else, so covering a new kind of
code is one row here.

Forms (how the content is found):

* ``inline``: the value is the code. Its content hash is the SHA-256 of the string's UTF-8 bytes
  when it is a string, else of its canonical JSON (keys sorted, no whitespace, UTF-8), taken
  *as written in the template*: a ``Fn::Sub`` or ``Fn::If`` is reviewed as the expression it is,
  parameters and branches included.
* ``s3-object``: an object naming an S3 bucket and key (and optionally a version): the code is
  the asset of the assembly published there, hashed as a file or directory (harness.reading.digests).
* ``s3-url``: a string ``s3://bucket/key`` (or https URL) of an S3 object, likewise.
* ``image``: a container image reference: an image asset of the assembly (its build context,
  hashed as a directory), or an image pinned by digest (``@sha256:<hex>``: that digest).
* ``reference``: a reference to another resource of the template that carries code (a function's
  ``Layers``): that resource's code is judged on it, and counts as this resource's too (a waiver
  names it); anything else (a layer ARN of another account) is code the gate cannot read.

Code the gate cannot read (another bucket, a literal key no asset publishes, a location chosen at
deploy time, an image by tag) has no content hash: it is NOT EVALUATED, whatever the review list says.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.reading.assets import AssetBook, as_text, image_location, s3_location
from policies.lib import cfn_resolver as cfn

LAMBDA_FUNCTION = "AWS::Lambda::Function"
LAMBDA_LAYER = "AWS::Lambda::LayerVersion"
ANY_TYPE = "*"
EACH = "*"  # a path segment: every item of a list
_DIGEST_PINNED = re.compile(r"@sha256:([0-9a-f]{64})$")


class Form(StrEnum):
    INLINE = "inline"
    S3_OBJECT = "s3-object"
    S3_URL = "s3-url"
    IMAGE = "image"
    REFERENCE = "reference"


@dataclass(frozen=True)
class Carrier:
    resource_type: str  # a CloudFormation type, or "*" for every type
    path: tuple[str, ...]  # from the resource: ("Properties", "Code", "ZipFile"); "*" = each list item
    form: Form
    what: str
    bucket: str = ""  # s3-object: the field names of the bucket, key and version
    key: str = ""
    version: str = ""
    target: str = ""  # reference: the type of the resource referred to


def _s3(resource_type: str, path: tuple[str, ...], what: str, *names: str) -> Carrier:
    bucket, key, version = names
    return Carrier(resource_type, path, Form.S3_OBJECT, what, bucket=bucket, key=key, version=version)


CARRIERS: tuple[Carrier, ...] = (
    Carrier(LAMBDA_FUNCTION, ("Properties", "Code", "ZipFile"), Form.INLINE, "a Lambda function's inline code"),
    _s3(LAMBDA_FUNCTION, ("Properties", "Code"), "a Lambda function's code package", "S3Bucket", "S3Key", "S3ObjectVersion"),
    Carrier(LAMBDA_FUNCTION, ("Properties", "Code", "ImageUri"), Form.IMAGE, "a Lambda function's container image"),
    Carrier(LAMBDA_FUNCTION, ("Properties", "Layers", EACH), Form.REFERENCE, "a Lambda layer the function runs with", target=LAMBDA_LAYER),
    _s3(LAMBDA_LAYER, ("Properties", "Content"), "a Lambda layer", "S3Bucket", "S3Key", "S3ObjectVersion"),
    Carrier("AWS::Synthetics::Canary", ("Properties", "Code", "Script"), Form.INLINE, "a canary's inline script"),
    _s3("AWS::Synthetics::Canary", ("Properties", "Code"), "a canary's code package", "S3Bucket", "S3Key", "S3ObjectVersion"),
    Carrier("AWS::StepFunctions::StateMachine", ("Properties", "Definition"), Form.INLINE, "a state machine definition"),
    Carrier("AWS::StepFunctions::StateMachine", ("Properties", "DefinitionString"), Form.INLINE, "a state machine definition"),
    _s3("AWS::StepFunctions::StateMachine", ("Properties", "DefinitionS3Location"), "a state machine definition", "Bucket", "Key", "Version"),
    Carrier("AWS::SSM::Document", ("Properties", "Content"), Form.INLINE, "an SSM document (automation, command)"),
    Carrier("AWS::SSM::Document", ("Properties", "Attachments"), Form.INLINE, "an SSM document's attachments"),
    Carrier("AWS::SSM::Association", ("Properties", "Parameters"), Form.INLINE, "the parameters (commands) of a document run"),
    Carrier("AWS::EC2::Instance", ("Properties", "UserData"), Form.INLINE, "an instance's user data (run at boot)"),
    Carrier("AWS::EC2::Instance", ("Properties", "SsmAssociations"), Form.INLINE, "documents an instance runs"),
    Carrier("AWS::EC2::LaunchTemplate", ("Properties", "LaunchTemplateData", "UserData"), Form.INLINE, "a launch template's user data"),
    Carrier("AWS::AutoScaling::LaunchConfiguration", ("Properties", "UserData"), Form.INLINE, "a launch configuration's user data"),
    Carrier("AWS::EC2::SpotFleet", ("Properties", "SpotFleetRequestConfigData", "LaunchSpecifications", EACH, "UserData"), Form.INLINE, "a spot fleet's user data"),
    Carrier(ANY_TYPE, ("Metadata", "AWS::CloudFormation::Init"), Form.INLINE, "cfn-init configuration (packages, files, commands)"),
    Carrier("AWS::CloudFront::Function", ("Properties", "FunctionCode"), Form.INLINE, "a CloudFront function"),
    Carrier("AWS::CodeBuild::Project", ("Properties", "Source", "BuildSpec"), Form.INLINE, "a build spec"),
    Carrier("AWS::CodeBuild::Project", ("Properties", "SecondarySources", EACH, "BuildSpec"), Form.INLINE, "a build spec"),
    Carrier("AWS::Glue::Job", ("Properties", "Command", "ScriptLocation"), Form.S3_URL, "a Glue job script"),
    Carrier("AWS::AppSync::Resolver", ("Properties", "Code"), Form.INLINE, "an AppSync resolver's code"),
    Carrier("AWS::AppSync::Resolver", ("Properties", "CodeS3Location"), Form.S3_URL, "an AppSync resolver's code"),
    Carrier("AWS::AppSync::FunctionConfiguration", ("Properties", "Code"), Form.INLINE, "an AppSync function's code"),
    Carrier("AWS::AppSync::FunctionConfiguration", ("Properties", "CodeS3Location"), Form.S3_URL, "an AppSync function's code"),
    Carrier("AWS::ImageBuilder::Component", ("Properties", "Data"), Form.INLINE, "an Image Builder component"),
    Carrier("AWS::ImageBuilder::Component", ("Properties", "Uri"), Form.S3_URL, "an Image Builder component"),
    _s3("AWS::ElasticBeanstalk::ApplicationVersion", ("Properties", "SourceBundle"), "an application bundle", "S3Bucket", "S3Key", ""),
    Carrier("AWS::ECS::TaskDefinition", ("Properties", "ContainerDefinitions", EACH, "Image"), Form.IMAGE, "a container image"),
    Carrier("AWS::ECS::TaskDefinition", ("Properties", "ContainerDefinitions", EACH, "Command"), Form.INLINE, "a container's command"),
    Carrier("AWS::ECS::TaskDefinition", ("Properties", "ContainerDefinitions", EACH, "EntryPoint"), Form.INLINE, "a container's entry point"),
    Carrier("AWS::Batch::JobDefinition", ("Properties", "ContainerProperties", "Image"), Form.IMAGE, "a batch job's image"),
    Carrier("AWS::Batch::JobDefinition", ("Properties", "ContainerProperties", "Command"), Form.INLINE, "a batch job's command"),
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CodePiece:
    """One piece of code a resource carries, and its content hash where the gate can read it."""

    path: str  # where in the resource, e.g. "Properties.Code" or "Metadata.AWS::CloudFormation::Init"
    what: str
    kind: str  # inline | file | directory | image-digest (the review list's kinds); "" when unreadable
    sha256: str  # the content hash ("" when unreadable)
    location: str  # "inline", an asset of the assembly, or the S3 object / image outside it
    problem: str = ""  # why the gate cannot read it, or cannot trust what it read
    via: str = ""  # the resource this code is borrowed from (a layer): judged there, counted here

    @property
    def readable(self) -> bool:
        return bool(self.sha256) and not self.problem


def inline_hash(value: Any) -> str:
    """The content hash of inline code (module docstring)."""
    if isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def template_code(
    resources: Mapping[str, Any], *, resolver: cfn.Resolver, book: AssetBook
) -> dict[str, tuple[CodePiece, ...]]:
    """Logical id -> the code each resource carries (resources without code are absent)."""
    code: dict[str, tuple[CodePiece, ...]] = {}
    for logical_id, resource in sorted(resources.items()):
        kind = str(resource.get("Type", ""))
        pieces: dict[tuple[str, str], CodePiece] = {}
        for carrier in CARRIERS:
            if carrier.resource_type not in (kind, ANY_TYPE):
                continue
            for piece in _pieces(resource, carrier, resolver=resolver, book=book):
                pieces.setdefault((piece.path, piece.sha256 or piece.problem or piece.via), piece)
        if pieces:
            code[logical_id] = tuple(sorted(pieces.values(), key=lambda p: (p.path, p.sha256, p.problem)))
    return {logical_id: _borrowed(pieces, code) for logical_id, pieces in code.items()}


def _borrowed(pieces: tuple[CodePiece, ...], code: Mapping[str, tuple[CodePiece, ...]]) -> tuple[CodePiece, ...]:
    """A reference is replaced by the code of the resource it names (judged there: ``via``)."""
    result: list[CodePiece] = []
    for piece in pieces:
        if not piece.via:
            result.append(piece)
            continue
        for lent in code.get(piece.via, ()):
            result.append(dataclasses.replace(lent, path=f"{piece.path} -> {piece.via}.{lent.path}", via=piece.via))
    return tuple(result)


def served_by(resources: Mapping[str, Any], *, resolver: cfn.Resolver) -> dict[str, str]:
    """Custom resource -> the Lambda function of the template that serves it (its code is the resource's)."""
    serving: dict[str, str] = {}
    for logical_id, resource in resources.items():
        kind = str(resource.get("Type", ""))
        if kind != "AWS::CloudFormation::CustomResource" and not kind.startswith("Custom::"):
            continue
        properties = resource.get("Properties")
        token = resolver.value(properties.get("ServiceToken")) if isinstance(properties, Mapping) else None
        if isinstance(token, cfn.Symbol) and token.kind == "getatt" and token.resource_type == LAMBDA_FUNCTION:
            serving[logical_id] = token.name
    return serving


def _is_intrinsic(value: Any) -> bool:
    return (
        isinstance(value, Mapping)
        and len(value) == 1
        and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def _walk(value: Any, path: tuple[str, ...], shown: str, resolver: cfn.Resolver) -> Iterator[tuple[str, Any]]:
    """(display path, value) at ``path``; an intrinsic on the way is resolved, and is the value where it cannot be."""
    if not path:
        yield shown, value
        return
    if _is_intrinsic(value):
        resolved = resolver.value(value)
        if isinstance(resolved, cfn.Unknown):
            yield shown, resolved  # the code may be behind it: what it is, is chosen at deploy time
            return
        value = resolved
    head, rest = path[0], path[1:]
    if head == EACH:
        for index, item in enumerate(value if isinstance(value, list) else []):
            yield from _walk(item, rest, f"{shown}[{index}]", resolver)
    elif isinstance(value, Mapping) and head in value:
        item = value[head]
        if not (_is_intrinsic(item) and next(iter(item.values())) == "AWS::NoValue"):
            yield from _walk(item, rest, f"{shown}.{head}" if shown else head, resolver)


def _pieces(
    resource: Mapping[str, Any], carrier: Carrier, *, resolver: cfn.Resolver, book: AssetBook
) -> Iterator[CodePiece]:
    for shown, value in _walk(resource, carrier.path, "", resolver):
        if isinstance(value, cfn.Unknown):
            yield _unreadable(shown, carrier, "deploy time", f"what runs is chosen at deploy time ({value.reason})")
        elif carrier.form is Form.INLINE:
            yield CodePiece(
                path=shown, what=carrier.what, kind="inline", sha256=inline_hash(cfn.encode(value)), location="inline"
            )
        elif carrier.form is Form.S3_OBJECT:
            piece = _s3_object(shown, resolver.value(value), carrier, book=book)
            if piece is not None:
                yield piece
        elif carrier.form is Form.S3_URL:
            yield _s3_url(shown, resolver.value(value), carrier, book=book)
        elif carrier.form is Form.REFERENCE:
            yield _reference(shown, resolver.value(value), carrier)
        else:
            yield _image(shown, resolver.value(value), carrier, book=book)


def _reference(shown: str, value: Any, carrier: Carrier) -> CodePiece:
    if isinstance(value, cfn.Symbol) and value.kind in ("ref", "getatt") and value.resource_type == carrier.target:
        return CodePiece(path=shown, what=carrier.what, kind="", sha256="", location=value.name, via=value.name)
    shown_value = value.reason if isinstance(value, cfn.Unknown) else str(value)
    return _unreadable(
        shown, carrier, shown_value, f"not a {carrier.target} of this template: code the gate cannot read"
    )


def _unreadable(shown: str, carrier: Carrier, location: str, problem: str) -> CodePiece:
    return CodePiece(path=shown, what=carrier.what, kind="", sha256="", location=location, problem=problem)


def _s3_object(shown: str, value: Any, carrier: Carrier, *, book: AssetBook) -> CodePiece | None:
    if not isinstance(value, Mapping) or not (carrier.bucket in value or carrier.key in value):
        return None  # the code is given another way (inline, image): another row of the table
    if carrier.version and carrier.version in value:
        return _unreadable(
            shown,
            carrier,
            "a pinned S3 object version",
            f"{carrier.version} pins an object version the assembly does not publish",
        )
    bucket, key = as_text(value.get(carrier.bucket)), as_text(value.get(carrier.key))
    if not bucket.value or not key.value:
        reason = bucket.reason or key.reason or "no bucket or key"
        return _unreadable(
            shown, carrier, "an S3 object", f"its bucket or key is not known from the template ({reason})"
        )
    return _asset_piece(shown, f"s3://{bucket.value}/{key.value}", carrier, book=book)


def _s3_url(shown: str, value: Any, carrier: Carrier, *, book: AssetBook) -> CodePiece:
    text = as_text(value)
    location = s3_location(text.value) if text.value else ""
    if not location:
        return _unreadable(
            shown, carrier, text.value or "unknown", f"not an S3 object of the assembly ({text.reason or text.value})"
        )
    return _asset_piece(shown, location, carrier, book=book)


def _image(shown: str, value: Any, carrier: Carrier, *, book: AssetBook) -> CodePiece:
    text = as_text(value)
    if not text.value:
        return _unreadable(shown, carrier, "an image", f"the image is not known from the template ({text.reason})")
    location = image_location(text.value, book.environment)
    if location and book.at(location):
        return _asset_piece(shown, location, carrier, book=book)
    pinned = _DIGEST_PINNED.search(text.value)
    if pinned:
        return CodePiece(
            path=shown, what=carrier.what, kind="image-digest", sha256=pinned.group(1), location=text.value
        )
    return _unreadable(
        shown,
        carrier,
        text.value,
        "an image outside the assembly, not pinned by digest (@sha256:...): what it runs can change",
    )


def _asset_piece(shown: str, location: str, carrier: Carrier, *, book: AssetBook) -> CodePiece:
    assets = book.at(location)
    if not assets:
        return _unreadable(
            shown,
            carrier,
            location,
            f"the code is at {location}, which no asset of the assembly publishes: the gate cannot read it",
        )
    if len({a.source for a in assets}) > 1:
        return _unreadable(shown, carrier, location, f"several assets with different sources publish {location}")
    asset = assets[0]
    problem = book.problem(asset, location)
    if asset.source is None:
        return _unreadable(shown, carrier, location, problem)
    where = f"{book.shown(asset.source)} ({asset.label})"
    if asset.source.is_dir():
        digest = book.digests.directory(asset.source)
        problem = "; ".join([*([problem] if problem else []), *digest.problems])
        return CodePiece(
            path=shown, what=carrier.what, kind="directory", sha256=digest.sha256, location=where, problem=problem
        )
    return CodePiece(
        path=shown,
        what=carrier.what,
        kind="file",
        sha256=book.digests.sha256(asset.source),
        location=where,
        problem=problem,
    )
