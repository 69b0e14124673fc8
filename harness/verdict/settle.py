"""A value the gate's resolver determines is judged, even where a tool could not read its written form.

cdk-nag rules throw on an intrinsic they cannot read (NOT EVALUATED), and a checkov built-in
may fail a property written as an intrinsic or as a string form of a boolean or number
("true", "5432") that CloudFormation accepts. Where a project policy judges the same behaviour
on the resolved value (``policies/settled_by.yaml``), its verdict on the same resource settles
the tool's finding, and the finding says so: passed or failed as the policy concluded, with
the policy's id and reason. A checkov failure is settled only where a property the built-in
reads is written in such a form; a policy that did not decide (not evaluated, waived, absent)
settles nothing, so the tool's finding stands.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly

SETTLED_BY_FILE = "settled_by.yaml"
_TOOLS = {"cdk-nag": Source.CDK_NAG, "checkov": Source.CHECKOV}
_DECIDED = (Status.PASSED, Status.FAILED)


@dataclass(frozen=True, kw_only=True)
class Settlement:
    """The project policies that judge what a tool rule judges, and the properties the rule reads."""

    policies: tuple[str, ...]
    reads: tuple[str, ...] = ()


SettledBy = Mapping[tuple[Source, str], Settlement]


def load_settled_by(policies_dir: Path, *, known: Sequence[str]) -> dict[tuple[Source, str], Settlement]:
    """``policies/settled_by.yaml``; a malformed entry is one ValueError line naming the file and the entry."""
    path = policies_dir / SETTLED_BY_FILE
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[tuple[Source, str], Settlement] = {}
    for tool, rules in document.items() if isinstance(document, dict) else [("?", None)]:
        if tool not in _TOOLS or not isinstance(rules, dict):
            raise ValueError(f"{path}: {tool!r} must be one of {sorted(_TOOLS)} mapping rule ids to entries")
        for rule, entry in rules.items():
            policies = entry.get("policies") if isinstance(entry, dict) else None
            reads = entry.get("reads", []) if isinstance(entry, dict) else None
            valid = isinstance(policies, list) and policies and isinstance(reads, list)
            if not valid or any(p not in known for p in policies or []):
                raise ValueError(
                    f"{path}: {tool} {rule}: needs policies: [known project policy ids] and optional reads: "
                    f"[property names], e.g. {{policies: [CKV_STG_RDS_1], reads: [DeletionProtection]}}"
                )
            found[(_TOOLS[tool], str(rule))] = Settlement(
                policies=tuple(str(p) for p in policies or []), reads=tuple(str(r) for r in reads or [])
            )
    return found


def _rule_name(finding: Finding) -> str:
    """cdk-nag findings are namespaced (``AwsSolutions::AwsSolutions-RDS10``); the file names the rule."""
    return finding.rule_id.rsplit("::", 1)[-1]


def _written_indirectly(value: Any) -> bool:
    """An intrinsic, or a string standing for a boolean or a number (what CloudFormation converts)."""
    if isinstance(value, dict):
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        return text in ("true", "false") or text.replace(".", "", 1).lstrip("-").isdigit()
    return False


def _properties(assemblies: Sequence[CloudAssembly]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    found: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for assembly in assemblies:
        for stack in assembly.stacks:
            for logical_id, resource in (stack.body.get("Resources") or {}).items():
                properties = resource.get("Properties") if isinstance(resource, dict) else None
                found[(assembly.label, stack.stack_id, str(logical_id))] = properties or {}
    return found


def settle_tool_findings(
    findings: Sequence[Finding], *, settled_by: SettledBy, assemblies: Sequence[CloudAssembly]
) -> list[Finding]:
    """``findings`` with each unsettled tool verdict replaced by the project policies' verdict where they decide."""
    if not settled_by:
        return list(findings)
    project = {
        (f.rule_id, f.assembly, f.stack, f.logical_id): f
        for f in findings
        if f.source is Source.PROJECT and f.logical_id
    }
    properties = _properties(assemblies)
    settled = []
    for finding in findings:
        settlement = settled_by.get((finding.source, _rule_name(finding)))
        place = (finding.assembly, finding.stack, finding.logical_id)
        # A tool failure on a property written as an intrinsic is the tool's reading, not the value: cdk-nag
        # fails a Fn::FindInMap it cannot look up exactly as a checkov built-in does (entries with reads).
        unsettled = (finding.source is Source.CDK_NAG and finding.status is Status.NOT_EVALUATED) or (
            finding.status is Status.FAILED
            and settlement is not None
            and any(_written_indirectly(properties.get(place, {}).get(name)) for name in settlement.reads)
        )
        verdicts = [project.get((policy, *place)) for policy in settlement.policies] if settlement else []
        if not unsettled or not verdicts or any(v is None or v.status not in _DECIDED for v in verdicts):
            settled.append(finding)
            continue
        decided = [v for v in verdicts if v is not None]
        status = Status.FAILED if any(v.status is Status.FAILED for v in decided) else Status.PASSED
        because = "; ".join(f"{v.rule_id} {v.status}: {v.message}" if v.message else f"{v.rule_id} {v.status}"
                            for v in decided)  # fmt: skip
        settled.append(
            dataclasses.replace(
                finding,
                status=status,
                message=f"settled by the gate's resolved verdict ({because}); {finding.source} could not judge the "
                f"written form: {finding.message}",
                world=finding.world if status.gates else "",
            )
        )
    return settled
