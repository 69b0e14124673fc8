"""What a change does to the stack: every resource added, removed, modified or replaced against a base.

Replacement is computed the way CloudFormation decides it (what ``cdk diff`` shows as
``[-/+]``), from data the repository already has and nothing downloaded:

- a changed create-only property (``createOnlyProperties`` of the resource provider schema,
  shipped in cfn-lint's wheel and kept in ``policies/lib/cfn_types.json`` by
  ``python -m harness.reading.schema_facts``);
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
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Tool
from harness.comparison.change_rules import GATED_ACTIONS, ChangeRules
from harness.comparison.change_values import Broadening, references, values_at
from harness.comparison.change_values import broadening as _broadening
from harness.comparison.change_values import canonical as _canonical
from harness.comparison.change_values import properties_of as _properties
from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.sources import SourceMap
from harness.tools.waivers import WaiverBook

# Resource attributes whose change changes what is deployed (Metadata and DependsOn do not).
ATTRIBUTES = ("Condition", "CreationPolicy", "DeletionPolicy", "UpdatePolicy", "UpdateReplacePolicy")
_PHYSICAL_NAME = re.compile(r"(Name|Identifier)$")


# ------------------------------------------------------------------------------------------- records


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
        broadening=tuple(_broadening(base_resource, resource, old_paths=old.paths, new_paths=new.paths, rules=rules)),
        code_file=where.file if where else "",
        code_line=where.line if where else 0,
    )


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
