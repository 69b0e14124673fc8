"""Deny by default: what no one reviewed (``policies/registry/``) is NOT EVALUATED.

Every template of every assembly (nested stacks included) is read as written, both branches
of every ``Fn::If`` included, and everything it uses must be in the registry:

- ``gate:unreviewed-type``: a resource type no file under ``policies/registry/types`` reviews;
- ``gate:unreviewed-property``: a property path of a reviewed type that no entry covers (an
  entry covers everything below it; a computed value where the registry reviews its parts,
  e.g. ``MasterUserSecret: {Ref: P}``, is not covered either: its parts cannot be known);
- ``gate:unreviewed-attribute``: an ``Fn::GetAtt`` attribute (also ``${Res.Attr}`` in
  ``Fn::Sub``) that the target type's registry file does not list;
- ``gate:unreviewed-key``: a template section, a key of a resource (``CreationPolicy``...), a
  key of a resource's ``Metadata`` (``AWS::CloudFormation::Init`` runs code on an instance) or a
  property of the stack's artifact in ``manifest.json`` (stack tags, notification ARNs, roles:
  how ``cdk deploy`` deploys it) that ``policies/registry/template.yaml`` does not list, or lists
  only for another value (``expected``).

One finding per resource and rule, naming every unreviewed path, so a reviewer sees the whole
gap at once; a ``gate`` waiver can accept one after review, like any other exception.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from harness.catalog.registry import ANY, REGISTRY_DIR_NAME, TEMPLATE_FILE_NAME, TYPES_DIR_NAME, Node, Registry
from harness.model import Finding, Status
from harness.reading.assembly import CloudAssembly, StackTemplate

RULE_TYPE = "gate:unreviewed-type"
RULE_PROPERTY = "gate:unreviewed-property"
RULE_ATTRIBUTE = "gate:unreviewed-attribute"
RULE_KEY = "gate:unreviewed-key"
RULE_TITLES = {
    RULE_TYPE: "every resource type the stack deploys was reviewed (policies/registry)",
    RULE_PROPERTY: "every property the stack sets was reviewed (policies/registry)",
    RULE_ATTRIBUTE: "every Fn::GetAtt attribute the stack reads was reviewed (policies/registry)",
    RULE_KEY: "every template section, resource key and metadata key was reviewed (policies/registry)",
}
_REVIEW = (
    "review it: add it to {file} as judged_by a policy (with a value that alone makes that policy fail) or "
    "neutral with a one-line reason; or remove it from the stack"
)
# Intrinsic functions: a value computed by one of these has no parts the registry could match.
_INTRINSICS = frozenset(
    {
        "Ref", "Fn::GetAtt", "Fn::Join", "Fn::Sub", "Fn::Select", "Fn::Split", "Fn::ImportValue", "Fn::FindInMap",
        "Fn::Base64", "Fn::Cidr", "Fn::GetAZs", "Fn::ToJsonString", "Fn::Length", "Fn::Transform", "Fn::If",
        "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not", "Condition",
    }
)  # fmt: skip
_SUB_ATTRIBUTE = re.compile(r"\$\{(?!!)([A-Za-z0-9]+)\.([A-Za-z0-9.]+)\}")
_MAX_LISTED = 12  # paths named in one message; the rest are counted


def type_file(resource_type: str) -> str:
    """Where a type's review lives (``AWS::RDS::DBInstance`` -> ``types/RDS/DBInstance.yaml``)."""
    parts = resource_type.split("::")
    service, name = (parts[1], parts[2]) if len(parts) == 3 else ("Custom", parts[-1])
    return f"policies/{REGISTRY_DIR_NAME}/{TYPES_DIR_NAME}/{service}/{name}.yaml"


TEMPLATE_FILE = f"policies/{REGISTRY_DIR_NAME}/{TEMPLATE_FILE_NAME}"


def unreviewed_findings(assemblies: Sequence[CloudAssembly], *, registry: Registry) -> list[Finding]:
    findings: list[Finding] = []
    for assembly in assemblies:
        for stack in assembly.stacks:
            findings += _template_findings(stack, registry)
    return findings


def _template_findings(stack: StackTemplate, registry: Registry) -> list[Finding]:
    findings: list[Finding] = []
    sections = sorted(key for key in stack.body if key not in registry.sections)
    if sections:
        findings.append(_finding(stack, RULE_KEY, "", f"template sections no one reviewed: {_names(sections)}"))
    for logical_id, resource in sorted(stack.resources.items()):
        findings += _resource_findings(stack, registry, logical_id, resource)
    findings += _attribute_findings(stack, registry)
    findings += _artifact_findings(stack, registry)
    return findings


def _artifact_findings(stack: StackTemplate, registry: Registry) -> list[Finding]:
    """How `cdk deploy` deploys the stack is content too: a manifest property no one reviewed (stack tags
    every resource inherits, notification ARNs, parameter values, another account's roles) is NOT EVALUATED."""
    unreviewed = []
    for key, value in sorted(stack.artifact_properties.items()):
        review = registry.stack_properties.get(key)
        if review is None:
            unreviewed.append(key)
        elif not review.accepts(value):
            unreviewed.append(f"{key} = {json.dumps(value, sort_keys=True)[:120]} (reviewed only as {review.expected})")
    if not unreviewed:
        return []
    message = f"stack artifact properties in manifest.json no one reviewed: {_names(unreviewed)}"
    return [_finding(stack, RULE_KEY, "", message)]


