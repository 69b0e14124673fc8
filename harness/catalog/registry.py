"""The reviewed registry (``policies/registry/``): every type, property and attribute the stacks may use.

Deny by default: the gate passes only what someone reviewed. Each file under
``policies/registry/types/`` reviews one resource type; ``policies/registry/template.yaml``
reviews the template's own sections, the keys of a resource (``DeletionPolicy``...) and the
keys of a resource's ``Metadata``. Every entry is one of two things:

- *judged*: ``judged_by`` maps each rule that judges it to a value that, alone, makes that
  rule fail (the fixture ``tests/policies/test_registry.py`` applies to the staging
  template; ``null`` means "the property removed"). Rules are project policies
  (``CKV_STG_*``) or the gate's own rules (``gate:*``, proven by the gate's tests);
- *neutral*: a one-line reason why no policy needs to judge it.

A property is named by its path under ``Properties``: segments joined by ``/``, ``*`` for
any list item or any key of a free-form map (``SecurityGroupIngress/*/CidrIp``,
``Parameters/rds.force_ssl``). An entry covers everything below it. An attribute is named as
``Fn::GetAtt`` names it (``Endpoint.Address``).

Loading is strict (one line per problem: the gate exits 2 on a bad registry) and cheap; the
check against CloudFormation's provider schemas (:func:`schema_problems`) reads cfn-lint's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

REGISTRY_DIR_NAME = "registry"
TYPES_DIR_NAME = "types"
TEMPLATE_FILE_NAME = "template.yaml"
SEPARATOR = "/"
ANY = "*"
TEMPLATES = ("default", "migration", "alias", "secret")  # the staging templates fixtures edit (tests/policies)
_TYPE_NAME = re.compile(r"^(AWS|Alexa)::[A-Za-z0-9]+::[A-Za-z0-9]+$|^Custom::[A-Za-z0-9_@-]+$")
_RULE_ID = re.compile(r"^(CKV_STG_[A-Z]+_\d+|gate:[a-z-]+)$")
_MAX_REASON = 240
_TYPE_FIELDS = frozenset({"type", "summary", "tag_property", "properties", "attributes", "example", "template"})
_ENTRY_FIELDS = frozenset({"judged_by", "neutral", "where", "expected"})
_TEMPLATE_SECTIONS = ("sections", "resource_keys", "metadata_keys", "stack_properties")
_VALID_ENTRY = (
    "e.g. 'MultiAZ: {judged_by: {CKV_STG_RDS_6: false}}' or 'Description: {neutral: free text, no behaviour}'"
)


@dataclass(frozen=True, kw_only=True)
class Review:
    """One reviewed property, attribute or template key."""

    path: str
    judged_by: Mapping[str, Any] = field(default_factory=dict)  # rule id -> the value that alone defeats it
    neutral: str = ""  # why no policy needs to judge it (empty when judged)
    # fixtures: which resource of the type to edit ({property: value} or {logical_id: glob}), or per rule
    # ({rule id: {...}}) when the rules judge different resources of the type (the CPU and storage alarms)
    where: Mapping[str, Any] = field(default_factory=dict)
    # A neutral entry that is neutral only for one shape of value (a regular expression the value's JSON must
    # match in full): a stack artifact's terminationProtection is reviewed as false, not as any value.
    expected: str = ""

    def accepts(self, value: Any) -> bool:
        return not self.expected or re.fullmatch(self.expected, json.dumps(value, sort_keys=True)) is not None

    def where_for(self, rule: str) -> Mapping[str, Any]:
        if self.where and all(_RULE_ID.fullmatch(str(key)) for key in self.where):
            found = self.where.get(rule) or {}
            return found if isinstance(found, Mapping) else {}
        return self.where

    @property
    def judged(self) -> bool:
        return bool(self.judged_by)

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.split(SEPARATOR))

    def describe(self) -> str:
        return f"judged by {', '.join(sorted(self.judged_by))}" if self.judged else f"neutral: {self.neutral}"


@dataclass
class Node:
    """A trie of reviewed property paths: a node with a review covers everything below it."""

    review: Review | None = None
    children: dict[str, Node] = field(default_factory=dict)

    def child(self, key: str) -> Node | None:
        return self.children.get(key) or self.children.get(ANY)


@dataclass(frozen=True, kw_only=True)
class ReviewedType:
    type: str
    summary: str
    tag_property: str  # the schema's tagging.tagProperty ("" for a type that takes no tags)
    properties: Mapping[str, Review]
    attributes: Mapping[str, Review]
    source: Path
    example: Mapping[str, Any] | None = None  # a compliant resource, for a type the staging stack does not have
    template: str = "default"  # which staging template the fixtures edit

    @property
    def judged(self) -> int:
        return sum(1 for r in self.properties.values() if r.judged)

    @property
    def neutral(self) -> int:
        return sum(1 for r in self.properties.values() if not r.judged)

    @cached_property
    def trie(self) -> Node:
        root = Node()
        for review in self.properties.values():
            node = root
            for segment in review.segments:
                node = node.children.setdefault(segment, Node())
            node.review = review
        return root


@dataclass(frozen=True, kw_only=True)
class Registry:
    types: Mapping[str, ReviewedType]
    sections: Mapping[str, Review]  # top-level template keys
    resource_keys: Mapping[str, Review]  # keys of a resource beside Type and Properties
    metadata_keys: Mapping[str, Review]  # keys of a resource's Metadata
    directory: Path
    stack_properties: Mapping[str, Review] = field(default_factory=dict)  # a stack artifact's manifest properties

    def reviewed(self, resource_type: str) -> ReviewedType | None:
        return self.types.get(resource_type)

    def entries(self) -> Iterator[tuple[str, Review]]:
        """(where, review) of every entry: ``template`` or the resource type it belongs to."""
        for section in _TEMPLATE_SECTIONS:
            for review in getattr(self, section).values():
                yield f"template {section}", review
        for reviewed in self.types.values():
            for review in [*reviewed.properties.values(), *reviewed.attributes.values()]:
                yield reviewed.type, review

    def rule_ids(self) -> set[str]:
        """Every rule a registry entry names (the catalog checks that each exists)."""
        return {rule for _, review in self.entries() for rule in review.judged_by}


# -- loading -------------------------------------------------------------------------------


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML: {' '.join(str(error).split())}") from error


def _review(path: Path, name: str, raw: Any) -> Review:
    if not isinstance(raw, Mapping) or not raw:
        raise ValueError(f"{path}: entry {name!r} must be a mapping with judged_by or neutral ({_VALID_ENTRY})")
    unknown = sorted(set(raw) - _ENTRY_FIELDS)
    if unknown:
        raise ValueError(f"{path}: entry {name!r}: unknown field {unknown[0]!r} ({_VALID_ENTRY})")
    judged_by, neutral = raw.get("judged_by"), raw.get("neutral")
    if (judged_by is None) == (neutral is None):
        raise ValueError(f"{path}: entry {name!r} must have exactly one of judged_by and neutral ({_VALID_ENTRY})")
    if neutral is not None:
        if not isinstance(neutral, str) or not neutral.strip() or "\n" in neutral.strip():
            raise ValueError(f"{path}: entry {name!r}: neutral must be a one-line reason ({_VALID_ENTRY})")
        if len(neutral.strip()) > _MAX_REASON:
            raise ValueError(f"{path}: entry {name!r}: neutral reason is over {_MAX_REASON} characters")
        return Review(
            path=name, neutral=" ".join(neutral.split()), expected=_expected(path, name, raw.get("expected", ""))
        )
    if not isinstance(judged_by, Mapping) or not judged_by:
        raise ValueError(f"{path}: entry {name!r}: judged_by must map rule ids to a defeating value ({_VALID_ENTRY})")
    bad = sorted(str(rule) for rule in judged_by if not isinstance(rule, str) or not _RULE_ID.fullmatch(rule))
    if bad:
        raise ValueError(f"{path}: entry {name!r}: {bad[0]!r} is not a rule id (CKV_STG_RDS_6 or gate:custom-resource)")
    where = raw.get("where") or {}
    if not isinstance(where, Mapping):
        raise ValueError(
            f"{path}: entry {name!r}: where must map property names to values, e.g. {{MetricName: CPUUtilization}}"
        )
    return Review(path=name, judged_by=dict(judged_by), where=dict(where))


def _expected(path: Path, name: str, expected: Any) -> str:
    try:
        re.compile(str(expected))
    except re.error as error:
        raise ValueError(
            f"{path}: entry {name!r}: expected {expected!r} is not a regular expression: {error}"
        ) from error
    return str(expected)


def _reviews(path: Path, section: str, raw: Any) -> dict[str, Review]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: {section} must be a mapping of names to entries ({_VALID_ENTRY})")
    reviews = {}
    for name, entry in raw.items():
        if not isinstance(name, str) or not name or any(not part for part in name.split(SEPARATOR)):
            raise ValueError(f"{path}: {section}: {name!r} is not a path (segments joined by '/', e.g. Tags or A/*/B)")
        reviews[name] = _review(path, name, entry)
    return reviews


def _type_file(path: Path) -> ReviewedType:
    raw = _read(path)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: a registry type file is a mapping with type, summary, properties and attributes")
    unknown = sorted(set(raw) - _TYPE_FIELDS)
    if unknown:
        raise ValueError(f"{path}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_TYPE_FIELDS))})")
    resource_type = raw.get("type")
    if not isinstance(resource_type, str) or not _TYPE_NAME.fullmatch(resource_type):
        raise ValueError(
            f"{path}: field 'type' must be a resource type such as AWS::RDS::DBInstance, got {resource_type!r}"
        )
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ValueError(f"{path}: field 'summary' must say what this type is in the stack (one line)")
    tag_property = raw.get("tag_property", "")
    if not isinstance(tag_property, str):
        raise ValueError(f"{path}: field 'tag_property' must be the schema's tag property name (e.g. Tags) or absent")
    template = raw.get("template", "default")
    if template not in TEMPLATES:
        raise ValueError(f"{path}: field 'template' must be one of {', '.join(TEMPLATES)}, got {template!r}")
    example = raw.get("example")
    if example is not None and not (isinstance(example, Mapping) and isinstance(example.get("Properties"), Mapping)):
        raise ValueError(f"{path}: field 'example' must be a resource with Properties (a compliant one, for fixtures)")
    return ReviewedType(
        type=resource_type,
        summary=" ".join(summary.split()),
        tag_property=tag_property,
        properties=_reviews(path, "properties", raw.get("properties")),
        attributes=_reviews(path, "attributes", raw.get("attributes")),
        source=path,
        example=dict(example) if example is not None else None,
        template=template,
    )


def load_registry(policies_dir: Path) -> Registry:
    """``policies/registry``, validated; a ValueError names the file and the entry."""
    directory = policies_dir / REGISTRY_DIR_NAME
    template_file = directory / TEMPLATE_FILE_NAME
    if not template_file.is_file():
        raise ValueError(f"{template_file} is missing: the registry of reviewed template keys (deny by default)")
    raw = _read(template_file)
    if not isinstance(raw, Mapping):
        raise ValueError(f"{template_file}: a mapping with {', '.join(_TEMPLATE_SECTIONS)}")
    unknown = sorted(set(raw) - set(_TEMPLATE_SECTIONS))
    if unknown:
        raise ValueError(f"{template_file}: unknown field {unknown[0]!r} (fields: {', '.join(_TEMPLATE_SECTIONS)})")
    types: dict[str, ReviewedType] = {}
    for path in sorted((directory / TYPES_DIR_NAME).rglob("*.yaml")):
        reviewed = _type_file(path)
        if reviewed.type in types:
            raise ValueError(f"{path}: {reviewed.type} is reviewed twice (also in {types[reviewed.type].source})")
        types[reviewed.type] = reviewed
    if not types:
        raise ValueError(f"{directory / TYPES_DIR_NAME} reviews no resource type")
    return Registry(
        types=types,
        sections=_reviews(template_file, "sections", raw.get("sections")),
        resource_keys=_reviews(template_file, "resource_keys", raw.get("resource_keys")),
        metadata_keys=_reviews(template_file, "metadata_keys", raw.get("metadata_keys")),
        stack_properties=_reviews(template_file, "stack_properties", raw.get("stack_properties")),
        directory=directory,
    )


# -- against CloudFormation's provider schemas -------------------------------------------------


def _schemas_root() -> Path:
    from harness.reading.schema_facts import schemas_dir  # noqa: PLC0415  (cfn-lint: test and gate venvs)

    return schemas_dir()


def load_schema(resource_type: str, *, root: Path | None = None) -> Mapping[str, Any] | None:
    """The provider schema of a type from cfn-lint's copy (us-east-1), None for a type it does not know."""
    base = root or _schemas_root()
    index = _index(base)
    digest = index.get(resource_type)
    if digest is None:
        return None
    schema: Mapping[str, Any] = json.loads((base / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
    return schema


_INDEXES: dict[Path, Mapping[str, str]] = {}


def _index(base: Path) -> Mapping[str, str]:
    if base not in _INDEXES:
        _INDEXES[base] = json.loads((base / "providers" / "us-east-1.json").read_text(encoding="utf-8"))
    return _INDEXES[base]


def _resolve(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    for _ in range(16):  # chains of $ref
        ref = node.get("$ref")
        if not (isinstance(ref, str) and ref.startswith("#/definitions/")):
            return node
        found = schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1])
        node = found if isinstance(found, Mapping) else {}
    return node


def _branches(schema: Mapping[str, Any], node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The node and the alternatives it allows (oneOf/anyOf/allOf), each resolved."""
    node = _resolve(schema, node)
    found = [node]
    for key in ("oneOf", "anyOf", "allOf"):
        for option in node.get(key) or []:
            if isinstance(option, Mapping):
                found += _branches(schema, option)
    return found


def _free_form(branch: Mapping[str, Any]) -> bool:
    """An object the schema does not describe further (a JSON document): any key below it is valid."""
    kinds = branch.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    described = any(key in branch for key in ("properties", "patternProperties", "additionalProperties", "items"))
    return not described and ("object" in kinds or kinds == [None])


def _step(schema: Mapping[str, Any], node: Mapping[str, Any], segment: str) -> list[Mapping[str, Any]]:
    """Where a path segment leads in the schema (several places through oneOf), empty when nowhere."""
    found: list[Mapping[str, Any]] = []
    for branch in _branches(schema, node):
        if _free_form(branch):
            found.append({})
            continue
        properties = branch.get("properties")
        named = isinstance(properties, Mapping) and segment in properties
        if isinstance(properties, Mapping) and named:
            found.append(properties[segment])
        if segment == ANY and isinstance(branch.get("items"), Mapping):
            found.append(branch["items"])
        patterns = branch.get("patternProperties")
        if isinstance(patterns, Mapping):
            found += [
                value
                for pattern, value in patterns.items()
                if isinstance(value, Mapping) and (segment == ANY or re.search(pattern, segment))
            ]
        extra = branch.get("additionalProperties")
        if extra not in (None, False) and not named:
            found.append(extra if isinstance(extra, Mapping) else {})
    return found


def property_exists(schema: Mapping[str, Any], path: str) -> bool:
    nodes: list[Mapping[str, Any]] = [{"properties": schema.get("properties") or {}, "type": "object"}]
    for segment in path.split(SEPARATOR):
        nodes = [found for node in nodes for found in _step(schema, node, segment)]
        if not nodes:
            return False
    return True


def tag_property(schema: Mapping[str, Any]) -> str:
    """The schema's ``tagging.tagProperty`` (``Tags`` unless the type says otherwise), "" when not taggable."""
    tagging = schema.get("tagging") or {}
    if not tagging.get("taggable", False):
        return ""
    found = str(tagging.get("tagProperty") or "/properties/Tags")
    return found.removeprefix("/properties/").replace("/", SEPARATOR)


def attribute_exists(schema: Mapping[str, Any], attribute: str) -> bool:
    """Whether ``Fn::GetAtt`` of the type may name the attribute (its read-only properties)."""
    read_only = {str(p).removeprefix("/properties/") for p in schema.get("readOnlyProperties") or []}
    return attribute.replace(".", "/") in read_only


def schema_problems(registry: Registry, *, root: Path | None = None) -> list[str]:
    """Where the registry disagrees with CloudFormation's schemas: unknown types, properties or
    attributes, and a tag property that is not the schema's (one line each)."""
    problems: list[str] = []
    for resource_type, reviewed in sorted(registry.types.items()):
        if resource_type.startswith("Custom::"):
            continue  # custom resources have no schema: their properties are the handler's input
        schema = load_schema(resource_type, root=root)
        where = reviewed.source.name
        if schema is None:
            problems.append(f"{where}: {resource_type} is not a CloudFormation resource type (cfn-lint's schemas)")
            continue
        expected = tag_property(schema)
        if reviewed.tag_property != expected:
            problems.append(
                f"{where}: tag_property is {reviewed.tag_property or 'absent'!r}, the schema says "
                f"{expected or 'not taggable'!r}"
            )
        problems += [
            f"{where}: property {path} is not in the {resource_type} schema"
            for path in sorted(reviewed.properties)
            if not property_exists(schema, path)
        ]
        problems += [
            f"{where}: attribute {name} is not a read-only property (Fn::GetAtt attribute) of {resource_type}"
            for name in sorted(reviewed.attributes)
            if not attribute_exists(schema, name)
        ]
    return problems


def schema_property_names(resource_type: str, *, root: Path | None = None) -> list[str]:
    """The top-level properties a type's schema defines (what "every property" means for the counts)."""
    schema = load_schema(resource_type, root=root)
    if schema is None:
        return []
    read_only = {str(p).removeprefix("/properties/") for p in schema.get("readOnlyProperties") or []}
    return sorted(name for name in (schema.get("properties") or {}) if name not in read_only)
