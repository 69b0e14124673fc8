"""The registry's fixtures: every judged entry of policies/registry, applied alone to the staging template.

An entry ``judged_by: {POLICY: value}`` promises that putting ``value`` at that place of the
staging template (``null``: removing it), and changing nothing else, makes POLICY fail. Each
promise becomes one :class:`RegistryFixture`: the edited template and the policy to run.
Python policies are judged in-process (tests/policies/inprocess.py); YAML policies by the
policy suite's one checkov scan (tests/policies/conftest.py writes them as
``registry__<n>.json``).
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.catalog.registry import ANY, SEPARATOR, Registry, Review, ReviewedType

Template = dict[str, Any]
PROBE_ID = "RegistryProbe"  # the logical id an example resource gets when the staging stack has none of its type


@dataclass(frozen=True)
class RegistryFixture:
    name: str  # "AWS::RDS::DBInstance MultiAZ -> CKV_STG_RDS_6"
    policy: str
    where: str  # "property", "attribute", "section", "resource key"
    template: Template


def _matches(logical_id: str, resource: Mapping[str, Any], where: Mapping[str, Any]) -> bool:
    properties = resource.get("Properties") or {}
    for key, wanted in where.items():
        if key == "logical_id":
            if not fnmatch.fnmatchcase(logical_id, str(wanted)):
                return False
        elif properties.get(key) != wanted:
            return False
    return True


def _target(template: Template, reviewed: ReviewedType, review: Review, rule: str) -> str:
    resources = template["Resources"]
    candidates = [lid for lid, r in sorted(resources.items()) if r.get("Type") == reviewed.type]
    if not candidates and reviewed.example is not None:
        resources[PROBE_ID] = copy.deepcopy(dict(reviewed.example)) | {"Type": reviewed.type}
        candidates = [PROBE_ID]
    where = {key: value for key, value in review.where_for(rule).items() if key != "template"}
    chosen = [lid for lid in candidates if _matches(lid, resources[lid], where)]
    if not chosen:
        raise AssertionError(f"{reviewed.source.name}: no {reviewed.type} matches where {dict(where)}")
    return str(chosen[0])


def put(container: Any, segments: tuple[str, ...], value: Any) -> None:
    """Set (or, for None, remove) the value at a registry path. ``*`` in a list adds one item that holds
    only the rest of the path (the property alone, beside the compliant items); in a map, the first key."""
    head, rest = segments[0], segments[1:]
    if isinstance(container, list):
        if not rest:
            container.append(copy.deepcopy(value))
            return
        container.append({})
        put(container[-1], rest, value)
        return
    key = next(iter(container), head) if head == ANY else head
    if not rest:
        if value is None:
            container.pop(key, None)
        else:
            container[key] = copy.deepcopy(value)
        return
    if key not in container or not isinstance(container[key], dict | list):
        container[key] = [] if rest[0] == ANY else {}
    put(container[key], rest, value)


def fixtures(registry: Registry, templates: Mapping[str, Template]) -> Iterator[RegistryFixture]:
    """One fixture per (entry, judging project policy); ``gate:`` rules are proven by the gate's own tests."""
    yield from _property_fixtures(registry, templates)
    yield from _template_fixtures(registry, templates["default"])


def _promises(review: Review) -> Iterator[tuple[str, Any]]:
    yield from ((rule, value) for rule, value in sorted(review.judged_by.items()) if not rule.startswith("gate:"))


def _property_fixtures(registry: Registry, templates: Mapping[str, Template]) -> Iterator[RegistryFixture]:
    for reviewed in sorted(registry.types.values(), key=lambda t: t.type):
        for review in sorted(reviewed.properties.values(), key=lambda r: r.path):
            for policy, value in _promises(review):
                base = review.where_for(policy).get("template", reviewed.template)
                template = copy.deepcopy(dict(templates[base]))
                target = _target(template, reviewed, review, policy)
                properties = template["Resources"][target].setdefault("Properties", {})
                put(properties, tuple(review.path.split(SEPARATOR)), value)
                yield RegistryFixture(f"{reviewed.type} {review.path} -> {policy}", policy, "property", template)


def _template_fixtures(registry: Registry, staging: Template) -> Iterator[RegistryFixture]:
    for name, review in sorted(registry.sections.items()):
        for policy, value in _promises(review):
            template = copy.deepcopy(dict(staging))
            put(template, (name,), value)
            yield RegistryFixture(f"template section {name} -> {policy}", policy, "section", template)
    for name, review in sorted(registry.resource_keys.items()):
        for policy, value in _promises(review):
            template = copy.deepcopy(dict(staging))
            target = next(
                lid for lid, r in sorted(template["Resources"].items()) if r["Type"] == "AWS::RDS::DBInstance"
            )
            put(template["Resources"][target], (name,), value)
            yield RegistryFixture(f"resource key {name} -> {policy}", policy, "resource key", template)
