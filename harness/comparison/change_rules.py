"""The change policies (``policies/stateful.yaml``): which resource types are stateful, and the policy
that gates replacing or removing one (STG_CHG_1, STG_CHG_2), with the resource-type facts a
comparison needs (create-only, key, policy and principal properties, from ``cfn_types.json``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError

STATEFUL_FILE = "stateful.yaml"
FACTS_FILE = Path("lib") / "cfn_types.json"
GATED_ACTIONS = ("replace", "remove")
_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$")
_POLICY_ID = re.compile(r"^STG_CHG_\d+$")

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
