"""Reading a cloud assembly (``cdk.out``): its stack templates and construct paths.

The gate never trusts that an assembly is well-formed: a missing manifest, a template
that is not JSON, or an assembly without resources is a :class:`HarnessError` (exit 2),
because every later check would otherwise pass vacuously.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

STACK_ARTIFACT = "aws:cloudformation:stack"
NESTED_ASSEMBLY_ARTIFACT = "cdk:cloud-assembly"
TREE_ARTIFACT = "cdk:tree"
STACK_FQNS = frozenset({"aws-cdk-lib.Stack", "aws-cdk-lib.NestedStack"})
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class StackTemplate:
    """One CloudFormation template of the assembly, parsed."""

    assembly: str
    root: Path  # the (top-level) assembly directory
    path: Path  # absolute path of the template file
    stack_id: str  # hierarchical stack id, e.g. "StagingDatabase" or "Stage/Stack"
    region: str
    body: dict[str, Any]
    construct_paths: dict[str, str]  # logical id -> construct path

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


@dataclass(frozen=True, kw_only=True)
class CloudAssembly:
    label: str
    root: Path
    stacks: tuple[StackTemplate, ...]

    @property
    def resource_count(self) -> int:
        return sum(len(stack.resources) for stack in self.stacks)

    def stack_for(self, template: Path) -> StackTemplate | None:
        resolved = template.resolve()
        return next((s for s in self.stacks if s.path.resolve() == resolved), None)


def _read_json(path: Path, *, what: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise HarnessError(f"cannot read {what} {path}: {error.strerror}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HarnessError(f"unparseable {what} {path}: {error.msg} at line {error.lineno}") from error


def load_assembly(root: Path, *, label: str | None = None) -> CloudAssembly:
    """Parse ``root/manifest.json`` and every stack template it names (Stages included)."""
    root = root.resolve()
    if not root.is_dir():
        raise HarnessError(f"cloud assembly {root} is not a directory")
    if not (root / "manifest.json").is_file():
        raise HarnessError(f"{root} is not a cloud assembly: manifest.json is missing")
    name = label or root.name
    stacks = tuple(_stacks(root, root, assembly=name))
    if not stacks:
        raise HarnessError(f"empty cloud assembly {root}: manifest.json names no stack templates")
    assembly = CloudAssembly(label=name, root=root, stacks=stacks)
    if assembly.resource_count == 0:
        raise HarnessError(f"empty cloud assembly {root}: its templates define no resources")
    return assembly


def _stacks(directory: Path, root: Path, *, assembly: str) -> Iterator[StackTemplate]:
    manifest = _read_json(directory / "manifest.json", what="cloud assembly manifest")
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    if not isinstance(artifacts, dict):
        raise HarnessError(f"malformed cloud assembly manifest {directory / 'manifest.json'}: no artifacts object")
    paths_by_stack = _tree_construct_paths(directory, artifacts)
    for artifact_id, artifact in sorted(artifacts.items()):
        kind = artifact.get("type")
        properties = artifact.get("properties") or {}
        if kind == NESTED_ASSEMBLY_ARTIFACT:
            yield from _stacks(directory / properties["directoryName"], root, assembly=assembly)
        elif kind == STACK_ARTIFACT:
            template_path = directory / properties["templateFile"]
            body = _read_json(template_path, what="template")
            if not isinstance(body, dict) or not isinstance(body.get("Resources", {}), dict):
                raise HarnessError(f"unparseable template {template_path}: not a CloudFormation template object")
            body.setdefault("Resources", {})
            stack_id = str(artifact.get("displayName") or artifact_id)
            paths = dict(paths_by_stack.get(stack_id, {}))
            for logical_id, resource in body["Resources"].items():
                cdk_path = (resource.get("Metadata") or {}).get("aws:cdk:path") if isinstance(resource, dict) else None
                if isinstance(cdk_path, str):
                    paths.setdefault(logical_id, cdk_path)
            yield StackTemplate(
                assembly=assembly,
                root=root,
                path=template_path.resolve(),
                stack_id=stack_id,
                region=_region(artifact.get("environment")),
                body=body,
                construct_paths=paths,
            )


def _region(environment: object) -> str:
    # "aws://<account>/<region>"; env-agnostic stacks say "unknown-region".
    if isinstance(environment, str) and environment.count("/") >= 3:
        region = environment.rsplit("/", 1)[1]
        if region and not region.startswith("unknown"):
            return region
    return DEFAULT_REGION


def _tree_construct_paths(directory: Path, artifacts: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Stack path -> {logical id -> construct path}, from tree.json (python synth has no aws:cdk:path)."""
    tree_file = next(
        (a.get("properties", {}).get("file") for a in artifacts.values() if a.get("type") == TREE_ARTIFACT), None
    )
    if not tree_file or not (directory / tree_file).is_file():
        return {}
    tree = _read_json(directory / tree_file, what="construct tree")
    result: dict[str, dict[str, str]] = {}

    def walk(node: dict[str, Any], stack_path: str) -> None:
        fqn = (node.get("constructInfo") or {}).get("fqn", "")
        path = str(node.get("path", ""))
        if fqn in STACK_FQNS:
            stack_path = path
        logical_id = (node.get("attributes") or {}).get("aws:cdk:cloudformation:logicalId")
        if isinstance(logical_id, str) and stack_path:
            result.setdefault(stack_path, {})[logical_id] = path
        for child in (node.get("children") or {}).values():
            walk(child, stack_path)

    if isinstance(tree, dict) and isinstance(tree.get("tree"), dict):
        walk(tree["tree"], "")
    return result
