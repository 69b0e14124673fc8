"""Reading a cloud assembly (``cdk.out``): its stack templates, nested stacks and construct paths.

The gate never trusts that an assembly is well-formed: a missing or malformed manifest, a
template that is not a JSON object, a path that leaves the assembly, runaway nesting, or an
assembly without resources is a :class:`HarnessError` (exit 2), because every later check
would otherwise pass vacuously. Nested stacks whose template ships in the assembly are loaded
and judged like any other template (their parameters bound to what the parent passes);
the ones whose template is elsewhere are recorded so the gate reports them NOT EVALUATED.

Each stack is loaded as it *deploys* (harness.reading.deployed): the template file judged is the asset
its ``stackTemplateAssetObjectUrl`` (a nested stack: its ``TemplateURL``) names, with what did not
match recorded as notes; the code each resource carries is hashed once (harness.reading.code_carriers).
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model import Finding, Source, Status, Subject
from harness.reading.assets import AssetBook, Environment, load_book
from harness.reading.code_carriers import CodePiece, served_by, template_code
from harness.reading.deployed import Choice, DeployNote, nested_template, root_template
from harness.reading.digests import DigestCache
from harness.reading.inputs import inside, parse_json, read_json
from policies.lib import cfn_resolver as cfn

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
TREE_ARTIFACT = "cdk:tree"
NESTED_STACK_TYPE = "AWS::CloudFormation::Stack"
STACK_FQNS = frozenset({"aws-cdk-lib.Stack", "aws-cdk-lib.NestedStack"})
DEFAULT_REGION = "us-east-1"
MAX_NESTING = 8  # Stage assemblies inside assemblies, nested stacks inside nested stacks


@dataclass(frozen=True, kw_only=True)
class StackTemplate:
    """One CloudFormation template of the assembly, parsed."""

    assembly: str
    root: Path  # the (top-level) assembly directory
    path: Path  # absolute path of the template file
    stack_id: str  # hierarchical stack id, e.g. "StagingDatabase", "Stage/Stack", "Parent/NestedLogicalId"
    region: str
    body: dict[str, Any]
    construct_paths: dict[str, str]  # logical id -> construct path
    account: str | None = None  # None: an account-agnostic stack
    parent: str = ""  # stack id of the parent template, for a nested stack
    parent_parameters: Mapping[str, Any] = field(default_factory=dict)  # raw expressions the parent passes
    # Nested-stack resources of this template whose template is not in the assembly.
    external_nested: tuple[str, ...] = ()
    assets: AssetBook  # what the stack artifact publishes (its asset manifests)
    deploy_notes: tuple[DeployNote, ...] = ()  # which file deploys, for this template and its nested stacks
    code: Mapping[str, tuple[CodePiece, ...]] = field(default_factory=dict)  # logical id -> the code it carries
    served_by: Mapping[str, str] = field(default_factory=dict)  # custom resource -> the function serving it
    # The stack artifact's properties in manifest.json (how `cdk deploy` deploys it: roles, tags,
    # notification ARNs, parameters...); empty for a nested stack, which its parent deploys.
    artifact_properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def relpath(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body["Resources"]
        return resources

    def resource_type(self, logical_id: str) -> str:
        return str(self.resources.get(logical_id, {}).get("Type", ""))

    def construct_path(self, logical_id: str) -> str:
        return self.construct_paths.get(logical_id, "")

    def gate_finding(
        self, *, rule: str, status: Status, title: str, remediation: str, message: str, logical_id: str = ""
    ) -> Finding:
        """A finding of the gate's own on this template, or on one of its resources: where it is, filled in once."""
        return Finding(
            source=Source.GATE,
            rule_id=rule,
            status=status,
            title=title,
            assembly=self.assembly,
            stack=self.stack_id,
            template=self.relpath,
            logical_id=logical_id,
            construct_path=self.construct_path(logical_id) if logical_id else "",
            resource_type=self.resource_type(logical_id) if logical_id else "",
            message=message,
            remediation=remediation,
        )

    def subject(self, logical_id: str) -> Subject:
        """The resource as a waiver sees it (a construct path two resources claim names neither)."""
        path = self.construct_path(logical_id)
        return Subject(
            stack=self.stack_id,
            logical_id=logical_id,
            construct_path=path,
            resource_type=self.resource_type(logical_id),
            ambiguous_path=path in self.ambiguous_paths,
            code_sha256=self.code_hashes(logical_id),
        )

    def code_hashes(self, logical_id: str) -> tuple[str, ...]:
        """The content hashes of the code a resource carries (a custom resource: its serving function's too);
        "" for code the gate cannot read, which no waiver can name."""
        pieces = [*self.code.get(logical_id, ())]
        function = self.served_by.get(logical_id)
        if function:
            pieces += self.code.get(function, ())
        return tuple(sorted(p.sha256 if p.readable else "" for p in pieces))

    @functools.cached_property  # asked once per resource and per finding: count once per template
    def ambiguous_paths(self) -> frozenset[str]:
        """Construct paths that more than one resource claims (they identify no single resource)."""
        counts = Counter(self.construct_paths.get(lid, "") for lid in self.resources)
        return frozenset(path for path, count in counts.items() if path and count > 1)


