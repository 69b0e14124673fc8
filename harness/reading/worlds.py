"""Every template, as it deploys in each of its deploy-time worlds: the files every scanner reads.

A parameter with ``AllowedValues`` can be deployed with any of them, an undecidable
``Condition`` either way; checkov (and a casual reader) would judge only the defaults.
The gate therefore writes one file per world (``policies/lib/cfn_resolver.py`` decides what
a world is and how it evaluates), with the world and the environment in the template's
``Metadata`` so the project's Python policies resolve values exactly as the gate does.
checkov and the template-level cdk-nag judge these files; each verdict is mapped back to
the original template, resource and world. cfn-lint reads the original templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from policies.lib import cfn_resolver as cfn
from policies.lib import cfn_worlds

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, kw_only=True)
class ScanTarget:
    """One world of one template, written to ``path``."""

    stack: StackTemplate
    world: cfn.World
    index: int
    path: Path
    body: dict[str, Any]
    bindings: Mapping[str, Any]

    @property
    def environment(self) -> cfn.Environment:
        return environment_of(self.stack)

    @property
    def label(self) -> str:
        return self.world.describe()

    def resolver(self) -> cfn.Resolver:
        """A resolver over the world file (its choices are already substituted)."""
        return cfn.Resolver(self.body, environment=self.environment, bindings=self.bindings)


@dataclass(frozen=True, kw_only=True)
class Expansion:
    targets: list[ScanTarget]
    findings: list[Finding]

    def of(self, stack: StackTemplate) -> list[ScanTarget]:
        return [t for t in self.targets if t.stack is stack]

    def by_path(self) -> dict[Path, ScanTarget]:
        return {t.path: t for t in self.targets}


def environment_of(stack: StackTemplate) -> cfn.Environment:
    return cfn.Environment(region=stack.region, account=stack.account)


def expand(assemblies: Sequence[CloudAssembly], *, directory: Path, limit: int = cfn.DEFAULT_WORLD_LIMIT) -> Expansion:
    """Write every world of every template under ``directory``; parents before their nested stacks."""
    targets: list[ScanTarget] = []
    findings: list[Finding] = []
    by_stack: dict[tuple[str, str], list[ScanTarget]] = {}
    for number, assembly in enumerate(assemblies):
        for stack in assembly.stacks:
            parent_targets = by_stack.get((assembly.label, stack.parent), []) if stack.parent else []
            bindings = _bindings(stack, parent_targets)
            environment = environment_of(stack)
            try:
                worlds = cfn_worlds.worlds(stack.body, environment=environment, bindings=bindings, limit=limit)
            except cfn.TooManyWorldsError as error:
                findings.append(_too_many(stack, error))
                worlds = [cfn.World()]
            stack_targets = []
            for index, world in enumerate(worlds):
                body = cfn_worlds.evaluate(stack.body, world, environment=environment, bindings=bindings)
                body.setdefault("Metadata", {})
                if not isinstance(body["Metadata"], dict):
                    body["Metadata"] = {}
                body["Metadata"][cfn.WORLD_METADATA_KEY] = {
                    "source": str(stack.path),
                    "stack": stack.stack_id,
                    "world": world.as_json(),
                    "environment": {"region": environment.region, "account": environment.account},
                    "bindings": cfn.encode(dict(bindings)),
                }
                name = _UNSAFE.sub("_", f"{stack.stack_id}.w{index}") + ".template.json"
                path = directory / f"a{number}" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(body, indent=1), encoding="utf-8")
                stack_targets.append(
                    ScanTarget(stack=stack, world=world, index=index, path=path, body=body, bindings=bindings)
                )
            by_stack[(assembly.label, stack.stack_id)] = stack_targets
            targets += stack_targets
    return Expansion(targets=targets, findings=findings)


def _bindings(stack: StackTemplate, parent_targets: Sequence[ScanTarget]) -> dict[str, Any]:
    """What a nested stack's parameters are bound to: the parent's expressions, resolved in its worlds."""
    if not stack.parent:
        return {}
    bindings: dict[str, Any] = {}
    parameters = stack.body.get("Parameters")
    declared: dict[str, Any] = parameters if isinstance(parameters, dict) else {}
    for name in declared:
        if name not in stack.parent_parameters:
            continue  # the parameter's own declaration (Default, AllowedValues) decides
        values = []
        for target in parent_targets:
            resolver = cfn.Resolver(
                target.stack.body, environment=target.environment, world=target.world, bindings=target.bindings
            )
            values.append(_from_parent(resolver.value(stack.parent_parameters[name])))
        if values and all(v == values[0] for v in values):
            bindings[name] = values[0]
        else:
            bindings[name] = cfn.Unknown(f"parameter {name} varies with the parent stack's deploy-time choices")
    return bindings


def _from_parent(value: Any) -> Any:
    if isinstance(value, cfn.Symbol):
        return cfn.Symbol(value.kind, value.name, value.attribute, value.resource_type, "parent")
    if isinstance(value, cfn.Text):
        return cfn.Text(tuple(_from_parent(p) for p in value.parts))
    if isinstance(value, dict):
        return {k: _from_parent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_parent(v) for v in value]
    return value


def _too_many(stack: StackTemplate, error: cfn.TooManyWorldsError) -> Finding:
    return Finding(
        source=Source.GATE,
        rule_id="gate:deploy-time-choices",
        status=Status.NOT_EVALUATED,
        title="every deploy-time choice of a template can be enumerated",
        assembly=stack.assembly,
        stack=stack.stack_id,
        template=stack.relpath,
        message=f"{error}: policies see its parameters and conditions as unknown",
        remediation="fix values the spec fixes as literals; drop AllowedValues and Conditions the stack does not need",
    )
