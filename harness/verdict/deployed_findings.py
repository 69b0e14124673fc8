"""The findings of what deploys (harness.reading.deployed): ``gate:deployed-template`` and ``gate:asset``.

harness.reading.deployed chooses, while an assembly is read, the template file each stack deploys and
notes what it found; these are its notes, and every asset reference of a resource, as findings.
Apart from harness.reading.deployed because they read the loaded assembly (harness.reading.assembly), which
itself reads its stacks through harness.reading.deployed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from harness.model import Finding, Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.deployed import RULE_ASSET, RULE_DEPLOYED, DeployNote

RULE_TITLES = {
    RULE_DEPLOYED: "the template judged is the one cdk deploy publishes (asset manifest entry, matched by SHA-256)",
    RULE_ASSET: "every asset a template references is published from the assembly, under its content hash",
}
REMEDIATION = {
    RULE_DEPLOYED: "synthesize again (cdk synth / nox -s synth) and gate the assembly as written; never edit cdk.out by hand",
    RULE_ASSET: "reference only assets CDK staged in this assembly (Code.fromAsset, DockerImageAsset); synthesize again",
}
# A content hash as the last segment of an S3 key or URL, or as an image tag.
_ASSET_REFERENCE = re.compile(r"(?:^|[/:])([0-9a-f]{64})(?:\.[A-Za-z0-9]+)?$")


def deployment_findings(assemblies: Sequence[CloudAssembly]) -> list[Finding]:
    """What each template deploys (``gate:deployed-template``) and the assets it references (``gate:asset``)."""
    findings: list[Finding] = []
    for assembly in assemblies:
        for stack in assembly.stacks:
            findings += [_note_finding(stack, note) for note in stack.deploy_notes]
            findings += [_finding(stack, RULE_ASSET, m) for m in stack.assets.problems if not stack.parent]
            findings += list(_reference_findings(stack))
    return findings


def _finding(stack: StackTemplate, rule: str, message: str, logical_id: str = "", *, passed: bool = False) -> Finding:
    status = Status.PASSED if passed else Status.NOT_EVALUATED
    return stack.gate_finding(
        rule=rule,
        status=status,
        title=RULE_TITLES[rule],
        remediation=REMEDIATION[rule],
        message=message,
        logical_id=logical_id,
    )


def _note_finding(stack: StackTemplate, note: DeployNote) -> Finding:
    return _finding(stack, note.rule, note.message, note.logical_id, passed=note.passed)


def _reference_findings(stack: StackTemplate) -> Iterator[Finding]:
    """Each content hash a resource's properties reference must be an asset of the assembly, published under it."""
    known = stack.assets.by_hash
    for logical_id, resource in sorted(stack.resources.items()):
        reported: set[str] = set()
        for where, named in _references(resource.get("Properties"), "Properties"):
            if named in reported:
                continue
            reported.add(named)
            assets = known.get(named, [])
            if not assets:
                yield _finding(
                    stack, RULE_ASSET, f"{where} references content {named}, which no asset manifest of the stack "
                    "publishes: the object it names is not in the assembly", logical_id,
                )  # fmt: skip
                continue
            problems = {stack.assets.problem(asset, location) for asset, location in assets}
            for problem in sorted(p for p in problems if p):
                yield _finding(stack, RULE_ASSET, f"{where}: {problem}", logical_id)


def _references(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(property path, content hash) of every string that ends in an asset-like name, intrinsics included."""
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            found = _ASSET_REFERENCE.search(item)
            if found:
                yield path, found.group(1)
        elif isinstance(item, Mapping):
            pending.extend((v, f"{path}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            pending.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
