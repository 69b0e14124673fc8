"""Template values as a change reads them, and the security broadening between two versions of a resource.

Canonical forms and references of raw template values (a value written with a logical id reads
the same after the id changes: it is normalized to the construct path), and what the head
widens that the base did not allow: new IAM statements, principals, ingress and egress rules
(reported, as ``cdk diff`` shows them; not gated).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.comparison.change_rules import ChangeRules

_SUB_REFERENCE = re.compile(r"\$\{(?!!)([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")
_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
_PEER_KEYS = (
    "CidrIp", "CidrIpv6", "SourceSecurityGroupId", "SourceSecurityGroupName", "SourcePrefixListId",
    "DestinationSecurityGroupId", "DestinationPrefixListId",
)  # fmt: skip


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


# ------------------------------------------------------------------------------------------- values


def properties_of(resource: Mapping[str, Any] | None) -> dict[str, Any]:
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


def canonical(value: Any) -> str:
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


def normalized_value(value: Any, paths: Mapping[str, str]) -> Any:
    """``value`` with each reference to a logical id replaced by that resource's construct path.

    Policy documents and rules are compared across base and head this way, so a resource whose
    logical id changed (same construct path) does not make every statement naming it look new.
    """
    if isinstance(value, list):
        return [normalized_value(v, paths) for v in value]
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
    return {k: normalized_value(v, paths) for k, v in value.items()}


# ------------------------------------------------------------------------------------------- broadening


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _words(value: Any) -> list[str]:
    return sorted({v if isinstance(v, str) else canonical(v) for v in _as_list(value)})


def _principals(principal: Any) -> list[str]:
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, dict) and not _intrinsic(principal):
        return sorted(f"{kind}:{who}" for kind, value in principal.items() for who in _words(value))
    return [canonical(principal)]


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
    props = properties_of(resource)
    resource_type = str(resource.get("Type", ""))
    attached = [
        f"attached:{w}" for key in ("Roles", "Users", "Groups") for w in _words(normalized_value(props.get(key), paths))
    ]
    found: list[_Statement] = []
    for path in rules.policy_properties.get(resource_type, ()):
        for document in values_at(props, path.split(".")):
            if not isinstance(document, dict) or "Statement" not in document:
                continue
            for statement in _as_list(document["Statement"]):
                if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                    continue  # a Deny (or an unreadable statement) never broadens
                normalized = normalized_value({k: v for k, v in statement.items() if k != "Sid"}, paths)
                actions = _words(normalized.get("Action")) + [
                    f"NotAction:{a}" for a in _words(normalized.get("NotAction"))
                ]
                principals = _principals(normalized.get("Principal")) + [
                    f"NotPrincipal:{p}" for p in _principals(normalized.get("NotPrincipal"))
                ]
                found.append(
                    _Statement(
                        key=canonical(normalized),
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
    props = properties_of(resource)
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
        normalized = normalized_value({k: v for k, v in rule.items() if k != "Description"}, paths)
        peer = next((normalized[k] for k in _PEER_KEYS if k in normalized), None)
        peer_text = peer if isinstance(peer, str) else canonical(peer) if peer is not None else "?"
        protocol = str(normalized.get("IpProtocol", "?"))
        ports = f"{normalized.get('FromPort', '')}" + (
            f"-{normalized.get('ToPort')}" if normalized.get("ToPort") not in (None, normalized.get("FromPort")) else ""
        )
        what = "all traffic" if protocol == "-1" else f"{protocol} {ports}".strip()
        anywhere = peer_text in _ANYWHERE
        text = f"{direction} {what} {'from' if direction == 'ingress' else 'to'} {peer_text}" + (
            " (anywhere)" if anywhere else ""
        )
        found[canonical([direction, normalized])] = (direction, text, anywhere)
    return found


def _principal_values(resource: Mapping[str, Any] | None, *, paths: Mapping[str, str], rules: ChangeRules) -> set[str]:
    if not resource:
        return set()
    props = properties_of(resource)
    return {
        f"{path}: {v if isinstance(v, str) else canonical(v)}"
        for path in rules.principal_properties.get(str(resource.get("Type", "")), ())
        for v in values_at(normalized_value(props, paths), path.split("."))
    }


def broadening(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any],
    *,
    old_paths: Mapping[str, str],
    new_paths: Mapping[str, str],
    rules: ChangeRules,
) -> Iterator[Broadening]:
    """What ``after`` allows that ``before`` did not (each side's logical id -> construct path normalizes its values)."""
    old_statements = _statements(before, paths=old_paths, rules=rules)
    old_keys = {s.key for s in old_statements}
    old_actions = {a for s in old_statements for a in s.actions}
    old_principals = {p for s in old_statements for p in s.principals}
    for statement in sorted(_statements(after, paths=new_paths, rules=rules), key=lambda s: s.key):
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
        _principal_values(after, paths=new_paths, rules=rules) - _principal_values(before, paths=old_paths, rules=rules)
    ):
        yield Broadening(kind="principal", text=f"new principal {value}", new_principals=(value,))
    old_rules = _rules_of(before, paths=old_paths)
    for key, (direction, text, anywhere) in sorted(_rules_of(after, paths=new_paths).items()):
        if key not in old_rules:
            yield Broadening(kind=direction, text=text, anywhere=anywhere)
