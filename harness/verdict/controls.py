"""Framework controls on every finding, and one status per control of each framework's scope.

Pure functions over the run's findings and the control mappings of ``policies/``:

* :func:`annotate` gives every finding ``controls = {framework key: [control ids]}`` (every
  framework key present, empty when no mapping covers the rule) for project policies and for the
  cdk-nag, checkov and cfn-lint rules a mapping names.
* :func:`roll_up` gives each control in a framework's reviewed scope one status:

  - ``not satisfied``: a mapped check failed (or warned) on some resource and no waiver covers it;
  - ``not evaluated``: a mapped check could not judge a resource, a mapped project policy gave no
    verdict in this run, the mapped tools did not run, or the template leaves content to deploy
    time (``gate:*`` findings) so no verdict of this run is about the deployed stack;
  - ``not satisfied: risk accepted``: every mapped check passed except where a waiver covers a
    finding: an accepted, owned, expiring exception is not a pass (the OSCAL assessment results
    record the waiver as an accepted risk, the POA&M as an item with its expiry as milestone);
  - ``satisfied``: every mapped check that produced evidence passed;
  - ``not assessed``: in scope, but no template-time check of the gate covers it (its reason says
    why); neither satisfied nor failed.

cdk-nag and cfn-lint report only violations, so a mapped rule of a pack or linter that ran and
reported nothing counts as passed ("ran, reported nothing"); checkov reports passes itself.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.catalog import ControlMapping, Framework, Tool, control_title
from harness.markdown import cell, natural_key
from harness.model import STATUS_ORDER, Finding, Source, Status

# Tools that report only violations: a rule of theirs without a finding ran clean.
VIOLATIONS_ONLY = frozenset({Tool.CDK_NAG, Tool.CFN_LINT, Tool.CHANGE})
_TOOL_OF_SOURCE = {
    Source.PROJECT: Tool.PROJECT,
    Source.CHECKOV: Tool.CHECKOV,
    Source.CDK_NAG: Tool.CDK_NAG,
    Source.CDK_VALIDATE: Tool.CDK_VALIDATE,
    Source.CFN_LINT: Tool.CFN_LINT,
    Source.CHANGE: Tool.CHANGE,
}
GATE_CONTENT_PREFIX = "gate:"


class ControlStatus(StrEnum):
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not satisfied"
    RISK_ACCEPTED = "not satisfied: risk accepted"  # only waived findings stand between it and satisfied
    NOT_EVALUATED = "not evaluated"
    NOT_ASSESSED = "not assessed"  # no template-time check covers it

    @property
    def satisfied(self) -> bool:
        return self is ControlStatus.SATISFIED


@dataclass(frozen=True, kw_only=True)
class CheckEvidence:
    """What one mapped check contributed to a control in this run."""

    tool: str
    check_id: str
    status: str  # worst finding status, or "passed" (ran, reported nothing), or "not-evaluated"
    findings: int  # findings of this check in the run (check x resource)
    failing: tuple[str, ...] = ()  # resources it failed or could not judge on
    waived_on: tuple[str, ...] = ()  # resources where a waiver covers its finding
    waivers: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ControlResult:
    framework: str  # framework key
    control: str
    status: ControlStatus
    reason: str  # one line
    checks: tuple[CheckEvidence, ...] = ()
    title: str = ""  # from NIST's catalog where available
    scope: str = ""  # why the control is in the stack's scope

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data


def rule_key(finding: Finding) -> tuple[Tool, str] | None:
    """(tool, check id as mappings name it) for a finding of a mapped tool, else None."""
    tool = _TOOL_OF_SOURCE.get(finding.source)
    if tool is None:
        return None
    rule = finding.rule_id
    if tool in (Tool.CDK_NAG, Tool.CDK_VALIDATE):
        rule = rule.split("::", 1)[-1].split("[", 1)[0]  # "Pack::Pack-Rule[finding]" -> "Pack-Rule"
    return tool, rule


def _index(mappings: Iterable[ControlMapping]) -> dict[tuple[Tool, str], dict[str, tuple[str, ...]]]:
    index: dict[tuple[Tool, str], dict[str, tuple[str, ...]]] = defaultdict(dict)
    for mapping in mappings:
        known = index[(mapping.tool, mapping.check_id)].get(mapping.framework_key, ())
        index[(mapping.tool, mapping.check_id)][mapping.framework_key] = tuple(
            dict.fromkeys((*known, *mapping.controls))
        )
    return index


def annotate(findings: Sequence[Finding], mappings: Sequence[ControlMapping], *, keys: Sequence[str]) -> list[Finding]:
    """Every finding with ``controls`` set: one entry per framework key, sorted control ids (empty when unmapped)."""
    index = _index(mappings)
    annotated = []
    for finding in findings:
        key = rule_key(finding)
        mapped = index.get(key, {}) if key is not None else {}
        controls = {k: sorted(mapped.get(k, ()), key=natural_key) for k in keys}
        annotated.append(dataclasses.replace(finding, controls=controls))
    return annotated


def _pack_of(rule: str) -> str:
    return rule.rsplit("-", 1)[0] if "-" in rule else rule


def _evidence(
    tool: Tool, check_id: str, findings: Sequence[Finding], *, ran: Collection[str], applicable: Mapping[str, int]
) -> CheckEvidence:
    if not findings and tool is Tool.PROJECT and applicable.get(check_id) == 0:
        return CheckEvidence(tool=tool.value, check_id=check_id, status="", findings=0,
                             note="applies to no resource of the gated templates")  # fmt: skip
    if not findings:
        owner = f"cdk-nag:{_pack_of(check_id)}" if tool is Tool.CDK_NAG else tool.value
        if tool in VIOLATIONS_ONLY and owner in ran:
            return CheckEvidence(tool=tool.value, check_id=check_id, status=Status.PASSED.value, findings=0,
                                 note="ran, reported nothing")  # fmt: skip
        if tool is Tool.PROJECT:
            note = "gave no verdict in this run"
        elif tool.value in ran:
            note = "applied to no resource in this run"
        elif tool is Tool.CHANGE:
            note = "did not run: the change policies judge a change, so they run only against a base (--base REF)"
        else:
            note = "did not run"
        status = "" if tool is Tool.CHECKOV and tool.value in ran else Status.NOT_EVALUATED.value
        return CheckEvidence(tool=tool.value, check_id=check_id, status=status, findings=0, note=note)
    worst = min(findings, key=lambda f: STATUS_ORDER[f.status]).status
    bad = sorted(
        {f.logical_id or f.template or f.assembly for f in findings if f.status.gates or f.status is Status.WARNING}
    )
    return CheckEvidence(
        tool=tool.value,
        check_id=check_id,
        status=worst.value,
        findings=len(findings),
        failing=tuple(bad),
        waivers=tuple(sorted({f.waiver_id for f in findings if f.status is Status.WAIVED and f.waiver_id})),
        waived_on=tuple(
            sorted({f.logical_id or f.template or f.assembly for f in findings if f.status is Status.WAIVED})
        ),
    )


def _status(checks: Sequence[CheckEvidence], blockers: Sequence[str]) -> tuple[ControlStatus, str]:
    failing = [c for c in checks if c.status in (Status.FAILED.value, Status.WARNING.value)]
    if failing:
        first = failing[0]
        return (
            ControlStatus.NOT_SATISFIED,
            f"{first.check_id} {first.status} on {', '.join(first.failing) or 'the template'}",
        )
    unjudged = [c for c in checks if c.status == Status.NOT_EVALUATED.value]
    if unjudged:
        first = unjudged[0]
        where = f" on {', '.join(first.failing)}" if first.failing else f": {first.note}" if first.note else ""
        return ControlStatus.NOT_EVALUATED, f"{first.check_id} could not judge{where}"
    evidence = [c for c in checks if c.status]
    if not evidence:
        return ControlStatus.NOT_EVALUATED, "no mapped check produced evidence in this run"
    if blockers:
        return ControlStatus.NOT_EVALUATED, "the template leaves content to deploy time: " + ", ".join(blockers)
    waived = [c for c in evidence if c.waived_on or c.waivers]
    if waived:
        accepted = "; ".join(f"{c.check_id} on {', '.join(c.waived_on) or 'the template'} ({', '.join(c.waivers)})"
                             for c in waived)  # fmt: skip
        return ControlStatus.RISK_ACCEPTED, f"waived, not passed: {accepted}"
    return ControlStatus.SATISFIED, f"passed: {', '.join(c.check_id for c in evidence)}"


def roll_up(
    findings: Sequence[Finding],
    mappings: Sequence[ControlMapping],
    frameworks: Sequence[Framework],
    *,
    ran: Collection[str],
    applicable: Mapping[str, int] | None = None,
) -> list[ControlResult]:
    """One status per control in each framework's scope (and per mapped control outside it, if any).

    ``ran`` names what ran in this run: ``checkov``, ``project``, ``cfn-lint`` and
    ``cdk-nag:<pack>`` per cdk-nag pack. ``applicable`` is, per project policy, how many resources
    of the gated templates it applies to (harness.verdict.coverage): a policy that applies to none gives no
    evidence either way; one that applies to some and gave no verdict is not evaluated.
    """
    by_check: dict[tuple[Tool, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        key = rule_key(finding)
        if key is not None:
            by_check[key].append(finding)
    blockers = sorted({f.rule_id for f in findings if f.source is Source.GATE and f.rule_id.startswith(GATE_CONTENT_PREFIX)
                       and f.status.gates})  # fmt: skip
    results = []
    for framework in frameworks:
        checks_of: dict[str, list[tuple[Tool, str]]] = defaultdict(list)
        for mapping in mappings:
            if mapping.framework_key == framework.key:
                for control in mapping.controls:
                    checks_of[control].append((mapping.tool, mapping.check_id))
        scope = {entry.control: entry.why for entry in framework.scope}
        for control in sorted(set(scope) | set(checks_of), key=natural_key):
            title = control_title(framework, control)
            mapped = sorted(set(checks_of.get(control, [])), key=lambda k: (k[0].value, natural_key(k[1])))
            if not mapped:
                results.append(
                    ControlResult(
                        framework=framework.key,
                        control=control,
                        status=ControlStatus.NOT_ASSESSED,
                        reason=scope.get(control, ""),
                        title=title,
                        scope=scope.get(control, ""),
                    )
                )
                continue
            checks = tuple(
                _evidence(tool, check, by_check.get((tool, check), []), ran=ran, applicable=applicable or {})
                for tool, check in mapped
            )
            status, reason = _status(checks, blockers)
            results.append(
                ControlResult(
                    framework=framework.key,
                    control=control,
                    status=status,
                    reason=reason,
                    checks=checks,
                    title=title,
                    scope=scope.get(control, "not in the reviewed scope"),
                )
            )
    return results


def tools_ran(tools: Iterable[Mapping[str, Any]]) -> set[str]:
    """What ran, from the reports' tool records: tool names and ``cdk-nag:<pack>`` per pack that ran."""
    ran: set[str] = set()
    for tool in tools:
        ran.add(str(tool.get("tool", "")))
        for pack in tool.get("packs") or []:
            if int(pack.get("resources", 0)) > 0:
                ran.add(f"cdk-nag:{pack['name']}")
    return ran


