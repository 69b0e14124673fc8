"""A project policy's Python rule, run in this process (no checkov): the unit tier's way to judge a template.

``load_rule`` imports a rule file without registering a checkov check; ``verdicts`` judges
every resource the policy applies to, as the gate's world files present them (region
us-east-1, an account-agnostic stack).
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

from harness.catalog import CHECKS_DIR, Policy
from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

Template = dict[str, Any]
_RULES: dict[str, ModuleType] = {}


def load_rule(policy_id: str) -> ModuleType:
    if policy_id in _RULES:
        return _RULES[policy_id]
    (path,) = CHECKS_DIR.rglob(f"{policy_id.lower()}_*.py")
    spec = importlib.util.spec_from_file_location(f"stg_rule_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in a rule module look their module up while being defined
    make_check = lib.make_check
    lib.make_check = lambda metadata, rule: None  # type: ignore[assignment]
    try:
        spec.loader.exec_module(module)
    finally:
        lib.make_check = make_check  # type: ignore[assignment]
    _RULES[policy_id] = module
    return module


def as_world(template: Template) -> Template:
    """The template as the gate's single world file carries it: the stack's environment in its metadata."""
    metadata = dict(template.get("Metadata") or {})
    metadata[cfn.WORLD_METADATA_KEY] = {"world": {}, "environment": {"region": "us-east-1"}}
    return {**template, "Metadata": metadata}


def verdicts(policy: Policy, template: Template) -> dict[str, lib.Verdict]:
    """logical id -> the policy's verdict, for every resource of a type the policy declares."""
    rule = load_rule(policy.id).rule
    world = as_world(template)
    context = lib.Context(world, raw=world)
    found = {}
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        if "*" in policy.resource_types or resource.get("Type") in policy.resource_types:
            verdict = rule(context, logical_id)
            assert isinstance(verdict, lib.Verdict)
            found[logical_id] = verdict
    return found