@dataclass(frozen=True, kw_only=True)
class CloudAssembly:
    label: str
    root: Path
    stacks: tuple[StackTemplate, ...]
    read: frozenset[Path] = frozenset()  # every file hashed while loading (asset manifests' sources included)

    @property
    def resource_count(self) -> int:
        return sum(len(stack.resources) for stack in self.stacks)

    def stack_for(self, template: Path) -> StackTemplate | None:
        resolved = template.resolve()
        return next((s for s in self.stacks if s.path.resolve() == resolved), None)


def load_assembly(root: Path, *, label: str | None = None) -> CloudAssembly:
    """Parse ``root/manifest.json`` and every stack template it names (Stages and nested stacks included)."""
    root = root.resolve()
    if not root.is_dir():
        raise HarnessError(f"cloud assembly {root} is not a directory")
    if not (root / "manifest.json").exists():
        raise HarnessError(f"{root} is not a cloud assembly: manifest.json is missing")
    name = label or root.name
    digests = DigestCache()
    stacks = tuple(_stacks(root, root, assembly=name, depth=0, seen=set(), digests=digests))
    if not stacks:
        raise HarnessError(f"empty cloud assembly {root}: manifest.json names no stack templates")
    manifests = frozenset(m for stack in stacks for m in stack.assets.manifests)
    assembly = CloudAssembly(label=name, root=root, stacks=stacks, read=digests.paths | manifests)
    if assembly.resource_count == 0:
        raise HarnessError(f"empty cloud assembly {root}: its templates define no resources")
    return assembly


def load_assemblies(paths: Sequence[Path]) -> list[CloudAssembly]:
    """Each ``--assembly`` path, labelled by its directory's name (``name#2`` for a second of that name)."""
    labels: Counter[str] = Counter()
    assemblies = []
    for path in paths:
        label = path.resolve().name
        labels[label] += 1
        assemblies.append(load_assembly(path, label=label if labels[label] == 1 else f"{label}#{labels[label]}"))
    return assemblies


