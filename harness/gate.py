"""The gate: every check on one or more cloud assemblies, folded into one verdict.

Stages, with what runs concurrently (2 CPUs are enough to overlap them):

    synthesis mode                      --assembly mode
    pytest tiers ──────────────┐        load + validate the assemblies
    synth + cdk-nag (in-proc)  │        checkov ─┐  cfn-lint ─┐  cdk-nag via CfnInclude (in-proc)
    checkov ─┐  cfn-lint ─┐    │        ─────────┴────────────┴──> fold, waivers, reports
    ─────────┴────────────┴────┴──> fold, waivers, reports

Any stage that cannot prove it ran raises :class:`HarnessError`; the others are stopped.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.assembly import CloudAssembly, StackTemplate, load_assembly
from harness.catalog import ControlMapping, Policy, Requirement, Tool, Waiver
from harness.errors import HarnessError
from harness.model import ExitCode, Finding, Source, Status, ToolRun, WaiverUse
from harness.nag import PACK_NAMES, NagOutcome, acknowledgements_from
from harness.proc import Started
from harness.run_cfnlint import CFN_LINT_VERSION, NOT_GATING, LintRun, collect_cfnlint, start_cfnlint
from harness.run_checkov import CHECKOV_VERSION, CheckovLauncher, CheckovResult, CheckovRun, collect_checkov
from harness.run_pytest import PytestGroup, TestRun, collect_pytest, start_pytest
from harness.waivers import CHECKOV_TOOLS, WaiverBook

Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class Catalog:
    requirements: list[Requirement]
    policies: list[Policy]
    mappings: list[ControlMapping]
    waivers: list[Waiver]
    checks_dir: Path | None

    def policy(self, policy_id: str) -> Policy | None:
        return next((p for p in self.policies if p.id == policy_id), None)


@dataclass(frozen=True, kw_only=True)
class GateOptions:
    root: Path
    assemblies: Sequence[Path] = ()  # empty: synthesize the app into ``outdir`` first
    outdir: Path | None = None
    reports_dir: Path | None = None
    checkov: str = ""
    cfn_lint: str = ""
    tiers: Sequence[str] = ()
    today: dt.date = field(default_factory=dt.date.today)


@dataclass(kw_only=True)
class AssemblyVerdict:
    label: str
    path: str
    exit_code: ExitCode
    failed_rules: list[str]


@dataclass(kw_only=True)
class GateResult:
    mode: str  # "synth" | "assembly"
    exit_code: ExitCode
    findings: list[Finding]
    tool_runs: list[ToolRun]
    waivers: list[WaiverUse]
    assemblies: list[AssemblyVerdict]
    catalog: Catalog
    tests: TestRun | None = None
    error: str = ""
    duration_s: float = 0.0

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status is Status.FAILED]


def load_catalog(root: Path | None = None) -> Catalog:
    """Everything policies/ declares, or a HarnessError: the gate never runs without its policies."""
    from harness import catalog  # noqa: PLC0415

    policies_dir = catalog.POLICIES_DIR if root is None else root
    checks_dir = catalog.CHECKS_DIR if root is None else root / catalog.CHECKS_DIR.name
    try:
        loaded = Catalog(
            requirements=catalog.load_requirements(policies_dir),
            policies=catalog.load_policies(policies_dir),
            mappings=catalog.load_mappings(policies_dir),
            waivers=catalog.load_waivers(policies_dir),
            checks_dir=checks_dir,
        )
    except NotImplementedError as error:
        raise HarnessError("policies/ cannot be loaded: harness.catalog loaders are not implemented") from error
    except HarnessError:
        raise
    except Exception as error:
        raise HarnessError(f"policies/ cannot be loaded: {type(error).__name__}: {error}") from error
    if not loaded.policies:
        raise HarnessError(f"{policies_dir} declares no policies")
    if not checks_dir.is_dir():
        raise HarnessError(f"policy checks directory {checks_dir} is missing")
    return loaded


class SynthesisRejectedError(Exception):
    """A synthesis-time rule aspect of infra/ refused the app: a violation (exit 1), not a crash."""


def _rejected(message: str, *, label: str, catalog: Catalog, today: dt.date) -> GateResult:
    finding = Finding(
        source=Source.GATE,
        rule_id="synthesis-rule",
        status=Status.FAILED,
        title="the app synthesizes under its own rule aspects (required tags, no Retain)",
        message=message,
        remediation="fix the construct the message names; the other checks run once the app synthesizes",
    )
    return GateResult(
        mode="synth",
        exit_code=ExitCode.VIOLATIONS,
        findings=[finding],
        tool_runs=[],
        waivers=WaiverBook(waivers=catalog.waivers, today=today).report(),
        assemblies=[
            AssemblyVerdict(label=label, path="", exit_code=ExitCode.VIOLATIONS, failed_rules=["synthesis-rule"])
        ],
        catalog=catalog,
    )


def run_gate(options: GateOptions, *, catalog: Catalog, progress: Progress) -> GateResult:
    started_at = time.monotonic()
    running: list[Started] = []
    with tempfile.TemporaryDirectory(prefix="gate-tools-") as scratch:
        # checkov's imports take ~4 s: start it first so they overlap synthesis and pytest.
        launcher = CheckovLauncher(executable=options.checkov, cwd=Path(scratch))
        try:
            result = _run(
                options, catalog=catalog, progress=progress, running=running, launcher=launcher, scratch=Path(scratch)
            )
        except SynthesisRejectedError as rejected:
            label = (options.outdir or options.root / "cdk.out").name
            result = _rejected(str(rejected), label=label, catalog=catalog, today=options.today)
        finally:
            launcher.kill()
            for process in running:
                process.kill()
    result.duration_s = time.monotonic() - started_at
    return result


def _run(
    options: GateOptions,
    *,
    catalog: Catalog,
    progress: Progress,
    running: list[Started],
    launcher: CheckovLauncher,
    scratch: Path,
) -> GateResult:
    tool_runs: list[ToolRun] = []
    tests: TestRun | None = None
    pytest_groups: list[PytestGroup] = []
    reports_dir = options.reports_dir or options.root / "reports"
    junit_tiers = reports_dir / "tests.junit.xml"
    synth_mode = not options.assemblies
    if options.tiers:
        pytest_groups = start_pytest(root=options.root, tiers=options.tiers, scratch=scratch)
        running.extend(group.started for group in pytest_groups)
        progress("tests: started pytest on " + " | ".join(", ".join(g.tiers) for g in pytest_groups))

    construct_level: dict[str, NagOutcome] = {}
    if synth_mode:
        outdir = options.outdir or options.root / "cdk.out"
        progress(f"synth: synthesizing the app with the cdk-nag packs into {outdir}")
        began = time.monotonic()
        assembly, outcome = _synthesize(outdir)
        assemblies = [assembly]
        construct_level = {assembly.label: outcome}
        tool_runs.append(_nag_run(began, outcome, command="python app.py (in-process synth)"))
    else:
        assemblies = _load_assemblies(options.assemblies)
        progress(
            f"assembly: {len(assemblies)} cloud assembly(ies), {sum(a.resource_count for a in assemblies)} resources"
        )

    templates = [stack.path for a in assemblies for stack in a.stacks]
    expected_resources = sum(a.resource_count for a in assemblies)
    progress(f"checkov + cfn-lint: scanning {len(templates)} template(s) concurrently")
    checkov_proc = launcher.scan(templates=templates, external_checks_dir=catalog.checks_dir)
    running.append(checkov_proc)
    regions = [stack.region for a in assemblies for stack in a.stacks]
    lint_procs = start_cfnlint(executable=options.cfn_lint, templates=templates, regions=regions, cwd=options.root)
    running.extend(lint_procs)
    # cdk-nag over the templates (CfnInclude) in both modes, while checkov and cfn-lint run: in
    # synthesis mode it adds what the construct tree hides from the packs (CDK's raw helper
    # resources become typed L1s), so both paths judge the same and share one set of waivers.
    from harness.nag_include import run_nag_on_assemblies  # noqa: PLC0415  (starts jsii)

    progress("cdk-nag: running the packs over the templates via CfnInclude")
    began = time.monotonic()
    included = run_nag_on_assemblies(assemblies, acknowledgements=acknowledgements_from(catalog.waivers))
    template_level = included.outcomes
    tool_runs.append(_nag_run(began, *template_level.values(), command="CfnInclude + Validations (in-process)"))
    progress(f"cdk-nag: {sum(len(o.violations) + len(o.suppressed) for o in template_level.values())} finding(s)")
    lint = collect_cfnlint(lint_procs, templates=templates)
    progress(f"cfn-lint: {len(lint.matches)} finding(s) in {lint.duration_s:.1f} s")
    checkov = collect_checkov(checkov_proc, expected_resources=expected_resources)
    progress(f"checkov: {len(checkov.results)} result(s) on {checkov.resource_count} resources")
    if pytest_groups:
        tests = collect_pytest(pytest_groups, junit_xml=junit_tiers)
        progress(f"tests: {len(tests.cases)} test(s), {tests.count('failed') + tests.count('error')} failing")

    book = WaiverBook(waivers=catalog.waivers, today=options.today)
    findings: list[Finding] = []
    for assembly in assemblies:
        nag = _nag_findings(template_level.get(assembly.label), assembly=assembly, book=book)
        if synth_mode:
            first = _nag_findings(construct_level.get(assembly.label), assembly=assembly, book=book)
            seen = {(f.rule_id, f.logical_id) for f in first}
            # The template-level run repeats the construct-level findings; its own CloudFormation
            # validation plugin re-checks what the synthesis already checked.
            nag = first + [f for f in nag if f.source is Source.CDK_NAG and (f.rule_id, f.logical_id) not in seen]
        findings += nag
        findings += _checkov_findings(checkov, assembly=assembly, book=book, catalog=catalog)
        findings += _lint_findings(lint, assembly=assembly, book=book)
    if tests is not None:
        findings += _test_findings(tests, label=assemblies[0].label)
    findings += _waiver_findings(book)
    findings.sort(key=Finding.sort_key)

    tool_runs += [
        ToolRun(
            source=Source.CHECKOV,
            version=CHECKOV_VERSION,
            command=f"checkov --framework cloudformation --skip-download, offline env, one process, {len(templates)} template(s)",
            duration_s=checkov.duration_s,
            evaluated=sum(1 for f in findings if f.source is Source.CHECKOV),
        ),
        ToolRun(
            source=Source.PROJECT,
            version=f"{len(catalog.policies)} policies",
            command="checkov --external-checks-dir",
            duration_s=checkov.duration_s,
            evaluated=sum(1 for f in findings if f.source is Source.PROJECT),
        ),
        ToolRun(
            source=Source.CFN_LINT,
            version=CFN_LINT_VERSION,
            command="cfn-lint --format json",
            duration_s=lint.duration_s,
            evaluated=len(lint.templates),
        ),
    ]
    if tests is not None:
        tool_runs.append(
            ToolRun(
                source=Source.TESTS,
                version=", ".join(options.tiers),
                command="pytest",
                duration_s=tests.duration_s,
                evaluated=len(tests.cases),
            )
        )
    verdicts = [_verdict(a, findings) for a in assemblies]
    exit_code = max((v.exit_code for v in verdicts), default=ExitCode.CLEAN)
    return GateResult(
        mode="synth" if synth_mode else "assembly",
        exit_code=exit_code,
        findings=findings,
        tool_runs=sorted(tool_runs, key=lambda r: r.source.value),
        waivers=book.report(),
        assemblies=verdicts,
        catalog=catalog,
        tests=tests,
    )


def _load_assemblies(paths: Sequence[Path]) -> list[CloudAssembly]:
    labels: dict[str, int] = {}
    assemblies = []
    for path in paths:
        label = path.resolve().name
        labels[label] = labels.get(label, 0) + 1
        if labels[label] > 1:
            label = f"{label}#{labels[label]}"
        assemblies.append(load_assembly(path, label=label))
    return assemblies


def _synthesize(outdir: Path) -> tuple[CloudAssembly, NagOutcome]:
    from harness.nag import (  # noqa: PLC0415
        VALIDATION_REPORT,
        add_nag_validations,
        judge_report,
        probe_packs,
        read_validation_report,
    )
    from infra.app_builder import add_staging_stacks, new_app  # noqa: PLC0415  (starts jsii)
    from infra.config import ConfigError  # noqa: PLC0415
    from infra.errors import as_synthesis_rule_error  # noqa: PLC0415

    shutil.rmtree(outdir, ignore_errors=True)
    app = new_app(outdir=str(outdir))
    try:
        add_staging_stacks(app)  # the app exactly as `cdk synth` builds it...
        recorders = add_nag_validations(app)  # ...plus the gate's own plugins and waivers
        app.synth()
    except ConfigError as error:
        raise HarnessError(f"synthesis failed: config error: {error}") from error
    except Exception as error:
        rule_error = as_synthesis_rule_error(error)
        if rule_error is not None:  # a synthesis-time policy (required tags, no Retain) rejected the app
            raise SynthesisRejectedError(str(rule_error)) from error
        raise HarnessError(f"synthesis failed: {str(error).strip().splitlines()[0]}") from error
    runs = {recorder.name: recorder.run for recorder in recorders}
    probe_packs()
    outcome = judge_report(read_validation_report(outdir / VALIDATION_REPORT), runs=runs)
    return load_assembly(outdir), outcome


def _nag_run(began: float, *outcomes: NagOutcome, command: str) -> ToolRun:
    packs = sorted({p for o in outcomes for p in o.packs_in_report if p in PACK_NAMES})
    return ToolRun(
        source=Source.CDK_NAG,
        version="3.0.2",
        command=command,
        duration_s=time.monotonic() - began,
        evaluated=sum(len(o.violations) + len(o.suppressed) for o in outcomes),
        notes=[f"packs ran: {', '.join(PACK_NAMES)}", f"packs with findings: {', '.join(packs) or 'none'}"],
    )


def _reverse_paths(assembly: CloudAssembly) -> dict[str, tuple[StackTemplate, str]]:
    return {path: (stack, lid) for stack in assembly.stacks for lid, path in stack.construct_paths.items()}


def _nag_findings(outcome: NagOutcome | None, *, assembly: CloudAssembly, book: WaiverBook) -> list[Finding]:
    if outcome is None:
        raise HarnessError(f"cdk-nag did not run on assembly {assembly.label}")
    by_path = _reverse_paths(assembly)
    findings = []
    for violation, suppressed in [(v, False) for v in outcome.violations] + [(v, True) for v in outcome.suppressed]:
        ours = violation.plugin in PACK_NAMES
        source = Source.CDK_NAG if ours else Source.CDK_VALIDATE
        stack, logical_id = by_path.get(violation.construct_path, (None, violation.logical_id))
        template = violation.template or (stack.relpath if stack else "")
        if stack is None:
            stack = next((s for s in assembly.stacks if s.relpath == template), None)
        resource_type = stack.resource_type(logical_id) if stack else ""
        severity = violation.severity
        status = Status.FAILED if severity in ("error", "fatal") else Status.WARNING
        message = violation.description
        waiver_id = expires = ""
        if suppressed:
            waiver = book.from_ack_reason(violation.reason, rule=violation.acknowledged_id) if ours else None
            if waiver is None and not ours:
                status, waiver_id, message = (
                    Status.WAIVED,
                    "aws-cdk-lib",
                    f"{message} (acknowledged by aws-cdk-lib: {violation.reason})",
                )
            elif waiver is None:
                status = Status.FAILED
                message = (
                    f"acknowledged without a waiver in policies/ ({violation.acknowledged_id}): {violation.reason}"
                )
            elif book.expired(waiver):
                status, waiver_id, expires = Status.FAILED, waiver.id, waiver.expires.isoformat()
                message = f"waiver {waiver.id} expired on {expires}: {message}"
            else:
                status, waiver_id, expires = Status.WAIVED, waiver.id, waiver.expires.isoformat()
        findings.append(
            Finding(
                source=source,
                rule_id=violation.namespaced_rule,
                status=status,
                title=violation.description,
                assembly=assembly.label,
                template=template,
                logical_id=logical_id,
                construct_path=violation.construct_path,
                resource_type=resource_type,
                message=message,
                severity=severity,
                remediation=f"fix the resource, or add a waiver to policies/ for '{violation.namespaced_rule}'"
                if ours
                else "see the CloudFormation validation rule",
                waiver_id=waiver_id,
                waiver_expires=expires,
            )
        )
    return findings


def _checkov_findings(run: CheckovRun, *, assembly: CloudAssembly, book: WaiverBook, catalog: Catalog) -> list[Finding]:
    findings = []
    for stack in assembly.stacks:
        findings += _checkov_stack_findings(
            run.by_template.get(stack.path, []), stack=stack, book=book, catalog=catalog
        )
    return findings


def _checkov_stack_findings(
    results: Sequence[CheckovResult], *, stack: StackTemplate, book: WaiverBook, catalog: Catalog
) -> list[Finding]:
    findings = []
    for result in results:
        policy = catalog.policy(result.check_id)
        source = Source.PROJECT if policy is not None else Source.CHECKOV
        construct_path = stack.construct_path(result.logical_id)
        status = Status.PASSED
        message = ""
        waiver_id = expires = ""
        if result.result in ("FAILED", "SKIPPED"):
            waiver = book.match(
                tools=CHECKOV_TOOLS, rule=result.check_id, logical_id=result.logical_id, construct_path=construct_path
            )
            if waiver is None:
                status = Status.FAILED
                message = (
                    f"skipped in template metadata without a waiver in policies/: {result.suppress_comment}"
                    if result.result == "SKIPPED"
                    else f"{result.check_id} failed on {result.logical_id}"
                )
            elif book.expired(waiver):
                status, waiver_id, expires = Status.FAILED, waiver.id, waiver.expires.isoformat()
                message = f"waiver {waiver.id} expired on {expires}"
            else:
                status, waiver_id, expires = Status.WAIVED, waiver.id, waiver.expires.isoformat()
                message = waiver.reason
        findings.append(
            Finding(
                source=source,
                rule_id=result.check_id,
                status=status,
                title=policy.title if policy else result.check_name,
                assembly=stack.assembly,
                template=stack.relpath,
                logical_id=result.logical_id,
                construct_path=construct_path,
                resource_type=result.resource_type,
                message=message,
                severity=str(policy.severity) if policy else (result.severity or ""),
                remediation=policy.remediation
                if policy
                else (result.guideline or f"see checkov check {result.check_id}"),
                waiver_id=waiver_id,
                waiver_expires=expires,
            )
        )
    return findings


def _lint_findings(run: LintRun, *, assembly: CloudAssembly, book: WaiverBook) -> list[Finding]:
    findings = []
    for stack in assembly.stacks:
        matches = run.by_template.get(stack.path, [])
        for match in matches:
            construct_path = stack.construct_path(match.logical_id)
            status = Status.FAILED if match.level in ("Error", "Warning") else Status.WARNING
            message = match.message
            waiver_id = expires = ""
            waiver = book.match(
                tools=[Tool.CFN_LINT], rule=match.rule_id, logical_id=match.logical_id, construct_path=construct_path
            )
            if waiver is not None and book.expired(waiver):
                status, waiver_id, expires = Status.FAILED, waiver.id, waiver.expires.isoformat()
                message = f"waiver {waiver.id} expired on {expires}: {message}"
            elif waiver is not None:
                status, waiver_id, expires = Status.WAIVED, waiver.id, waiver.expires.isoformat()
            elif match.rule_id in NOT_GATING and status is Status.FAILED:
                status = Status.WARNING
                message = f"{message} (not gating: {NOT_GATING[match.rule_id]})"
            findings.append(
                Finding(
                    source=Source.CFN_LINT,
                    rule_id=match.rule_id,
                    status=status,
                    title=match.description,
                    assembly=assembly.label,
                    template=stack.relpath,
                    logical_id=match.logical_id,
                    construct_path=construct_path,
                    resource_type=stack.resource_type(match.logical_id),
                    message=f"{message} [{match.path}]" if match.path else message,
                    severity=match.level,
                    remediation="fix the template value cfn-lint names (see the rule's documentation)",
                    waiver_id=waiver_id,
                    waiver_expires=expires,
                )
            )
        if not any(f.status is Status.FAILED for f in findings if f.template == stack.relpath):
            findings.append(
                Finding(
                    source=Source.CFN_LINT,
                    rule_id="cfn-lint",
                    status=Status.PASSED,
                    title="cfn-lint finds no gating issue",
                    assembly=assembly.label,
                    template=stack.relpath,
                )
            )
    return findings


def _test_findings(run: TestRun, *, label: str) -> list[Finding]:
    status_of = {"passed": Status.PASSED, "failed": Status.FAILED, "error": Status.FAILED, "skipped": Status.WARNING}
    return [
        Finding(
            source=Source.TESTS,
            rule_id=case.nodeid,
            status=status_of[case.outcome],
            title=f"{case.tier} test",
            assembly=label,
            message=case.message,
            remediation="fix the code or the test; run `nox -s tests -- <node id>`"
            if case.outcome in ("failed", "error")
            else "",
        )
        for case in run.cases
    ]


def _waiver_findings(book: WaiverBook) -> list[Finding]:
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


def _verdict(assembly: CloudAssembly, findings: Sequence[Finding]) -> AssemblyVerdict:
    failed = sorted({f.rule_id for f in findings if f.status is Status.FAILED and f.assembly in (assembly.label, "")})
    return AssemblyVerdict(
        label=assembly.label,
        path=str(assembly.root),
        exit_code=ExitCode.VIOLATIONS if failed else ExitCode.CLEAN,
        failed_rules=failed,
    )
