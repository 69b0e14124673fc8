"""Judge the bytes that deploy: which template file each stack really deploys, and every asset it references.

``cdk deploy`` does not read a stack artifact's ``templateFile``: it publishes the asset that the
artifact's ``stackTemplateAssetObjectUrl`` names (an entry of the stack's asset manifest whose
destination is that object) and points CloudFormation at it. A nested stack deploys the object its
``TemplateURL`` names, whatever the parent's ``aws:asset:path`` metadata says. So for every stack
and nested stack the gate resolves that URL to an asset of the assembly and:

* **judges the deployed file.** When the deployed file and the declared one (``templateFile``,
  ``aws:asset:path``) differ in content, every other stage (checkov, cfn-lint, cdk-nag, the
  project policies) judges the deployed file, because that is what CloudFormation will run; the
  declared file is only what ``cdk synth`` printed. The difference itself is NOT EVALUATED
  (``gate:deployed-template``), naming both files and both SHA-256s, so the run fails even when
  the deployed file happens to be compliant: an assembly that says one thing and deploys another
  was edited after synthesis.
* a URL the assembly cannot account for (no asset has that destination, two assets with different
  sources do, the source is missing, outside the assembly, produced by a command, or its content
  does not hash to the name in its object key) is NOT EVALUATED too; the declared file is judged
  so the other stages still say what they can.
* a stack artifact without ``stackTemplateAssetObjectUrl`` (the legacy synthesizer: the CLI
  uploads ``templateFile`` itself) deploys ``templateFile``: nothing to match.

Every asset a template references (a ``<hash>.zip``/``.json`` S3 key or URL, an image tag
``:<hash>``) must be an entry of the stack's asset manifests whose source is inside the assembly
and hashes to that name (``gate:asset``). Code in S3 locations the assembly does not hold is
judged by ``gate:code-review`` (harness.verdict.code_review). Shapes that make the assembly unreadable
(a manifest that is not the schema's) are harness failures in harness.reading.assets. The findings
themselves are built over the loaded assembly by harness.verdict.deployed_findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.reading.assets import AssetBook, s3_location, template_text
from policies.lib import cfn_resolver as cfn

RULE_DEPLOYED = "gate:deployed-template"
RULE_ASSET = "gate:asset"


@dataclass(frozen=True, kw_only=True)
class DeployNote:
    """One judgement about what deploys; ``passed`` notes are the evidence that the check ran."""

    rule: str
    message: str
    logical_id: str = ""
    passed: bool = False


@dataclass(frozen=True, kw_only=True)
class Choice:
    path: Path | None  # the template file to judge (None: the stack deploys a template outside the assembly)
    notes: tuple[DeployNote, ...] = ()


def root_template(*, template_file: Path, url: str | None, book: AssetBook) -> Choice:
    """The template a stack artifact deploys, judged against its ``templateFile``."""
    shown = book.shown(template_file)
    if url is None:
        return Choice(
            path=template_file,
            notes=(_passed(f"no stackTemplateAssetObjectUrl: the CLI deploys templateFile {shown} itself"),),
        )
    location = s3_location(book.environment.fill(url))
    if not location:
        message = f"stackTemplateAssetObjectUrl {url!r} is not an S3 object the assembly publishes; judged templateFile {shown}"
        return Choice(path=template_file, notes=(DeployNote(rule=RULE_DEPLOYED, message=message),))
    choice = _deployed_file(location, declared=template_file, declared_as="templateFile", book=book, what="the stack")
    return Choice(path=choice.path or template_file, notes=choice.notes)


def nested_template(
    *, logical_id: str, resource: Mapping[str, Any], resolver: cfn.Resolver, book: AssetBook, declared: Path | None
) -> Choice:
    """The template a nested stack deploys (its ``TemplateURL``), judged against ``aws:asset:path`` (``declared``)."""
    properties = resource.get("Properties")
    url = template_text(properties.get("TemplateURL") if isinstance(properties, Mapping) else None, resolver)
    location = s3_location(url.value) if url.value else ""
    what = f"nested stack {logical_id}"
    if not location or not book.at(location):
        if declared is None:
            return Choice(path=None)  # a template outside the assembly: harness.verdict.content reports it
        said = f"{url.value!r}" if url.value else f"({url.reason})"
        message = (
            f"{what}: TemplateURL {said} names no asset of the assembly, so what deploys is unknown; "
            f"judged aws:asset:path {book.shown(declared)}"
        )
        return Choice(path=declared, notes=(DeployNote(rule=RULE_DEPLOYED, message=message, logical_id=logical_id),))
    choice = _deployed_file(location, declared=declared, declared_as="aws:asset:path", book=book, what=what)
    notes = tuple(
        DeployNote(rule=n.rule, message=n.message, logical_id=logical_id, passed=n.passed) for n in choice.notes
    )
    return Choice(path=choice.path or declared, notes=notes)


def _passed(message: str, logical_id: str = "") -> DeployNote:
    return DeployNote(rule=RULE_DEPLOYED, message=message, logical_id=logical_id, passed=True)


def _deployed_file(location: str, *, declared: Path | None, declared_as: str, book: AssetBook, what: str) -> Choice:
    candidates = book.at(location)
    if not candidates:
        manifests = ", ".join(book.shown(m) for m in book.manifests) or "no asset manifest"
        missing = "; " + "; ".join(book.problems) if book.problems else ""
        message = f"{what} deploys {location}, which no asset of its asset manifests ({manifests}) publishes{missing}"
        return Choice(path=None, notes=(DeployNote(rule=RULE_DEPLOYED, message=message),))
    if len({(a.source, a.problem) for a in candidates}) > 1:
        entries = ", ".join(f"{a.label} ({a.source_text})" for a in candidates)
        message = f"{what} deploys {location}, the destination of several assets with different sources: {entries}"
        return Choice(path=None, notes=(DeployNote(rule=RULE_DEPLOYED, message=message),))
    asset = candidates[0]
    if asset.source is not None and asset.packaging == "file":
        book.digests.read(asset.source, what="template")  # read once: hashed here, parsed when it is judged
    problem = book.problem(asset, location)
    if asset.source is None:
        return Choice(
            path=None, notes=(DeployNote(rule=RULE_DEPLOYED, message=f"{what} deploys {location}: {problem}"),)
        )
    if asset.kind != "file" or asset.packaging != "file":
        message = f"{what} deploys {location}, published from {asset.label}, which is not a single file"
        return Choice(path=None, notes=(DeployNote(rule=RULE_DEPLOYED, message=message),))
    notes = [DeployNote(rule=RULE_DEPLOYED, message=f"{what}: {problem}")] if problem else []
    deployed = asset.source
    deployed_sha = book.digests.sha256(deployed)
    if declared is not None and declared.resolve() != deployed.resolve():
        declared_sha = book.digests.sha256(declared)
        if declared_sha != deployed_sha:
            notes.append(
                DeployNote(
                    rule=RULE_DEPLOYED,
                    message=f"{what} deploys {book.shown(deployed)} (sha256 {deployed_sha}, {asset.label}), but its "
                    f"{declared_as} is {book.shown(declared)} (sha256 {declared_sha}): the gate judges the deployed file",
                )
            )
    if not notes:
        notes.append(
            _passed(f"{what} deploys {book.shown(deployed)} (sha256 {deployed_sha}) from {asset.label}, as declared")
        )
    return Choice(path=deployed, notes=tuple(notes))