def _manifest_artifacts(manifest_path: Path) -> dict[str, Mapping[str, Any]]:
    manifest = read_json(manifest_path, what="cloud assembly manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise HarnessError(f"malformed cloud assembly manifest {manifest_path}: no artifacts object")
    for artifact_id, artifact in artifacts.items():
        if not isinstance(artifact, dict) or not isinstance(artifact.get("type"), str):
            raise HarnessError(
                f"malformed cloud assembly manifest {manifest_path}: artifact {artifact_id!r} has no type"
            )
        if not isinstance(artifact.get("properties", {}), dict):
            raise HarnessError(
                f"malformed cloud assembly manifest {manifest_path}: artifact {artifact_id!r} properties is not an object"
            )
    return artifacts


def _property(manifest: Path, artifact_id: str, artifact: Mapping[str, Any], key: str) -> str:
    value = (artifact.get("properties") or {}).get(key)
    if not isinstance(value, str) or not value:
        raise HarnessError(f"malformed cloud assembly manifest {manifest}: artifact {artifact_id!r} has no {key}")
    return value


def _stacks(
    directory: Path, root: Path, *, assembly: str, depth: int, seen: set[Path], digests: DigestCache
) -> Iterator[StackTemplate]:
    if depth > MAX_NESTING:
        raise HarnessError(f"cloud assembly {root}: assemblies nested more than {MAX_NESTING} levels deep")
    if directory.resolve() in seen:
        raise HarnessError(f"cloud assembly {root}: nested assembly {directory} includes itself")
    seen.add(directory.resolve())
    manifest_path = directory / "manifest.json"
    artifacts = _manifest_artifacts(manifest_path)
    paths_by_stack = _tree_construct_paths(directory, artifacts, manifest_path)
    for artifact_id, artifact in sorted(artifacts.items()):
        kind = artifact["type"]
        if kind == NESTED_ASSEMBLY_ARTIFACT:
            nested_dir = inside(
                directory, _property(manifest_path, artifact_id, artifact, "directoryName"),
                what="directoryName", owner=manifest_path,
            )  # fmt: skip
            yield from _stacks(nested_dir, root, assembly=assembly, depth=depth + 1, seen=seen, digests=digests)
        elif kind == STACK_ARTIFACT:
            template_path = inside(
                directory, _property(manifest_path, artifact_id, artifact, "templateFile"),
                what="templateFile", owner=manifest_path,
            )  # fmt: skip
            stack_id = str(artifact.get("displayName") or artifact_id)
            region, account = _environment(artifact.get("environment"))
            book = load_book(
                directory=directory, root=root, manifest_path=manifest_path, artifact_id=artifact_id,
                artifact=artifact, artifacts=artifacts, environment=Environment(region=region, account=account),
                digests=digests,
            )  # fmt: skip
            url = (artifact.get("properties") or {}).get("stackTemplateAssetObjectUrl")
            if url is not None and (not isinstance(url, str) or not url):
                raise HarnessError(
                    f"malformed cloud assembly manifest {manifest_path}: artifact {artifact_id!r} "
                    f"stackTemplateAssetObjectUrl {url!r} is not a URL (valid example: s3://bucket/<hash>.json)"
                )
            properties = dict(artifact.get("properties") or {})
            for stack in _template(
                root_template(template_file=template_path, url=url, book=book),
                root=root,
                assembly=assembly,
                stack_id=stack_id,
                tree_paths=paths_by_stack.get(stack_id, {}),
                paths_by_stack=paths_by_stack,
                depth=depth,
                book=book,
            ):
                yield stack if stack.parent else dataclasses.replace(stack, artifact_properties=properties)


def _template(
    choice: Choice,
    *,
    root: Path,
    assembly: str,
    stack_id: str,
    tree_paths: Mapping[str, str],
    paths_by_stack: Mapping[str, Mapping[str, str]],
    depth: int,
    book: AssetBook,
    parent: str = "",
    parent_parameters: Mapping[str, Any] | None = None,
) -> Iterator[StackTemplate]:
    template_path = choice.path
    assert template_path is not None  # an external nested template is never loaded
    if depth > MAX_NESTING:
        raise HarnessError(f"template {template_path}: nested stacks nested more than {MAX_NESTING} levels deep")
    body = _template_body(template_path, digests=book.digests)
    paths = dict(tree_paths)
    for logical_id, resource in body["Resources"].items():
        metadata = resource.get("Metadata")
        cdk_path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
        if isinstance(cdk_path, str):
            paths.setdefault(logical_id, cdk_path)
    resolver = cfn.Resolver(body, environment=book.environment.resolver_environment)
    nested, external, external_notes = _nested_stacks(
        body, template_path=template_path, root=root, resolver=resolver, book=book
    )
    # A nested stack's own notes belong to its parent's resource (the parent declares its TemplateURL).
    own = () if parent else choice.notes
    notes = (*own, *(note for _, child, _ in nested for note in child.notes), *external_notes)
    yield StackTemplate(
        assembly=assembly,
        root=root,
        path=template_path,
        stack_id=stack_id,
        region=book.environment.region,
        account=book.environment.account,
        body=body,
        construct_paths=paths,
        parent=parent,
        parent_parameters=dict(parent_parameters or {}),
        external_nested=tuple(external),
        assets=book,
        deploy_notes=notes,
        code=template_code(body["Resources"], resolver=resolver, book=book),
        served_by=served_by(body["Resources"], resolver=resolver),
    )
    for logical_id, child, parameters in nested:
        child_id = f"{stack_id}/{logical_id}"
        nested_tree = paths_by_stack.get(_nested_stack_path(paths.get(logical_id, "")), {})
        yield from _template(
            child,
            root=root,
            assembly=assembly,
            stack_id=child_id,
            tree_paths=nested_tree,
            paths_by_stack=paths_by_stack,
            depth=depth + 1,
            book=book,
            parent=stack_id,
            parent_parameters=parameters,
        )


def _template_body(template_path: Path, *, digests: DigestCache) -> dict[str, Any]:
    data = digests.read(template_path, what="template")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HarnessError(
            f"template {template_path} is not UTF-8 text: byte {error.start} ({error.reason})"
        ) from error
    body = parse_json(text, what="template", path=template_path)
    if not isinstance(body, dict) or not isinstance(body.get("Resources", {}), dict):
        raise HarnessError(f"unparseable template {template_path}: not a CloudFormation template object")
    body.setdefault("Resources", {})
    for logical_id, resource in body["Resources"].items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise HarnessError(f"malformed template {template_path}: resource {logical_id!r} has no Type")
    return body


def _nested_stacks(
    body: Mapping[str, Any], *, template_path: Path, root: Path, resolver: cfn.Resolver, book: AssetBook
) -> tuple[list[tuple[str, Choice, Mapping[str, Any]]], list[str], list[DeployNote]]:
    """(logical id, deployed template, parameters) of nested stacks shipped in the assembly; ids of the
    others, and what was found about the URLs of those others."""
    nested: list[tuple[str, Choice, Mapping[str, Any]]] = []
    external: list[str] = []
    external_notes: list[DeployNote] = []
    for logical_id, resource in sorted(body["Resources"].items()):
        if resource.get("Type") != NESTED_STACK_TYPE:
            continue
        declared = _nested_template_file(template_path.parent, root, resource)
        choice = nested_template(
            logical_id=logical_id, resource=resource, resolver=resolver, book=book, declared=declared
        )
        if choice.path is None:
            external.append(logical_id)
            external_notes += choice.notes
        else:
            parameters = (resource.get("Properties") or {}).get("Parameters")
            nested.append((logical_id, choice, parameters if isinstance(parameters, dict) else {}))
    return nested, external, external_notes


def _nested_stack_path(resource_path: str) -> str:
    """``P/Child.NestedStack/Child.NestedStackResource`` (the parent's resource) -> ``P/Child`` (the stack)."""
    if not resource_path.endswith(".NestedStackResource"):
        return ""
    return resource_path.rsplit("/", 1)[0].removesuffix(".NestedStack")


def _nested_template_file(directory: Path, root: Path, resource: Mapping[str, Any]) -> Path | None:
    """The nested stack's template when CDK shipped it in the assembly (``aws:asset:path``), else None."""
    metadata = resource.get("Metadata")
    asset = metadata.get("aws:asset:path") if isinstance(metadata, dict) else None
    if not isinstance(asset, str) or not asset.endswith(".json"):
        return None
    try:
        candidate = inside(directory, asset, what="aws:asset:path", owner=directory)
    except HarnessError:
        return None
    try:
        candidate.relative_to(root)
    except ValueError:
        return None
    return candidate if candidate.exists() else None


def _environment(environment: object) -> tuple[str, str | None]:
    """(region, account) of "aws://<account>/<region>"; env-agnostic stacks say "unknown-…"."""
    region, account = DEFAULT_REGION, None
    if isinstance(environment, str) and environment.count("/") >= 3:
        account_part, region_part = environment.split("//", 1)[-1].split("/", 1)
        if region_part and not region_part.startswith("unknown"):
            region = region_part
        if account_part.isdigit() and len(account_part) == 12:
            account = account_part
    return region, account


def _tree_construct_paths(
    directory: Path, artifacts: Mapping[str, Mapping[str, Any]], manifest: Path
) -> dict[str, dict[str, str]]:
    """Stack path -> {logical id -> construct path}, from tree.json (python synth has no aws:cdk:path)."""
    tree_file = next(
        (a.get("properties", {}).get("file") for a in artifacts.values() if a.get("type") == TREE_ARTIFACT), None
    )
    if not isinstance(tree_file, str) or not tree_file:
        return {}
    tree_path = inside(directory, tree_file, what="construct tree file", owner=manifest)
    if not tree_path.exists():
        return {}
    tree = read_json(tree_path, what="construct tree")
    result: dict[str, dict[str, str]] = {}
    if not (isinstance(tree, dict) and isinstance(tree.get("tree"), dict)):
        return result
    stack: list[tuple[dict[str, Any], str]] = [(tree["tree"], "")]
    while stack:  # iterative: a hostile tree.json must not overflow the interpreter's stack
        node, stack_path = stack.pop()
        info = node.get("constructInfo")
        fqn = info.get("fqn", "") if isinstance(info, dict) else ""
        path = str(node.get("path", ""))
        if fqn in STACK_FQNS:
            stack_path = path
        attributes = node.get("attributes")
        logical_id = attributes.get("aws:cdk:cloudformation:logicalId") if isinstance(attributes, dict) else None
        if isinstance(logical_id, str) and stack_path:
            result.setdefault(stack_path, {})[logical_id] = path
        children = node.get("children")
        if isinstance(children, dict):
            stack.extend((child, stack_path) for child in children.values() if isinstance(child, dict))
    return result
