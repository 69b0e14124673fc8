"""The gate: every check on one or more cloud assemblies, folded into one verdict.

Named stages, in order (2 CPUs are enough to overlap the external tools)::

    start_tiers        pytest on the unit, snapshot and property tiers (synthesis mode only)
    obtain_assemblies  synthesize the app with the cdk-nag packs, or load --assembly paths
    expand_worlds      one file per deploy-time world of every template (harness.reading.worlds)
    start_scanners     checkov (its imports started at t=0) and cfn-lint, in the background
    run_template_nag   cdk-nag over the world files via CfnInclude, while the scanners run
    collect            wait for the scanners and the tiers
    judge              every tool's output -> findings, folded over worlds, waivers applied, settled
                       (harness.verdict.tool_findings)
    review_deployment  the template each stack deploys (its asset), the assets it references, its code reviewed
    check_coverage     content the gate cannot see, missing verdicts, required resources
    compare_resources  with a base (--base REF / --base-assembly): what the change does to each
                       resource; replacing or removing a stateful one is a finding (harness.comparison.changes)
    locate_sources     every finding with the infra/ line that created its construct (harness.reading.sources)
    compare_findings   with a base: violations introduced, fixed, unchanged (harness.comparison.delta)
    judge_by_base_rules with a base: the head judged again by the base's rules (harness.comparison.base_rules);
                       what passes only under the head's rules is a policy change, exit 1 unless accepted
    decide             verdict per assembly and exit code

With a base, ``prepare_base`` runs first: it resolves the ref and, when the cache has no
assembly for it, starts synthesizing it in a temporary worktree (harness.comparison.base) while the
head's stages run.

While a long stage runs (synthesis, cdk-nag, checkov, cfn-lint, the tiers, the base), a progress
line names it at least every ``heartbeat_s`` (10 s; the tiers with tests done): harness.heartbeat.

Any stage that cannot prove it ran raises :class:`HarnessError`; the others are stopped.
A verdict of PASS means every resource of every template was judged by every policy that
applies to it, on every value it can take.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.audit.evidence import gate_commands
from harness.catalog.loaded import Catalog
from harness.catalog.loaded import load_catalog as load_catalog  # noqa: PLC0414  (re-exported: callers import it from here)
from harness.comparison.base import (
    Base,
    BaseBuilder,
    BaseRequest,
    findings_file,
    read_findings,
    rules_digest,
    write_findings,
)
from harness.comparison.base_rules import BaseRules, head_rules, judge_by_base_rules, locate_base_rules
from harness.comparison.change_rules import load_change_rules
from harness.comparison.delta import Comparison, compare_findings, resource_comparison
from harness.comparison.policy_change import RulesRecord
from harness.errors import HarnessError
from harness.heartbeat import HEARTBEAT_INTERVAL_S, Heartbeat
from harness.model import ExitCode, Finding, ToolRun, WaiverUse
from harness.proc import Started
from harness.reading.assembly import CloudAssembly, load_assemblies
from harness.reading.rules import rules_digest as rules_files_digest
from harness.reading.sources import SourceMap, locate_findings, locate_properties, read_source_map
from harness.tools.nag import NagOutcome, acknowledgements_from
from harness.tools.run_cfnlint import collect_cfnlint, start_cfnlint
from harness.tools.run_checkov import CheckovLauncher, collect_checkov
from harness.tools.run_pytest import PytestGroup, TestRun, collect_pytest, start_pytest, tiers_progress
from harness.tools.synth import SynthesisRejectedError, synthesize
from harness.tools.tool_runs import Collected, Scanners, nag_tool_run, scanner_tool_runs
from harness.verdict.code_review import code_findings
from harness.verdict.content import content_findings
from harness.verdict.coverage import PolicyCoverage, coverage_findings
from harness.verdict.deployed_findings import deployment_findings
from harness.verdict.judge import waive_gate_findings, waiver_findings
from harness.verdict.reviewed import unreviewed_findings
from harness.verdict.tool_findings import Judged, tool_findings
from harness.verdict.verdicts import AssemblyVerdict, assembly_verdict, synthesis_rule_findings

if TYPE_CHECKING:
    from harness.tools.nag_include import IncludedNag
from harness.reading.worlds import Expansion, expand
from harness.tools.waivers import WaiverBook

Progress = Callable[[str], None]


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
    base: BaseRequest | None = None  # compare the head with a base (--base REF / --base-assembly PATH)
    # Where the rules that judge keep infra/spec.toml and cdk.json (harness.reading.rules); default ``root``.
    rules_root: Path | None = None
    accept_policy_change: str = ""  # --accept-policy-change REASON: the head's rules are accepted for this run
    context: Mapping[str, str] = field(default_factory=dict)  # -c KEY=VALUE: synthesize the app with these
    heartbeat_s: float = HEARTBEAT_INTERVAL_S  # a progress line at least this often during a long stage


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
    coverage: list[PolicyCoverage] = field(default_factory=list)
    error: str = ""
    duration_s: float = 0.0
    commands: list[str] = field(default_factory=list)  # what ran, scratch paths as $GATE_SCRATCH (evidence)
    comparison: Comparison | None = None  # with a base: the delta and the resource changes
    rules: RulesRecord | None = None  # the rules that judged; with a base, the base's too

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.status.gates]


def run_gate(options: GateOptions, *, catalog: Catalog, progress: Progress) -> GateResult:
    started_at = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gate-") as scratch:
        run = GateRun(options=options, catalog=catalog, progress=progress, scratch=Path(scratch))
        try:
            result = run.execute()
        except SynthesisRejectedError as rejected:
            result = run.rejected(str(rejected))
        finally:
            run.stop()
    result.duration_s = time.monotonic() - started_at
    return result


class GateRun:
    """One run of the gate; each method is one named stage."""

    def __init__(self, *, options: GateOptions, catalog: Catalog, progress: Progress, scratch: Path) -> None:
        self.options = options
        self.catalog = catalog
        self.progress = progress
        self.heartbeat = Heartbeat(progress=progress, interval_s=options.heartbeat_s)
        self.scratch = scratch
        self.running: list[Started] = []
        self.tool_runs: list[ToolRun] = []
        self.book = WaiverBook(waivers=catalog.waivers, today=options.today)
        # checkov's imports take ~4 s: start it first so they overlap synthesis and pytest.
        self.launcher = CheckovLauncher(
            executable=options.checkov,
            cwd=scratch,
            # The policies read the spec's values from the app's infra/spec.toml, wherever policies/ is.
            env={"STG_SPEC_MODULE": str((options.rules_root or options.root) / "infra" / "spec.py")},
        )
        self.synth_mode = not options.assemblies
        self.base_builder: BaseBuilder | None = None
        self.base: Base | None = None
        self.base_rules: BaseRules | None = None  # with a base: its rules (harness.comparison.base_rules)

    def stop(self) -> None:
        self.launcher.kill()
        for process in self.running:
            process.kill()
        if self.base_builder is not None:
            self.base_builder.stop()

    def execute(self) -> GateResult:
        self.prepare_base()
        groups = self.start_tiers()
        assemblies, construct_nag = self.obtain_assemblies()
        expansion = self.expand_worlds(assemblies)
        scanners = self.start_scanners(assemblies, expansion)
        # The template's own content (transforms, custom resources, secrets in its sections) is judged
        # on a thread while cdk-nag waits on Node.js: its detect-secrets import alone is ~0.5 s of CPU.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gate-content") as pool:
            content = pool.submit(content_findings, assemblies, policies=self.catalog.policies)
            included = self.run_template_nag(expansion)
            collected = self.collect(scanners, groups)
            findings, judged = self.judge(assemblies, expansion, construct_nag, included, collected)
            deployed = self.review_deployment(assemblies)
            gate_findings, coverage = self.check_coverage(assemblies, expansion, judged, content.result() + deployed)
        findings += waive_gate_findings(gate_findings, assemblies=assemblies, book=self.book)
        comparison = self.compare_resources(assemblies, findings)
        findings += comparison.findings if comparison else []
        findings += waiver_findings(self.book)
        findings = self.locate_sources(assemblies, findings)
        rules_record, policy_changes = self.judge_by_base_rules(assemblies, findings)
        findings += policy_changes
        findings.sort(key=Finding.sort_key)
        result = self.decide(assemblies, findings, collected, coverage)
        result.comparison = self.compare_findings(findings, comparison)
        result.rules = rules_record
        return result

    # -- stages ---------------------------------------------------------------------------

    def prepare_base(self) -> None:
        """With a base: resolve it and start synthesizing it (unless cached) while the head's stages run."""
        request = self.options.base
        if request is None:
            return
        if len(self.options.assemblies) > 1:
            count = len(self.options.assemblies)
            raise HarnessError(f"a comparison with a base judges one head: got {count} --assembly paths")
        self.base_builder = BaseBuilder(request, root=self.options.root, scratch=self.scratch, progress=self.progress)
        started = self.base_builder.start()
        if started is not None:
            self.running.append(started)
        commit = self.base_builder.commit if request.ref else ""
        self.base_rules = locate_base_rules(request, repository=self.options.root, commit=commit, scratch=self.scratch)

    def start_tiers(self) -> list[PytestGroup]:
        if not self.options.tiers:
            return []
        groups = start_pytest(root=self.options.root, tiers=self.options.tiers, scratch=self.scratch)
        self.running.extend(group.started for group in groups)
        self.progress("tests: started pytest on " + " | ".join(", ".join(g.tiers) for g in groups))
        self.heartbeat.background = lambda: f"tests: {tiers_progress(groups)}"  # until collect() waits on them
        return groups

    def obtain_assemblies(self) -> tuple[list[CloudAssembly], dict[str, NagOutcome]]:
        if not self.synth_mode:
            assemblies = load_assemblies(self.options.assemblies)
            count = sum(a.resource_count for a in assemblies)
            self.progress(f"assembly: {len(assemblies)} cloud assembly(ies), {count} resources")
            return assemblies, {}
        outdir = self.options.outdir or self.options.root / "cdk.out"
        self.progress(f"synth: synthesizing the app with the cdk-nag packs into {outdir}")
        began = time.monotonic()
        with self.heartbeat.stage("synth"):
            assembly, outcome = synthesize(
                outdir, acknowledgements=acknowledgements_from(self.catalog.waivers), context=self.options.context
            )
        self.tool_runs.append(nag_tool_run(began, outcome, command="python app.py (in-process synth)"))
        return [assembly], {assembly.label: outcome}

    def expand_worlds(self, assemblies: Sequence[CloudAssembly]) -> Expansion:
        expansion = expand(assemblies, directory=self.scratch / "worlds")
        templates = sum(len(a.stacks) for a in assemblies)
        self.progress(f"worlds: {len(expansion.targets)} deploy-time world(s) of {templates} template(s)")
        return expansion

    def start_scanners(self, assemblies: Sequence[CloudAssembly], expansion: Expansion) -> Scanners:
        files = [t.path for t in expansion.targets]
        originals = [stack.path for a in assemblies for stack in a.stacks]
        self.progress(f"checkov + cfn-lint: scanning {len(files)} world file(s), {len(originals)} template(s)")
        checkov = self.launcher.scan(templates=files, external_checks_dir=self.catalog.checks_dir)
        self.running.append(checkov)
        regions = [stack.region for a in assemblies for stack in a.stacks]
        lint = start_cfnlint(
            executable=self.options.cfn_lint, templates=originals, regions=regions, cwd=self.options.root
        )
        self.running.extend(lint)
        expected = sum(len(t.body.get("Resources") or {}) for t in expansion.targets)
        return Scanners(checkov=checkov, lint=lint, templates=originals, expected_resources=expected)

    def run_template_nag(self, expansion: Expansion) -> IncludedNag:
        # cdk-nag over the world files (CfnInclude) in both modes, while checkov and cfn-lint run: in
        # synthesis mode it adds what the construct tree hides from the packs (CDK's raw helper
        # resources become typed L1s), so both paths judge the same and share one set of waivers.
        from harness.tools.nag_include import run_nag_on_targets  # noqa: PLC0415  (starts jsii)

        self.progress("cdk-nag: running the packs over the world files via CfnInclude")
        began = time.monotonic()
        # Synthesis mode keeps only cdk-nag's findings of this run (judge()): CDK's own validation
        # already ran on the app's synthesis.
        with self.heartbeat.stage("cdk-nag"):
            included = run_nag_on_targets(
                expansion.targets, waivers=self.catalog.waivers, cdk_validation=not self.synth_mode
            )
        if included.unmapped:
            first = included.unmapped[0]
            raise HarnessError(
                f"cdk-nag reported {first.namespaced_rule} on {first.construct_path!r}, no resource of the templates"
            )
        outcomes = list(included.outcomes.values())
        self.tool_runs.append(
            nag_tool_run(
                began, *outcomes, command="CfnInclude + Validations (in-process)", resources=included.resources,
                runs=included.runs,
            )
        )  # fmt: skip
        self.progress(f"cdk-nag: {sum(len(o.violations) + len(o.suppressed) for o in outcomes)} finding(s)")
        return included

    def collect(self, scanners: Scanners, groups: Sequence[PytestGroup]) -> Collected:
        with self.heartbeat.stage("cfn-lint"):
            lint = collect_cfnlint(scanners.lint, templates=scanners.templates)
        self.progress(f"cfn-lint: {len(lint.matches)} finding(s) in {lint.duration_s:.1f} s")
        with self.heartbeat.stage("checkov"):
            checkov = collect_checkov(
                scanners.checkov,
                expected_resources=scanners.expected_resources,
                verdicts_file=self.launcher.verdicts_file,
            )
        self.progress(f"checkov: {len(checkov.results)} result(s) on {checkov.resource_count} resources")
        tests = None
        if groups:
            reports_dir = self.options.reports_dir or self.options.root / "reports"
            tiers = ", ".join(self.options.tiers)
            self.heartbeat.background = None  # the tiers are the stage now: their progress is its detail
            with self.heartbeat.stage(f"tests ({tiers})", detail=lambda: tiers_progress(groups)):
                tests = collect_pytest(groups, junit_xml=reports_dir / "tests.junit.xml", root=self.options.root)
            self.progress(f"tests: {len(tests.cases)} test(s), {tests.count('failed') + tests.count('error')} failing")
        return Collected(checkov=checkov, lint=lint, tests=tests)

    def judge(
        self,
        assemblies: Sequence[CloudAssembly],
        expansion: Expansion,
        construct_nag: dict[str, NagOutcome],
        included: IncludedNag,
        collected: Collected,
    ) -> tuple[list[Finding], Judged]:
        """Findings of every tool, and which (check, world file, resource) got a verdict (for coverage)."""
        return tool_findings(
            assemblies=assemblies, expansion=expansion, construct_nag=construct_nag, included=included,
            collected=collected, catalog=self.catalog, book=self.book, synth_mode=self.synth_mode,
            checkov=self.options.checkov, cfn_lint=self.options.cfn_lint,
        )  # fmt: skip

    def review_deployment(self, assemblies: Sequence[CloudAssembly]) -> list[Finding]:
        """What deploys: each stack's template as published, its assets, and the code it runs, reviewed."""
        findings = deployment_findings(assemblies) + code_findings(assemblies, reviewed=self.catalog.reviewed_code)
        unreviewed = sum(1 for f in findings if f.status.gates)
        self.progress(
            f"deployment: {len(findings)} check(s) of deployed templates, assets and code; {unreviewed} gap(s)"
        )
        return findings

    def check_coverage(
        self,
        assemblies: Sequence[CloudAssembly],
        expansion: Expansion,
        judged: Judged,
        content: list[Finding],
    ) -> tuple[list[Finding], list[PolicyCoverage]]:
        gaps, coverage = coverage_findings(
            self.catalog.policies, assemblies=assemblies, expansion=expansion, judged=judged
        )
        # Deny by default: a type, property, attribute or key no one reviewed is NOT EVALUATED.
        unreviewed = unreviewed_findings(assemblies, registry=self.catalog.registry) if self.catalog.registry else []
        self.progress(
            f"coverage: {len(gaps)} gap(s); {len(content)} place(s) left to deploy time or outside policies/; "
            f"{len(unreviewed)} unreviewed (policies/registry)"
        )
        return [*gaps, *content, *unreviewed], coverage

    def compare_resources(self, assemblies: Sequence[CloudAssembly], findings: Sequence[Finding]) -> Comparison | None:
        """With a base: each resource the change adds, removes, modifies or replaces; stateful ones gate."""
        if self.base_builder is None:
            return None
        rules = load_change_rules(self.catalog.policies_dir)
        digest = self._judging_digest()
        head = assemblies[0]
        if not self.synth_mode:  # judged exactly as a base is: the next comparison may have it as its base
            judged = locate_findings([*findings, *waiver_findings(self.book)], self._sources(head))
            self.base_builder.remember(head, judged, rules=digest)
        with self.heartbeat.stage(f"base {self.base_builder.request.label}"):
            self.base = self.base_builder.finish(judge=self._judge_base, rules=digest)
        comparison, run = resource_comparison(
            self.base.assembly, head, base_label=self.base.label, rules=rules, book=self.book,
            head_sources=self._sources(head),
        )  # fmt: skip
        gated = sum(1 for f in comparison.findings if f.status.gates)
        self.progress(
            f"changes: {len(comparison.changes)} resource(s) differ from the base; {gated} stateful one(s) gate"
        )
        self.tool_runs.append(run)
        return comparison

    def locate_sources(self, assemblies: Sequence[CloudAssembly], findings: Sequence[Finding]) -> list[Finding]:
        """Every finding with the infra/ line that created its construct, where the assembly carries the map."""
        sources = {a.label: self._sources(a) for a in assemblies}
        return locate_properties(locate_findings(findings, sources), sources)

    def compare_findings(self, findings: Sequence[Finding], comparison: Comparison | None) -> Comparison | None:
        """With a base: which violations the change introduced, fixed or left unchanged."""
        if comparison is None or self.base is None:
            return None
        base = self.base
        delta = compare_findings(findings, base.findings, label=base.label, commit=base.commit)
        comparison.delta = delta
        counts = f"{len(delta.introduced)} introduced, {len(delta.fixed)} fixed, {len(delta.unchanged)} unchanged"
        self.progress(f"delta: {counts} violation(s) against {base.label}")
        return comparison

    def judge_by_base_rules(
        self, assemblies: Sequence[CloudAssembly], findings: Sequence[Finding]
    ) -> tuple[RulesRecord, list[Finding]]:
        """With a base's rules: the head judged again by them; what only the head's rules let pass gates."""
        root = self.options.rules_root or self.options.root
        head = head_rules(root=root, policies_dir=self.catalog.policies_dir, scratch=self.scratch)
        return judge_by_base_rules(
            findings, head=head, base=self.base_rules if self.base_builder else None,
            accept=self.options.accept_policy_change, progress=self.progress,
            rejudge=lambda rules_root, catalog: self._judge_by(assemblies[0], rules_root, catalog=catalog),
        )  # fmt: skip

    def _judge_by(self, head: CloudAssembly, rules_root: Path, *, catalog: Catalog) -> list[Finding]:
        """The head's findings under the rules checked out at ``rules_root`` (cached like a base's)."""
        assert self.options.base is not None
        key = self._judging_digest() + "-base-rules-" + rules_files_digest(rules_root).removeprefix("sha256:")[:16]
        cache_file = findings_file(self.options.base.cache, head, key)
        cached = read_findings(cache_file)
        if cached is not None:
            self.progress(f"rules: {len(cached)} finding(s) of the head under the base's rules from the cache")
            return cached
        source = self.base_rules.source if self.base_rules else ""
        judged = locate_findings(
            self._nested(head.root, catalog=catalog, rules_root=rules_root, prefix="base rules",
                         what=f"judging the head by the base's rules ({source})"),
            self._sources(head),
        )  # fmt: skip
        write_findings(cache_file, judged)
        return judged

    def _judging_digest(self) -> str:
        """What judged this run (its policies, tools and date): the key of the findings cached for a base."""
        tools = [self.options.checkov, self.options.cfn_lint]
        today = self.options.today.isoformat()
        return rules_digest(root=self.options.root, policies_dir=self.catalog.policies_dir, tools=tools, today=today)

    def _sources(self, assembly: CloudAssembly) -> SourceMap:
        return read_source_map(assembly.root)

    def _judge_base(self, path: Path) -> list[Finding]:
        """The base's findings: judged by the same catalog."""
        label = self.options.base.label if self.options.base else path
        return self._nested(
            path, catalog=self.catalog, rules_root=None, prefix="base", what=f"judging the base {label}"
        )

    def _nested(
        self, path: Path, *, catalog: Catalog, rules_root: Path | None, prefix: str, what: str
    ) -> list[Finding]:
        """The findings of a nested gate run in --assembly mode with this run's tools and date."""
        nested = GateOptions(
            root=self.options.root, assemblies=[path], checkov=self.options.checkov, cfn_lint=self.options.cfn_lint,
            today=self.options.today, rules_root=rules_root,
        )  # fmt: skip
        try:
            return run_gate(nested, catalog=catalog, progress=lambda line: self.progress(f"{prefix}: {line}")).findings
        except HarnessError as error:
            raise HarnessError(f"{what}: {error}") from error

    def decide(
        self,
        assemblies: Sequence[CloudAssembly],
        findings: list[Finding],
        collected: Collected,
        coverage: list[PolicyCoverage],
    ) -> GateResult:
        self.tool_runs += scanner_tool_runs(
            collected, findings=findings, policies=len(self.catalog.policies), cfn_lint=self.options.cfn_lint, tiers=self.options.tiers,
        )  # fmt: skip
        verdicts = [assembly_verdict(label=a.label, path=str(a.root), findings=findings) for a in assemblies]
        return GateResult(
            mode="synth" if self.synth_mode else "assembly",
            exit_code=max((v.exit_code for v in verdicts), default=ExitCode.CLEAN),
            findings=findings,
            tool_runs=sorted(self.tool_runs, key=lambda r: (r.source.value, r.command)),
            waivers=self.book.report(),
            assemblies=verdicts,
            catalog=self.catalog,
            tests=collected.tests,
            coverage=coverage,
            commands=self.commands(),
        )

    def commands(self) -> list[str]:
        """The commands this run started, exactly, without this machine's scratch directory (for the evidence)."""
        argvs = [process.argv for process in self.running]
        return gate_commands(argvs, synth_mode=self.synth_mode, root=self.options.root, scratch=str(self.scratch))

    def rejected(self, message: str) -> GateResult:
        """The app refused by its own synthesis-time rules: a violation per offending construct; nothing else can run."""
        label = (self.options.outdir or self.options.root / "cdk.out").name
        findings = synthesis_rule_findings(message, label=label)
        return GateResult(
            mode="synth",
            exit_code=ExitCode.VIOLATIONS,
            findings=findings,
            tool_runs=[],
            waivers=self.book.report(),
            assemblies=[
                AssemblyVerdict(label=label, path="", exit_code=ExitCode.VIOLATIONS, failed_rules=["synthesis-rule"])
            ],
            catalog=self.catalog,
        )
