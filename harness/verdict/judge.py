"""Turning each tool's output into findings: one verdict per rule and resource, waivers applied once.

A tool judges each deploy-time world file (harness.reading.worlds) of a template; here the verdicts
of all worlds of one resource fold into one finding: failed in any world is failed (naming
the world), otherwise not evaluated in any world is not evaluated, otherwise passed. Every
gating verdict then goes through the same waiver judgement (harness.tools.waivers.WaiverBook).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.catalog import Policy, Tool
from harness.model import STATUS_ORDER, Finding, Source, Status, Subject
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.worlds import Expansion
from harness.tools.nag import PACK_NAMES, NagOutcome, NagViolation
from harness.tools.run_cfnlint import LintRun
from harness.tools.run_checkov import CheckovRun
from harness.tools.run_pytest import TestRun, pytest_node_id
from harness.tools.waivers import CHECKOV_TOOLS, WaiverBook

REPOSITORY = Path(__file__).resolve().parents[2]  # where the tiers' test files are

# cdk-nag v3 reports a rule that raised (typically on an intrinsic it cannot read) under the
# rule's own id with this description: the rule could not judge the resource.
NAG_RULE_ERROR = "threw an error during validation"
_PYTHON_STATUS = {
    "passed": Status.PASSED,
    "not-applicable": Status.PASSED,
    "failed": Status.FAILED,
    "not-evaluated": Status.NOT_EVALUATED,
}


@dataclass(kw_only=True)
class WorldVerdict:
    world: str
    status: Status
    message: str = ""
    skipped: bool = False  # checkov SKIPPED it: an in-template skip, valid only with a waiver


@dataclass(kw_only=True)
class Fold:
    """The verdicts of one rule on one resource across the worlds of its template."""

    verdicts: list[WorldVerdict] = field(default_factory=list)

    def add(self, verdict: WorldVerdict) -> None:
        self.verdicts.append(verdict)

    def result(self) -> WorldVerdict:
        """The worst verdict: failed (or skipped) in any world, else not evaluated in any, else passed."""
        return min(self.verdicts, key=lambda v: (STATUS_ORDER[v.status], not v.skipped))


def _with_world(message: str, world: str) -> str:
    return f"{message} (when {world})" if world else message


# ------------------------------------------------------------------------------------------- checkov


@dataclass(frozen=True, kw_only=True)
class CheckovFolding:
    findings: list[Finding]
    judged: dict[tuple[str, Path, str], Status]  # (check id, world file, logical id) -> verdict, for coverage


def checkov_findings(
    run: CheckovRun,
    *,
    expansion: Expansion,
    policies: Mapping[str, Policy],
    book: WaiverBook,
    overrides: Mapping[tuple[str, Path, str], str],
) -> CheckovFolding:
    """Fold checkov's results (built-in checks and the project's policies) over worlds, then apply waivers.

    ``overrides`` are (policy, world file, logical id) -> reason for YAML policies whose
    attributes the template does not determine (harness.verdict.coverage.unresolved_attributes):
    whatever checkov concluded there, the verdict is "not evaluated".
    """
    targets = expansion.by_path()
    folds: dict[tuple[str, str, str, str], Fold] = defaultdict(Fold)  # (check, assembly, stack id, logical id)
    stacks: dict[tuple[str, str], StackTemplate] = {}
    names: dict[str, str] = {}
    judged: dict[tuple[str, Path, str], Status] = {}
    for result in run.results:
        target = targets.get(result.template)
        if target is None:
            continue  # not one of ours (checkov was handed only our files; counted in the resource check)
        stack = target.stack
        stacks[(stack.assembly, stack.stack_id)] = stack
        names[result.check_id] = result.check_name
        key = (result.check_id, result.template, result.logical_id)
        verdict = _checkov_verdict(result.result, result.suppress_comment, world=target.label)
        sidecar = run.verdicts.get(key)
        if sidecar is not None and not verdict.skipped:
            verdict.status = _PYTHON_STATUS.get(sidecar.status, Status.NOT_EVALUATED)
            verdict.message = (
                f"not applicable: {sidecar.reason}" if sidecar.status == "not-applicable" else sidecar.reason
            )
        if key in overrides and not verdict.skipped:
            verdict.status, verdict.message = Status.NOT_EVALUATED, overrides[key]
        judged[key] = verdict.status
        folds[(result.check_id, stack.assembly, stack.stack_id, result.logical_id)].add(verdict)
    findings = [
        checkov_finding(
            check_id,
            names[check_id],
            fold.result(),
            stack=stacks[(assembly, stack_id)],
            logical_id=logical_id,
            policy=policies.get(check_id),
            book=book,
        )
        for (check_id, assembly, stack_id, logical_id), fold in sorted(folds.items())
    ]
    return CheckovFolding(findings=findings, judged=judged)


def _checkov_verdict(result: str, suppress_comment: str, *, world: str) -> WorldVerdict:
    if result == "PASSED":
        return WorldVerdict(world=world, status=Status.PASSED)
    if result == "SKIPPED":
        return WorldVerdict(
            world=world, status=Status.FAILED, message=f"skipped in template metadata: {suppress_comment}", skipped=True
        )
    return WorldVerdict(world=world, status=Status.FAILED)


def checkov_finding(
    check_id: str,
    check_name: str,
    verdict: WorldVerdict,
    *,
    stack: StackTemplate,
    logical_id: str,
    policy: Policy | None,
    book: WaiverBook,
) -> Finding:
    # A built-in check's own verdict carries no words: the failure row says what the check wants.
    failed = f"{check_id} failed on {logical_id}" + (f": {check_name}" if check_name and policy is None else "")
    message = verdict.message or (failed if verdict.status is Status.FAILED else "")
    status = verdict.status
    if verdict.skipped:
        # An in-template skip counts only when a waiver of policies/ explains it.
        waiver = book.match(tools=CHECKOV_TOOLS, rule=check_id, subject=stack.subject(logical_id))
        judgement = book.judge(status=Status.FAILED, message=f"{message}, without a waiver in policies/", waiver=waiver)
    else:
        judgement = book.apply(
            tools=CHECKOV_TOOLS, rule=check_id, subject=stack.subject(logical_id), status=status,
            message=_with_world(message, verdict.world) if status.gates else message,
        )  # fmt: skip
    return Finding(
        source=Source.PROJECT if policy is not None else Source.CHECKOV,
        rule_id=check_id,
        status=judgement.status,
        title=policy.title if policy else check_name,
        assembly=stack.assembly,
        stack=stack.stack_id,
        template=stack.relpath,
        logical_id=logical_id,
        construct_path=stack.construct_path(logical_id),
        resource_type=stack.resource_type(logical_id),
        message=judgement.message,
        severity=str(policy.severity) if policy else "",
        remediation=policy.remediation if policy else f"see checkov check {check_id}",
        waiver_id=judgement.waiver_id,
        waiver_expires=judgement.waiver_expires,
        world=verdict.world if status.gates else "",
    )


# ------------------------------------------------------------------------------------------- cdk-nag


def nag_findings(
    outcome: NagOutcome, *, stack: StackTemplate, world: str, book: WaiverBook, seen: set[tuple[str, str, str]]
) -> list[Finding]:
    """cdk-nag (and other CDK validation plugins) findings of one template; ``seen`` drops repeats.

    In synthesis mode the packs run twice (on the constructs, then on the templates via CfnInclude)
    and report one problem once per run, the first without a logical id: the key is the resource
    as the finding names it (rule, stack, resolved logical id), so the construct-level finding (it
    carries CDK's acknowledgements) is the one kept and the same rule on the same resource is one
    finding in every report.
    """
    findings = []
    for violation, suppressed in [(v, False) for v in outcome.violations] + [(v, True) for v in outcome.suppressed]:
        key = (
            violation.namespaced_rule,
            f"{stack.assembly}/{stack.stack_id}",
            _nag_logical_id(violation, stack) or violation.construct_path,
        )
        if key in seen:
            continue
        seen.add(key)
        findings.append(_nag_finding(violation, suppressed=suppressed, stack=stack, world=world, book=book))
    return findings


def _nag_logical_id(violation: NagViolation, stack: StackTemplate) -> str:
    """The template resource a violation is about: its reported logical id, else the one its construct path names."""
    if violation.logical_id in stack.resources:
        return violation.logical_id
    return next((lid for lid, p in stack.construct_paths.items() if p == violation.construct_path), "")


def _nag_finding(
    violation: NagViolation, *, suppressed: bool, stack: StackTemplate, world: str, book: WaiverBook
) -> Finding:
    ours = violation.plugin in PACK_NAMES
    tool = Tool.CDK_NAG if ours else Tool.CDK_VALIDATE
    logical_id = _nag_logical_id(violation, stack)
    subject_ = (
        stack.subject(logical_id)
        if logical_id
        else Subject(stack=stack.stack_id, construct_path=violation.construct_path)
    )
    severity = violation.severity
    status = Status.FAILED if severity in ("error", "fatal") else Status.WARNING
    if NAG_RULE_ERROR in violation.description:
        status = Status.NOT_EVALUATED
    message = _with_world(violation.description, world)
    if suppressed:
        judgement = book.acknowledged(
            reason=violation.reason, rule=violation.namespaced_rule, tool=tool, subject=subject_, message=message
        )
    else:
        judgement = book.apply(
            tools=[tool], rule=violation.namespaced_rule, subject=subject_, status=status, message=message
        )
    return Finding(
        source=Source.CDK_NAG if ours else Source.CDK_VALIDATE,
        rule_id=violation.namespaced_rule,
        status=judgement.status,
        title=violation.description,
        assembly=stack.assembly,
        stack=stack.stack_id,
        template=stack.relpath,
        logical_id=logical_id,
        construct_path=violation.construct_path,
        resource_type=stack.resource_type(logical_id) if logical_id else "",
        message=judgement.message,
        severity=severity,
        remediation=f"fix the resource, or add a waiver to policies/ for '{violation.namespaced_rule}'"
        if ours
        else "see the CloudFormation validation rule",
        waiver_id=judgement.waiver_id,
        waiver_expires=judgement.waiver_expires,
        world=world if judgement.status.gates else "",
    )


def included_nag_findings(
    outcomes: Mapping[Path, NagOutcome], *, expansion: Expansion, book: WaiverBook, seen: set[tuple[str, str, str]]
) -> list[Finding]:
    findings = []
    for target in expansion.targets:
        outcome = outcomes.get(target.path)
        if outcome is not None:
            findings += nag_findings(outcome, stack=target.stack, world=target.label, book=book, seen=seen)
    return findings


def unloadable_findings(unloadable: Mapping[Path, str], *, expansion: Expansion) -> list[Finding]:
    """A world file cdk-nag could not load: its packs judged nothing there."""
    targets = expansion.by_path()
    return [
        Finding(
            source=Source.CDK_NAG,
            rule_id="cdk-nag:template",
            status=Status.NOT_EVALUATED,
            title="the cdk-nag packs judge every template",
            assembly=targets[path].stack.assembly,
            stack=targets[path].stack.stack_id,
            template=targets[path].stack.relpath,
            message=_with_world(f"cdk-nag could not load the template: {reason}", targets[path].label),
            remediation="make the template loadable by CloudFormation (and so by CfnInclude)",
        )
        for path, reason in sorted(unloadable.items())
    ]


# ------------------------------------------------------------------------------------------- cfn-lint


def lint_findings(run: LintRun, *, assemblies: Sequence[CloudAssembly], book: WaiverBook) -> list[Finding]:
    findings = []
    for assembly in assemblies:
        for stack in assembly.stacks:
            findings += _lint_stack_findings(run, stack=stack, book=book)
    return findings


def _lint_stack_findings(run: LintRun, *, stack: StackTemplate, book: WaiverBook) -> list[Finding]:
    findings = []
    for match in run.by_template.get(stack.path, []):
        status = Status.FAILED if match.level in ("Error", "Warning") else Status.WARNING
        judgement = book.apply(
            tools=[Tool.CFN_LINT], rule=match.rule_id, subject=stack.subject(match.logical_id), status=status,
            message=f"{match.message} [{match.path}]" if match.path else match.message,
        )  # fmt: skip
        findings.append(
            Finding(
                source=Source.CFN_LINT,
                rule_id=match.rule_id,
                status=judgement.status,
                title=match.description,
                assembly=stack.assembly,
                stack=stack.stack_id,
                template=stack.relpath,
                logical_id=match.logical_id,
                construct_path=stack.construct_path(match.logical_id),
                resource_type=stack.resource_type(match.logical_id),
                message=judgement.message,
                severity=match.level,
                remediation="fix the template value cfn-lint names (see the rule's documentation)",
                waiver_id=judgement.waiver_id,
                waiver_expires=judgement.waiver_expires,
            )
        )
    if not any(f.status.gates for f in findings):
        findings.append(
            Finding(
                source=Source.CFN_LINT,
                rule_id="cfn-lint",
                status=Status.PASSED,
                title="cfn-lint finds no gating issue",
                assembly=stack.assembly,
                stack=stack.stack_id,
                template=stack.relpath,
            )
        )
    return findings


# ------------------------------------------------------------------------------------------- tests, waivers, gate


def test_findings(run: TestRun, *, label: str, root: Path = REPOSITORY) -> list[Finding]:
    status_of = {"passed": Status.PASSED, "failed": Status.FAILED, "error": Status.FAILED, "skipped": Status.WARNING}
    return [
        Finding(
            source=Source.TESTS,
            rule_id=case.nodeid,
            status=status_of[case.outcome],
            title=f"{case.tier} test",
            assembly=label,
            message=case.message,
            # The node id pytest finds (path::name), not JUnit's dotted module name.
            remediation=f"fix the code or the test; re-run it: `nox -s tests -- {pytest_node_id(case.nodeid, root=root)}`"
            if case.outcome in ("failed", "error")
            else "",
        )
        for case in run.cases
    ]


def waiver_findings(book: WaiverBook) -> list[Finding]:
    findings = []
    for waiver in sorted(book.waivers, key=lambda w: w.id):
        target = f"{waiver.rule} on {waiver.target}"
        if book.expired(waiver):
            findings.append(
                Finding(
                    source=Source.GATE,
                    rule_id="waiver-expired",
                    status=Status.FAILED,
                    title="waivers must not be expired",
                    message=f"waiver {waiver.id} ({target}, owner {waiver.owner}) expired on {waiver.expires.isoformat()}",
                    remediation="fix the finding, or renew the waiver in policies/ with a new expiry and reason",
                    waiver_id=waiver.id,
                    waiver_expires=waiver.expires.isoformat(),
                )
            )
        elif book.uses[waiver.id] == 0:
            findings.append(
                Finding(
                    source=Source.GATE,
                    rule_id="waiver-stale",
                    status=Status.WARNING,
                    title="waivers match something",
                    message=f"waiver {waiver.id} ({target}) matched nothing in this run",
                    remediation="remove the waiver from policies/ if the finding is gone for good",
                    waiver_id=waiver.id,
                    waiver_expires=waiver.expires.isoformat(),
                )
            )
    return findings


def waive_gate_findings(
    findings: Iterable[Finding], *, assemblies: Sequence[CloudAssembly], book: WaiverBook
) -> list[Finding]:
    """The gate's own gating findings (content it cannot see, coverage gaps) go through the waivers too."""
    stacks = {(s.assembly, s.stack_id): s for a in assemblies for s in a.stacks}
    result = []
    for finding in findings:
        stack = stacks.get((finding.assembly, finding.stack))
        if not finding.status.gates or stack is None or not finding.logical_id:
            result.append(finding)
            continue
        tools = [Tool.GATE] if finding.source is Source.GATE else [Tool.PROJECT]
        judgement = book.apply(
            tools=tools, rule=finding.rule_id, subject=stack.subject(finding.logical_id), status=finding.status,
            message=finding.message,
        )  # fmt: skip
        result.append(
            dataclasses.replace(
                finding,
                status=judgement.status,
                message=judgement.message,
                waiver_id=judgement.waiver_id,
                waiver_expires=judgement.waiver_expires,
            )
        )
    return result