def _resource_findings(
    stack: StackTemplate, registry: Registry, logical_id: str, resource: Mapping[str, Any]
) -> list[Finding]:
    found: list[Finding] = []
    keys = sorted(key for key in resource if key not in registry.resource_keys)
    metadata = resource.get("Metadata")
    if isinstance(metadata, Mapping):
        keys += sorted(f"Metadata/{key}" for key in metadata if key not in registry.metadata_keys)
    if keys:
        found.append(_finding(stack, RULE_KEY, logical_id, f"resource keys no one reviewed: {_names(keys)}"))
    resource_type = str(resource.get("Type", ""))
    reviewed = registry.reviewed(resource_type)
    if reviewed is None:
        message = f"{resource_type} is a resource type no one reviewed: none of its properties is judged"
        found.append(_finding(stack, RULE_TYPE, logical_id, message))
        return found
    paths = sorted(set(unreviewed_paths(reviewed.trie, resource.get("Properties", {}))))
    if paths:
        message = f"{resource_type} properties no one reviewed: {_names(paths)}"
        found.append(_finding(stack, RULE_PROPERTY, logical_id, message))
    return found


def unreviewed_paths(node: Node, value: Any, path: str = "") -> Iterator[str]:
    """Property paths under ``value`` that no entry of the trie covers (``*`` for list items)."""
    if node.review is not None:
        return
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _INTRINSICS:
        yield from _computed_paths(node, value, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}/{key}" if path else str(key)
            child = node.child(str(key))
            yield from [here] if child is None else unreviewed_paths(child, item, here)
    elif isinstance(value, list):
        items = node.children.get(ANY)
        if items is None:
            yield from [f"{path}/{ANY}"] if value else []
            return
        for item in value:
            yield from unreviewed_paths(items, item, f"{path}/{ANY}")
    elif path:
        yield f"{path} (a single value, where the registry reviews its parts)"


def _computed_paths(node: Node, value: Mapping[str, Any], path: str) -> Iterator[str]:
    """An intrinsic where the registry reviews the parts: both branches of Fn::If are walked; any
    other function hides the parts (AWS::NoValue hides nothing: the property is absent)."""
    function, argument = next(iter(value.items()))
    if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
        yield from unreviewed_paths(node, argument[1], path)
        yield from unreviewed_paths(node, argument[2], path)
    elif not (function == "Ref" and argument == "AWS::NoValue"):
        yield f"{path or 'Properties'} (computed by {function}, where the registry reviews its parts)"


def attribute_uses(value: Any) -> Iterator[tuple[str, str]]:
    """(logical id, attribute) of every ``Fn::GetAtt`` and ``${Res.Attr}`` under ``value``; a computed
    attribute name is reported as ``?``."""
    stack: list[Any] = [value]
    while stack:  # iterative: templates may nest deeply
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, argument in item.items():
                if key == "Fn::GetAtt":
                    yield from _getatt(argument)
                elif key == "Fn::Sub":
                    text = argument[0] if isinstance(argument, list) and argument else argument
                    if isinstance(text, str):
                        yield from ((m.group(1), m.group(2)) for m in _SUB_ATTRIBUTE.finditer(text))
                stack.append(argument)
        elif isinstance(item, list):
            stack.extend(item)


def _getatt(argument: Any) -> Iterator[tuple[str, str]]:
    if isinstance(argument, str) and "." in argument:
        logical_id, attribute = argument.split(".", 1)
        yield logical_id, attribute
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        yield argument[0], argument[1] if isinstance(argument[1], str) else "?"


def _attribute_findings(stack: StackTemplate, registry: Registry) -> list[Finding]:
    unreviewed: dict[str, set[str]] = defaultdict(set)
    for logical_id, attribute in attribute_uses(stack.body):
        resource_type = stack.resource_type(logical_id)
        if not resource_type:
            continue  # not a resource of this template (a parameter or a typo): the resolver and cfn-lint judge it
        reviewed = registry.reviewed(resource_type)
        if reviewed is None:
            continue  # the type itself is NOT EVALUATED already
        if attribute not in reviewed.attributes:
            unreviewed[logical_id].add("a computed attribute name" if attribute == "?" else attribute)
    what = "attributes read with Fn::GetAtt that no one reviewed"
    return [
        _finding(
            stack, RULE_ATTRIBUTE, logical_id, f"{stack.resource_type(logical_id)} {what}: {_names(sorted(names))}"
        )
        for logical_id, names in sorted(unreviewed.items())
    ]


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown if len(items) <= _MAX_LISTED else f"{shown} and {len(items) - _MAX_LISTED} more"


def _finding(stack: StackTemplate, rule: str, logical_id: str, message: str) -> Finding:
    resource_type = stack.resource_type(logical_id) if logical_id else ""
    file = type_file(resource_type) if rule in (RULE_TYPE, RULE_PROPERTY, RULE_ATTRIBUTE) else TEMPLATE_FILE
    return stack.gate_finding(
        rule=rule,
        status=Status.NOT_EVALUATED,
        title=RULE_TITLES[rule],
        remediation=_REVIEW.format(file=file),
        message=message,
        logical_id=logical_id,
    )
