"""What a change does to the stack: every resource added, removed, modified or replaced against a base.

Replacement is computed the way CloudFormation decides it (what ``cdk diff`` shows as
``[-/+]``), from data the repository already has and nothing downloaded:

- a changed create-only property (``createOnlyProperties`` of the resource provider schema,
  shipped in cfn-lint's wheel and kept in ``policies/lib/cfn_types.json`` by
  ``python -m harness.schema_facts``);
- a changed resource type;
- a changed logical id, which CloudFormation deploys as a removal plus an addition. The two
  halves are paired as one replacement when they share the construct path, a physical name
  (a create-only ``...Name``/``...Identifier`` value) or the construct's own id (the last two
  path segments, e.g. ``Instance/Resource`` after a move);
- a create-only property that references a resource being replaced (its physical id changes
  at deploy time, so this resource is replaced too), to a fixed point.

Replacing or removing a resource of a stateful type (``policies/stateful.yaml``, each with a
reviewed reason) is a gating finding with its own policy id (STG_CHG_1 replace, STG_CHG_2
remove) unless a waiver (tool ``change``) allows that planned change. Security-relevant
broadening is listed per resource the way ``cdk diff`` lists it (IAM statement and security
group changes): new allowed IAM statements with the actions and principals they add, new
principals, new ingress and egress rules. Broadening is reported, not gated: the policies judge
the head itself.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.assembly import CloudAssembly, StackTemplate
from harness.catalog import Tool
from harness.errors import HarnessError
from harness.model import Finding, Source, Status
from harness.sources import SourceMap
from harness.waivers import WaiverBook

STATEFUL_FILE = "stateful.yaml"
FACTS_FILE = Path("lib") / "cfn_types.json"
GATED_ACTIONS = ("replace", "remove")
# Resource attributes whose change changes what is deployed (Metadata and DependsOn do not).
ATTRIBUTES = ("Condition", "CreationPolicy", "DeletionPolicy", "UpdatePolicy", "UpdateReplacePolicy")
_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_POLICY_ID = re.compile(r"^STG_CHG_\d+$")
_SUB_REFERENCE = re.compile(r"\$\{(?!!)([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
_PHYSICAL_NAME = re.compile(r"(Name|Identifier)$")
_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
_PEER_KEYS = (
    "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourcePrefixListId",
    "DestinationSecurityGroupId", "DestinationPrefixListId",
)  # fmt: skip


# ------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True, kw_only=True)
class ChangePolicy:
    id: str
    action: str  # "replace" | "remove"
    title: str
    severity: str
    rationale: str
    remediation: str
    requirements: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ChangeRules:
    policies: Mapping[str, ChangePolicy]  # action -> policy
    stateful: Mapping[str, str]  # resource type -> what is lost when it is replaced or removed
    create_only: Mapping[str, tuple[str, ...]]  # resource type -> create-only property paths
    policy_properties: Mapping[str, tuple[str, ...]]  # resource type -> paths holding policy documents
    principal_properties: Mapping[str, tuple[str, ...]]  # resource type -> paths naming principals


def load_change_rules(policies_dir: Path) -> ChangeRules:
    """``policies/stateful.yaml`` and the schema facts, validated; one line naming the problem otherwise."""
    path = policies_dir / STATEFUL_FILE
    facts_path = policies_dir / FACTS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        facts = json.loads(facts_path.read_text(encoding="utf-8"))["types"]
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as error:
        raise HarnessError(f"change rules cannot be loaded from {path} and {facts_path}: {error}") from error
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("policies"), list)
        or not isinstance(data.get("types"), dict)
    ):
        raise HarnessError(f"{path}: needs a 'policies' list and a 'types' mapping (resource type: reason)")
    policies: dict[str, ChangePolicy] = {}
    for index, entry in enumerate(data["policies"]):
        policy = _change_policy(path, index, entry)
        if policy.action in policies:
            raise HarnessError(f"{path}: policy {policy.id!r}: action {policy.action!r} has another policy already")
        policies[policy.action] = policy
    missing = sorted(set(GATED_ACTIONS) - set(policies))
    if missing:
        raise HarnessError(
            f"{path}: no policy for action {missing[0]!r} (each of {', '.join(GATED_ACTIONS)} needs one)"
        )
    stateful: dict[str, str] = {}
    for resource_type, reason in sorted(data["types"].items()):
        if not _TYPE.fullmatch(str(resource_type)) or resource_type not in facts:
            raise HarnessError(
                f"{path}: types: {resource_type!r} is not a CloudFormation resource type cfn-lint knows "
                "(e.g. AWS::RDS::DBInstance)"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise HarnessError(
                f"{path}: types: {resource_type} needs a one-line reason (what is lost when it is replaced)"
            )
        stateful[resource_type] = " ".join(reason.split())

    def facts_of(name: str) -> dict[str, tuple[str, ...]]:
        return {t: tuple(f.get(name) or ()) for t, f in facts.items() if f.get(name)}

    return ChangeRules(
        policies=policies,
        stateful=stateful,
        create_only=facts_of("create_only"),
        policy_properties=facts_of("policy_properties"),
        principal_properties=facts_of("principal_properties"),
    )


def _change_policy(path: Path, index: int, entry: Any) -> ChangePolicy:
    if not isinstance(entry, dict):
        raise HarnessError(f"{path}: policies[{index}] must be a mapping")
    fields = {}
    for key in ("id", "action", "title", "severity", "rationale", "remediation"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise HarnessError(f"{path}: policies[{index}]: field {key!r} is required and must be a non-empty string")
        fields[key] = " ".join(value.split())
    if not _POLICY_ID.fullmatch(fields["id"]):
        raise HarnessError(f"{path}: policies[{index}]: id {fields['id']!r} must look like STG_CHG_1")
    if fields["action"] not in GATED_ACTIONS:
        raise HarnessError(f"{path}: policy {fields['id']}: action must be one of {', '.join(GATED_ACTIONS)}")
    requirements = entry.get("requirements") or []
    if not isinstance(requirements, list) or not all(isinstance(r, str) for r in requirements):
        raise HarnessError(f"{path}: policy {fields['id']}: requirements must be a list of REQ ids")
    return ChangePolicy(requirements=tuple(requirements), **fields)


# ------------------------------------------------------------------------------------------- records


@dataclass(frozen=True, kw_only=True)
class Broadening:
    """One security-relevant widening the head adds to a resource (reported, not gated)."""

    kind: str  # "iam" | "principal" | "ingress" | "egress"
    text: str  # one line, e.g. "ingress tcp 5432 from 0.0.0.0/0 (anywhere)"
    new_actions: tuple[str, ...] = ()
    new_principals: tuple[str, ...] = ()
    anywhere: bool = False  # a rule open to 0.0.0.0/0 or ::/0

    def record(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "newActions": list(self.new_actions),
            "newPrincipals": list(self.new_principals),
            "anywhere": self.anywhere,
        }


@dataclass(frozen=True, kw_only=True)
class Change:
    """One resource that differs between base and head."""

    stack: str
    logical_id: str  # at head (at base for a removal)
    construct_path: str
    resource_type: str
    action: str  # add | remove | modify | replace
    properties: tuple[str, ...] = ()  # changed properties and resource attributes
    causes: tuple[str, ...] = ()  # why a replacement
    stateful: bool = False
    stateful_reason: str = ""
    base_logical_id: str = ""  # when the logical id changed (a paired removal and addition)
    base_construct_path: str = ""
    broadening: tuple[Broadening, ...] = ()
    code_file: str = ""
    code_line: int = 0

    @property
    def gated(self) -> bool:
        return self.stateful and self.action in GATED_ACTIONS

    def sort_key(self) -> tuple[str, str, str]:
        return (self.stack, self.logical_id, self.action)

    def record(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "stack": self.stack,
            "logicalId": self.logical_id,
            "constructPath": self.construct_path,
            "type": self.resource_type,
            "action": self.action,
            "properties": list(self.properties),
            "replacementCauses": list(self.causes),
            "stateful": self.stateful,
            "statefulReason": self.stateful_reason,
            "broadening": [b.record() for b in self.broadening],
            "source": {"file": self.code_file, "line": self.code_line} if self.code_file else None,
        }
        if self.base_logical_id:
            body["baseLogicalId"] = self.base_logical_id
            body["baseConstructPath"] = self.base_construct_path
        return body


# ------------------------------------------------------------------------------------------- values


def _properties(resource: Mapping[str, Any] | None) -> dict[str, Any]:
    props = resource.get("Properties") if resource else None
    return props if isinstance(props, dict) else {}


def _intrinsic(value: Any) -> bool:
    """``{"Ref": ...}``, ``{"Fn::...": ...}`` or ``{"Condition": ...}``: a value CloudFormation computes."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def values_at(value: Any, parts: Sequence[str]) -> list[Any]:
    """The values at a property path (``A.B``, ``List.*.C``); an intrinsic on the way stands for its subtree."""
    if not parts:
        return [value]
    if _intrinsic(value):
        return [value]
    head, rest = parts[0], parts[1:]
    if head == "*":
        if isinstance(value, list):
            return [found for item in value for found in values_at(item, rest)]
        return [] if value is None else [value]
    if isinstance(value, dict):
        return values_at(value[head], rest) if head in value else []
    return [] if value is None else [value]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, Fn::Sub), pseudo parameters excluded."""
    found: set[str] = set()
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            if isinstance(item.get("Ref"), str) and len(item) == 1:
                found.add(item["Ref"])
            elif "Fn::GetAtt" in item and len(item) == 1:
                target = item["Fn::GetAtt"]
                name = target[0] if isinstance(target, list) and target else str(target).split(".")[0]
                if isinstance(name, str):
                    found.add(name)
            elif "Fn::Sub" in item and len(item) == 1:
                body = item["Fn::Sub"]
                text, variables = (body[0], body[1]) if isinstance(body, list) and len(body) == 2 else (body, {})
                if isinstance(text, str):
                    names = set(_SUB_REFERENCE.findall(text))
                    found |= names - set(variables if isinstance(variables, dict) else {})
                if isinstance(variables, dict):
                    stack.extend(variables.values())
            else:
                stack.extend(item.values())
    return {name for name in found if not name.startswith("AWS::")}


def _normalized(value: Any, paths: Mapping[str, str]) -> Any:
    """``value`` with each reference to a logical id replaced by that resource's construct path.

    Policy documents and rules are compared across base and head this way, so a resource whose
    logical id changed (same construct path) does not make every statement naming it look new.
    """
    if isinstance(value, list):
        return [_normalized(v, paths) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1 and isinstance(value.get("Ref"), str):
        return {"Ref": paths.get(value["Ref"], value["Ref"])}
    if len(value) == 1 and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        parts = list(target) if isinstance(target, list) else str(target).split(".", 1)
        if parts and isinstance(parts[0], str):
            parts[0] = paths.get(parts[0], parts[0])
        return {"Fn::GetAtt": parts}
    if len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
        return {
            "Fn::Sub": _SUB_REFERENCE.sub(
                lambda m: m.group(0).replace(m.group(1), paths.get(m.group(1), m.group(1))), value["Fn::Sub"]
            )
        }
    return {k: _normalized(v, paths) for k, v in value.items()}


# ------------------------------------------------------------------------------------------- comparison


@dataclass(kw_only=True)
class _Side:
    stack: StackTemplate | None

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.stack.resources if self.stack is not None else {}

    def path(self, logical_id: str) -> str:
        return self.stack.construct_path(logical_id) if self.stack is not None else ""

    @functools.cached_property
    def paths(self) -> dict[str, str]:
        """Logical id -> construct path (read for every changed resource: built once)."""
        return {lid: path for lid in self.resources if (path := self.path(lid))}


@dataclass(kw_only=True)
class _Pending:
    """A change being worked out for one head resource (or one removed base resource)."""

    logical_id: str
    base_id: str  # "" for an addition
    action: str
    properties: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)


def compare_assemblies(
    base: CloudAssembly, head: CloudAssembly, *, rules: ChangeRules, head_sources: SourceMap | None = None
) -> list[Change]:
    """Every resource that differs between ``base`` and ``head``, stack by stack (matched by stack id)."""
    base_stacks = {s.stack_id: s for s in base.stacks}
    head_stacks = {s.stack_id: s for s in head.stacks}
    changes: list[Change] = []
    for stack_id in sorted(set(base_stacks) | set(head_stacks)):
        old, new = _Side(stack=base_stacks.get(stack_id)), _Side(stack=head_stacks.get(stack_id))
        changes += _compare_stack(stack_id, old, new, rules=rules, sources=head_sources)
    return sorted(changes, key=Change.sort_key)


def _compare_stack(
    stack_id: str, old: _Side, new: _Side, *, rules: ChangeRules, sources: SourceMap | None
) -> list[Change]:
    pending: dict[str, _Pending] = {}  # head logical id -> change (additions, modifications, replacements)
    removed = sorted(set(old.resources) - set(new.resources))
    added = sorted(set(new.resources) - set(old.resources))
    for logical_id in sorted(set(old.resources) & set(new.resources)):
        found = _diff(old.resources[logical_id], new.resources[logical_id], rules=rules)
        if found is not None:
            properties, causes = found
            pending[logical_id] = _Pending(
                logical_id=logical_id, base_id=logical_id, action="replace" if causes else "modify",
                properties=properties, causes=causes,
            )  # fmt: skip
    pairs = _pair(removed, added, old=old, new=new, rules=rules)
    for base_id, head_id in pairs.items():
        moved = old.path(base_id) != new.path(head_id)
        cause = f"logical id changed from {base_id} to {head_id}" + (
            f" (construct moved from {old.path(base_id) or '?'} to {new.path(head_id) or '?'})" if moved else ""
        )
        found = _diff(old.resources[base_id], new.resources[head_id], rules=rules)
        properties = found[0] if found is not None else []
        pending[head_id] = _Pending(logical_id=head_id, base_id=base_id, action="replace", properties=properties,
                                    causes=[cause, *(found[1] if found is not None else [])])  # fmt: skip
    for head_id in added:
        if head_id not in pending:
            pending[head_id] = _Pending(logical_id=head_id, base_id="", action="add")
    _cascade(pending, new=new, rules=rules)
    changes = [_change(stack_id, p, old=old, new=new, rules=rules, sources=sources) for p in pending.values()]
    paired = set(pairs)
    for base_id in removed:
        if base_id in paired:
            continue
        resource_type = str(old.resources[base_id].get("Type", ""))
        path = old.path(base_id)
        where = sources.locate(path) if sources is not None and path else None  # the nearest surviving ancestor
        changes.append(
            Change(
                stack=stack_id,
                logical_id=base_id,
                construct_path=path,
                resource_type=resource_type,
                action="remove",
                stateful=resource_type in rules.stateful,
                stateful_reason=rules.stateful.get(resource_type, ""),
                code_file=where.file if where else "",
                code_line=where.line if where else 0,
            )
        )
    return changes


def _diff(
    before: Mapping[str, Any], after: Mapping[str, Any], *, rules: ChangeRules
) -> tuple[list[str], list[str]] | None:
    """(changed properties and attributes, replacement causes) of one resource, or None when equal."""
    old_type, new_type = str(before.get("Type", "")), str(after.get("Type", ""))
    old_props = _properties(before)
    new_props = _properties(after)
    properties = sorted(
        k for k in set(old_props) | set(new_props) if _canonical(old_props.get(k)) != _canonical(new_props.get(k))
    )
    properties += [a for a in ATTRIBUTES if _canonical(before.get(a)) != _canonical(after.get(a))]
    causes: list[str] = []
    if old_type != new_type:
        causes.append(f"type changed from {old_type} to {new_type}")
    else:
        for path in rules.create_only.get(new_type, ()):
            parts = path.split(".")
            if parts[0] in properties and _canonical(values_at(old_props, parts)) != _canonical(
                values_at(new_props, parts)
            ):
                causes.append(f"create-only property {path} changed")
    if not properties and not causes:
        return None
    return properties, causes


def _physical_names(resource: Mapping[str, Any], rules: ChangeRules) -> set[tuple[str, str]]:
    props = _properties(resource)
    resource_type = str(resource.get("Type", ""))
    return {
        (path, value)
        for path in rules.create_only.get(resource_type, ())
        if "." not in path and _PHYSICAL_NAME.search(path)
        for value in [props.get(path)]
        if isinstance(value, str) and value
    }


def _tail(path: str) -> str:
    return "/".join(path.split("/")[-2:]) if path.count("/") >= 2 else ""


def _pair(
    removed: Sequence[str], added: Sequence[str], *, old: _Side, new: _Side, rules: ChangeRules
) -> dict[str, str]:
    """Removed base id -> added head id, for removals and additions that are one resource whose logical id changed."""
    pairs: dict[str, str] = {}

    def type_of(side: _Side, logical_id: str) -> str:
        return str(side.resources[logical_id].get("Type", ""))

    matchers = (
        lambda side, lid: side.path(lid),  # same construct path (e.g. overrideLogicalId changed)
        lambda side, lid: (
            _canonical(sorted(_physical_names(side.resources[lid], rules)))
            if _physical_names(side.resources[lid], rules)
            else ""
        ),
        lambda side, lid: _tail(side.path(lid)),  # the construct moved, keeping its own id
    )
    for key_of in matchers:
        left = [lid for lid in removed if lid not in pairs]
        right = [lid for lid in added if lid not in pairs.values()]
        keyed_left: dict[tuple[str, str], list[str]] = {}
        keyed_right: dict[tuple[str, str], list[str]] = {}
        for lid in left:
            if key := key_of(old, lid):
                keyed_left.setdefault((type_of(old, lid), key), []).append(lid)
        for lid in right:
            if key := key_of(new, lid):
                keyed_right.setdefault((type_of(new, lid), key), []).append(lid)
        for key, olds in sorted(keyed_left.items()):
            news = keyed_right.get(key, [])
            if len(olds) == 1 and len(news) == 1:  # only an unambiguous match is a pair
                pairs[olds[0]] = news[0]
    return pairs


def _cascade(pending: dict[str, _Pending], *, new: _Side, rules: ChangeRules) -> None:
    """A create-only property that references a replaced resource changes at deploy time: replaced too."""
    replaced = {lid for lid, p in pending.items() if p.action == "replace"}
    changed = True
    while changed:
        changed = False
        for logical_id, resource in sorted(new.resources.items()):
            current = pending.get(logical_id)
            if current is not None and current.action in ("replace", "add"):
                continue
            props = _properties(resource)
            for path in rules.create_only.get(str(resource.get("Type", "")), ()):
                hit = sorted(references(values_at(props, path.split("."))) & replaced)
                if hit:
                    entry = current or _Pending(logical_id=logical_id, base_id=logical_id, action="modify")
                    entry.action = "replace"
                    entry.causes.append(f"create-only property {path} references {hit[0]}, which is replaced")
                    if path.split(".")[0] not in entry.properties:
                        entry.properties.append(path.split(".")[0])
                    pending[logical_id] = entry
                    replaced.add(logical_id)
                    changed = True
                    break


def _change(
    stack_id: str, p: _Pending, *, old: _Side, new: _Side, rules: ChangeRules, sources: SourceMap | None
) -> Change:
    resource = new.resources[p.logical_id]
    resource_type = str(resource.get("Type", ""))
    base_resource = old.resources.get(p.base_id) if p.base_id else None
    base_type = str(base_resource.get("Type", "")) if base_resource else ""
    stateful_type = next((t for t in (resource_type, base_type) if t in rules.stateful), "")
    path = new.path(p.logical_id)
    where = sources.locate(path) if sources is not None and path else None
    renamed = bool(p.base_id) and p.base_id != p.logical_id
    return Change(
        stack=stack_id,
        logical_id=p.logical_id,
        construct_path=path,
        resource_type=resource_type,
        action=p.action,
        properties=tuple(sorted(set(p.properties), key=lambda name: (name in ATTRIBUTES, name))),
        causes=tuple(p.causes),
        stateful=bool(stateful_type),
        stateful_reason=rules.stateful.get(stateful_type, ""),
        base_logical_id=p.base_id if renamed else "",
        base_construct_path=old.path(p.base_id) if renamed else "",
        broadening=tuple(_broadening(base_resource, resource, old=old, new=new, rules=rules)),
        code_file=where.file if where else "",
        code_line=where.line if where else 0,
    )


# ------------------------------------------------------------------------------------------- broadening


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _words(value: Any) -> list[str]:
    return sorted({v if isinstance(v, str) else _canonical(v) for v in _as_list(value)})


def _principals(principal: Any) -> list[str]:
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, dict) and not _intrinsic(principal):
        return sorted(f"{kind}:{who}" for kind, value in principal.items() for who in _words(value))
    return [_canonical(principal)]


@dataclass(frozen=True, kw_only=True)
class _Statement:
    key: str  # canonical form, for set comparison
    actions: tuple[str, ...]
    principals: tuple[str, ...]
    resources: tuple[str, ...]
    conditional: bool


def _statements(
    resource: Mapping[str, Any] | None, *, paths: Mapping[str, str], rules: ChangeRules
) -> list[_Statement]:
    if not resource:
        return []
    props = _properties(resource)
    resource_type = str(resource.get("Type", ""))
    attached = [
        f"attached:{w}" for key in ("Roles", "Users", "Groups") for w in _words(_normalized(props.get(key), paths))
    ]
    found: list[_Statement] = []
    for path in rules.policy_properties.get(resource_type, ()):
        for document in values_at(props, path.split(".")):
            if not isinstance(document, dict) or "Statement" not in document:
                continue
            for statement in _as_list(document["Statement"]):
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    continue  # a Deny (or an unreadable statement) never broadens
                normalized = _normalized({k: v for k, v in statement.items() if k != "Sid"}, paths)
                actions = _words(normalized.get("Action")) + [
                    f"NotAction:{a}" for a in _words(normalized.get("NotAction"))
                ]
                principals = _principals(normalized.get("Principal")) + [
                    f"NotPrincipal:{p}" for p in _principals(normalized.get("NotPrincipal"))
                ]
                found.append(
                    _Statement(
                        key=_canonical(normalized),
                        actions=tuple(actions),
                        principals=tuple(principals or attached),
                        resources=tuple(
                            _words(normalized.get("Resource"))
                            + [f"NotResource:{r}" for r in _words(normalized.get("NotResource"))]
                        ),
                        conditional="Condition" in normalized,
                    )
                )
    return found


def _rules_of(resource: Mapping[str, Any] | None, *, paths: Mapping[str, str]) -> dict[str, tuple[str, str, bool]]:
    """Security group rules of a resource: canonical key -> (direction, text, open to anywhere)."""
    if not resource:
        return {}
    props = _properties(resource)
    resource_type = str(resource.get("Type", ""))
    rules: list[tuple[str, Mapping[str, Any]]] = []
    if resource_type == "AWS::EC2::SecurityGroup":
        rules += [("ingress", r) for r in _as_list(props.get("SecurityGroupIngress")) if isinstance(r, dict)]
        rules += [("egress", r) for r in _as_list(props.get("SecurityGroupEgress")) if isinstance(r, dict)]
    elif resource_type == "AWS::EC2::SecurityGroupIngress":
        rules.append(("ingress", props))
    elif resource_type == "AWS::EC2::SecurityGroupEgress":
        rules.append(("egress", props))
    found: dict[str, tuple[str, str, bool]] = {}
    for direction, rule in rules:
        normalized = _normalized({k: v for k, v in rule.items() if k != "Description"}, paths)
        peer = next((normalized[k] for k in _PEER_KEYS if k in normalized), None)
        peer_text = peer if isinstance(peer, str) else _canonical(peer) if peer is not None else "?"
        protocol = str(normalized.get("IpProtocol", "?"))
        ports = f"{normalized.get('FromPort', '')}" + (
            f"-{normalized.get('ToPort')}" if normalized.get("ToPort") not in (None, normalized.get("FromPort")) else ""
        )
        what = "all traffic" if protocol == "-1" else f"{protocol} {ports}".strip()
        anywhere = peer_text in _ANYWHERE
        text = f"{direction} {what} {'from' if direction == 'ingress' else 'to'} {peer_text}" + (
            " (anywhere)" if anywhere else ""
        )
        found[_canonical([direction, normalized])] = (direction, text, anywhere)
    return found


def _principal_values(resource: Mapping[str, Any] | None, *, paths: Mapping[str, str], rules: ChangeRules) -> set[str]:
    if not resource:
        return set()
    props = _properties(resource)
    return {
        f"{path}: {v if isinstance(v, str) else _canonical(v)}"
        for path in rules.principal_properties.get(str(resource.get("Type", "")), ())
        for v in values_at(_normalized(props, paths), path.split("."))
    }


def _broadening(
    before: Mapping[str, Any] | None, after: Mapping[str, Any], *, old: _Side, new: _Side, rules: ChangeRules
) -> Iterator[Broadening]:
    old_statements = _statements(before, paths=old.paths, rules=rules)
    old_keys = {s.key for s in old_statements}
    old_actions = {a for s in old_statements for a in s.actions}
    old_principals = {p for s in old_statements for p in s.principals}
    for statement in sorted(_statements(after, paths=new.paths, rules=rules), key=lambda s: s.key):
        if statement.key in old_keys:
            continue
        new_actions = tuple(a for a in statement.actions if a not in old_actions)
        new_principals = tuple(p for p in statement.principals if p not in old_principals)
        text = (
            f"Allow {', '.join(statement.actions) or '-'} to {', '.join(statement.principals) or '-'} "
            f"on {', '.join(statement.resources) or '-'}" + (" (with a condition)" if statement.conditional else "")
        )
        yield Broadening(kind="iam", text=text, new_actions=new_actions, new_principals=new_principals)
    for value in sorted(
        _principal_values(after, paths=new.paths, rules=rules) - _principal_values(before, paths=old.paths, rules=rules)
    ):
        yield Broadening(kind="principal", text=f"new principal {value}", new_principals=(value,))
    old_rules = _rules_of(before, paths=old.paths)
    for key, (direction, text, anywhere) in sorted(_rules_of(after, paths=new.paths).items()):
        if key not in old_rules:
            yield Broadening(kind=direction, text=text, anywhere=anywhere)


# ------------------------------------------------------------------------------------------- findings


def change_findings(
    changes: Iterable[Change], *, rules: ChangeRules, book: WaiverBook, head: CloudAssembly, base: CloudAssembly
) -> list[Finding]:
    """One gating finding per replaced or removed stateful resource, through the waivers (tool ``change``).

    A waiver may name the resource as it is at head or, for a removal or a changed logical id,
    as it was at the base (each side's StackTemplate.subject, as for every other waiver match).
    """
    heads = {s.stack_id: s for s in head.stacks}
    bases = {s.stack_id: s for s in base.stacks}
    findings = []
    for change in changes:
        if not change.gated:
            continue
        policy = rules.policies[change.action]
        stack = heads.get(change.stack)
        base_id = change.logical_id if change.action == "remove" else change.base_logical_id
        subjects = [
            side.subject(logical_id)
            for side, logical_id in ((stack, change.logical_id), (bases.get(change.stack), base_id))
            if side is not None and logical_id in side.resources
        ]
        waiver = next(
            (w for s in subjects if (w := book.match(tools=[Tool.CHANGE], rule=policy.id, subject=s)) is not None), None
        )
        verb = "replaces" if change.action == "replace" else "removes"
        why = f" ({'; '.join(change.causes)})" if change.causes else ""
        message = (
            f"{verb} the stateful {change.resource_type} {change.logical_id}"
            f"{f' at {change.construct_path}' if change.construct_path else ''}{why}: {change.stateful_reason}"
        )
        judgement = book.judge(status=Status.FAILED, message=message, waiver=waiver)
        findings.append(
            Finding(
                source=Source.CHANGE,
                rule_id=policy.id,
                status=judgement.status,
                title=policy.title,
                assembly=head.label,
                stack=change.stack,
                template=stack.relpath if stack is not None and change.action != "remove" else "",
                logical_id=change.logical_id,
                construct_path=change.construct_path,
                resource_type=change.resource_type,
                message=judgement.message,
                severity=policy.severity,
                remediation=policy.remediation,
                waiver_id=judgement.waiver_id,
                waiver_expires=judgement.waiver_expires,
                code_file=change.code_file,
                code_line=change.code_line,
            )
        )
    return findings
