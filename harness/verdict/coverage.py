"""The coverage contract: every policy gave a verdict on every resource it applies to, in every world.

- Each policy declares the resource types it applies to (``*`` for all); a resource of such a
  type, in any deploy-time world, without a verdict of that policy is NOT EVALUATED (the
  check did not load, crashed, or decided by itself that the resource does not concern it).
- "Must exist" policies declare ``requires``: at least one resource of each such type must
  exist in every world of the assembly. A required resource behind a ``Condition`` exists
  only in some worlds and does not satisfy the requirement.
- YAML policies read attributes checkov renders its own way; the shared resolver decides
  here whether the template determines them. Where it does not, the verdict is NOT
  EVALUATED whatever checkov concluded (see harness.verdict.judge.checkov_findings).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalog import Policy
from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly
from harness.reading.worlds import Expansion, ScanTarget
from policies.lib import cfn_resolver as cfn

ALL_TYPES = "*"


@dataclass(frozen=True, kw_only=True)
class PolicyCoverage:
    """How many resources a policy applies to, and how many it judged (for the reports)."""

    policy: str
    resources: int
    judged: int


def applies(policy: Policy, resource_type: str) -> bool:
    return ALL_TYPES in policy.resource_types or resource_type in policy.resource_types


def _resources(target: ScanTarget) -> Mapping[str, Any]:
    resources = target.body.get("Resources")
    return resources if isinstance(resources, Mapping) else {}


def attribute_value(resolver: cfn.Resolver, logical_id: str, attribute: str) -> Any:
    """A checkov attribute (dotted, where keys may hold dots: ``Parameters.rds.force_ssl``), resolved."""
    value: Any = resolver.value(dict(resolver.properties(logical_id)))
    parts = attribute.split(".")
    while parts:
        if isinstance(value, cfn.Unknown):
            return value
        if isinstance(value, list) and parts[0].isdigit():
            index = int(parts.pop(0))
            value = value[index] if index < len(value) else cfn.NO_VALUE
            continue
        if not isinstance(value, Mapping):
            return cfn.NO_VALUE
        for width in range(len(parts), 0, -1):  # the longest key that matches wins
            key = ".".join(parts[:width])
            if key in value:
                value, parts = value[key], parts[width:]
                break
        else:
            return cfn.NO_VALUE
    return value


def unresolved_attributes(policies: Sequence[Policy], expansion: Expansion) -> dict[tuple[str, Path, str], str]:
    """(policy, world file, logical id) -> reason, for YAML policies reading a value the template leaves open."""
    found: dict[tuple[str, Path, str], str] = {}
    yaml_policies = [p for p in policies if p.engine == "yaml" and p.attributes]
    for target in expansion.targets:
        resolver = target.resolver()
        for logical_id, resource in sorted(_resources(target).items()):
            kind = str(resource.get("Type", "")) if isinstance(resource, Mapping) else ""
            for policy in yaml_policies:
                if not applies(policy, kind):
                    continue
                for attribute in policy.attributes:
                    unknown = cfn.unknowns(attribute_value(resolver, logical_id, attribute))
                    if unknown:
                        found[(policy.id, target.path, logical_id)] = f"{attribute}: {unknown[0].reason}"
                        break
    return found


def coverage_findings(
    policies: Sequence[Policy],
    *,
    assemblies: Sequence[CloudAssembly],
    expansion: Expansion,
    judged: Mapping[tuple[str, Path, str], Status],
) -> tuple[list[Finding], list[PolicyCoverage]]:
    findings: list[Finding] = []
    applicable: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    verdicts: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for target in expansion.targets:
        stack = target.stack
        for logical_id, resource in sorted(_resources(target).items()):
            kind = str(resource.get("Type", "")) if isinstance(resource, Mapping) else ""
            for policy in policies:
                if not applies(policy, kind):
                    continue
                resource_key = (stack.assembly, stack.stack_id, logical_id)
                applicable[policy.id].add(resource_key)
                if (policy.id, target.path, logical_id) in judged:
                    verdicts[policy.id].add(resource_key)
                    continue
                where = f" when {target.label}" if target.label else ""
                findings.append(
                    Finding(
                        source=Source.PROJECT,
                        rule_id=policy.id,
                        status=Status.NOT_EVALUATED,
                        title=policy.title,
                        assembly=stack.assembly,
                        stack=stack.stack_id,
                        template=stack.relpath,
                        logical_id=logical_id,
                        construct_path=stack.construct_path(logical_id),
                        resource_type=kind,
                        message=f"{policy.id} gave no verdict on this {kind}{where}: the check did not load, "
                        "crashed, or did not apply itself to a resource type it declares",
                        severity=str(policy.severity),
                        remediation=policy.remediation,
                        world=target.label,
                    )
                )
    findings += _missing_required(policies, assemblies=assemblies, expansion=expansion)
    coverage = [
        PolicyCoverage(policy=p.id, resources=len(applicable[p.id]), judged=len(verdicts[p.id])) for p in policies
    ]
    return findings, coverage


def _missing_required(
    policies: Sequence[Policy], *, assemblies: Sequence[CloudAssembly], expansion: Expansion
) -> list[Finding]:
    findings: list[Finding] = []
    for assembly in assemblies:
        always: set[str] = set()  # types with a resource in every world of its template
        sometimes: dict[str, list[str]] = defaultdict(list)
        for stack in assembly.stacks:
            targets = expansion.of(stack)
            for logical_id, resource in stack.resources.items():
                kind = str(resource.get("Type", ""))
                present = [logical_id in _resources(t) for t in targets]
                if present and all(present):
                    always.add(kind)
                elif any(present):
                    sometimes[kind].append(f"{stack.stack_id}/{logical_id}")
        for policy in policies:
            for kind in policy.requires:
                if kind in always:
                    continue
                conditional = sometimes.get(kind)
                detail = (
                    f"{', '.join(sorted(conditional))} exists only in some deploy-time worlds (behind a Condition)"
                    if conditional
                    else "the assembly has none"
                )
                findings.append(
                    Finding(
                        source=Source.PROJECT,
                        rule_id=policy.id,
                        status=Status.FAILED,
                        title=policy.title,
                        assembly=assembly.label,
                        resource_type=kind,
                        message=f"{policy.id} needs a {kind} in every deploy-time world: {detail}",
                        severity=str(policy.severity),
                        remediation=policy.remediation,
                    )
                )
    return findings