def summary(results: Sequence[ControlResult]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for result in results:
        row = table.setdefault(result.framework, {status.value: 0 for status in ControlStatus})
        row[result.status.value] += 1
    return table


def render_controls_markdown(results: Sequence[ControlResult], frameworks: Sequence[Framework], *, verdict: str) -> str:
    """``reports/controls.md``: per framework, one row per in-scope control with its status and evidence."""
    lines = [
        "# Controls: status of every in-scope control in this run",
        "",
        f"Verdict of this run: **{verdict}**. Generated by `harness.verdict.controls` from this run's findings and "
        "`policies/mappings`, `policies/frameworks`; statuses: satisfied, not satisfied, not satisfied: risk accepted "
        "(a waiver covers a finding), not evaluated, not assessed (no template-time check). Evidence of this run: `reports/evidence/`, OSCAL: `reports/oscal/`.",
        "",
    ]
    counts = summary(results)
    for framework in frameworks:
        rows = [r for r in results if r.framework == framework.key]
        row = counts.get(framework.key, {})
        lines += [
            f"## {framework.name} (`{framework.key}`)",
            "",
            f"{framework.version}. " + ", ".join(f"{row.get(s.value, 0)} {s.value}" for s in ControlStatus) + ".",
            "",
            "| Control | Status | Checks | Why |",
            "|---|---|---|---|",
        ]
        for result in rows:
            name = f"{result.control} {result.title}".strip()
            checks = ", ".join(f"`{c.check_id}` ({c.status or c.note})" for c in result.checks) or "-"
            lines.append(f"| {cell(name)} | {result.status.value} | {cell(checks)} | {cell(result.reason)} |")
        lines.append("")
    return "\n".join(lines)


ATTENTION_ROWS = 12  # rows on the first screen of compliance.md; controls.md has every control


def render_unsatisfied(
    controls: Sequence[Mapping[str, Any]], waivers: Sequence[Mapping[str, Any]], *, verdict: str
) -> list[str]:
    """The first-screen section of compliance.md on a PASS run: every control the run did not satisfy, and why.

    A PASS means every check ran and nothing unwaived fails; it does not mean every in-scope control is
    satisfied. A waived finding leaves its control not satisfied (an accepted risk with an owner and an
    expiry), and a control whose checks could not run here (the change policies without a base) is not
    evaluated. An auditor reading "PASS" sees this before anything else.
    """
    unsatisfied = [c for c in controls if c["status"] not in (ControlStatus.SATISFIED, ControlStatus.NOT_ASSESSED)]
    if verdict != "PASS" or not unsatisfied:
        return []
    owners = {str(w["waiver_id"]): w for w in waivers}
    lines = [
        f"## Controls not satisfied on this PASS run ({len(unsatisfied)})",
        "",
        "Every check ran and nothing unwaived fails, yet these controls are not satisfied. A waiver is an "
        "accepted risk, not a pass (each is an item of `reports/oscal/plan-of-action-and-milestones.json`, "
        "its expiry the milestone); a control a check could not judge here is not evaluated. Every control: "
        "`reports/controls.md`.",
        "",
        "| Framework | Control | Status | Why |",
        "|---|---|---|---|",
    ]
    for control in unsatisfied[:ATTENTION_ROWS]:
        why = str(control["reason"])
        accepted = sorted({w for check in control.get("checks") or [] for w in check.get("waivers") or []})
        if accepted:
            why += " — " + "; ".join(
                f"{w}: {owners[w]['owner']}, expires {owners[w]['expires']}" if w in owners else w for w in accepted
            )
        lines.append(
            f"| {control['framework']} | {cell(str(control['control']))} | {control['status']} | {cell(why)} |"
        )
    if len(unsatisfied) > ATTENTION_ROWS:
        lines += ["", f"… and {len(unsatisfied) - ATTENTION_ROWS} more in `reports/controls.md`."]
    return [*lines, ""]
