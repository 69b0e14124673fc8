"""``python -m harness``: the compliance gate's command line (``nox -s compliance`` runs it).

Exit codes: 0 clean, 1 violations, 2 the harness itself failed (missing tool, crash,
unparseable input, empty assembly, a check that did not run). Reports go to ``reports/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from harness.audit import oscal
from harness.audit.attest import KEY_PASSWORD_ENV
from harness.audit.evidence import RunClock
from harness.audit.outcome import gate_bundle_input, publish, refuse
from harness.audit.outputs import clear_outputs
from harness.errors import HarnessError
from harness.model import ExitCode
from harness.paths import ROOT, link_base, relative_to_root
from harness.reporting.console import Console
from harness.reporting.report_fields import catalog_fields, error_input, plain
from harness.reporting.reports import ReportInput

DEFAULT_CHECKOV = ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov"


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m harness",
        description="The compliance gate: cdk-nag, checkov, the project policies, cfn-lint and the test tiers "
        "on the synthesized app (or on --assembly), folded into one verdict and the reports in reports/.",
        epilog="exit codes: 0 clean, 1 violations, 2 harness failure (see docs/compliance-gate.md); "
        "python -m harness verify --reports DIR --assembly PATH checks an assembly against a run's evidence; "
        "python -m harness merge DIR... folds the reports of a CI matrix's shards (--shard) into one verdict",
    )
    p.add_argument(
        "--assembly",
        action="append",
        type=Path,
        default=[],
        metavar="PATH",
        help="gate an existing cloud assembly instead of synthesizing (repeatable); skips the test tiers",
    )
    p.add_argument("--out", type=Path, default=None, help="where to synthesize (default: cdk.out)")
    p.add_argument("--reports", type=Path, default=ROOT / "reports", help="report directory (default: reports/)")
    p.add_argument(
        "--checkov",
        default=os.environ.get("CHECKOV_BIN", str(DEFAULT_CHECKOV)),
        help="checkov executable (default: $CHECKOV_BIN or .nox/_checkov-tool/bin/checkov)",
    )
    p.add_argument("--cfn-lint", default=None, help="cfn-lint executable (default: the one next to this Python)")
    p.add_argument(
        "--tiers",
        default=None,
        help="comma-separated test tiers to run (default: unit,snapshot,property; none with --assembly)",
    )
    p.add_argument("--no-tests", action="store_true", help="do not run the test tiers")
    p.add_argument(
        "-c",
        "--context",
        action="append",
        type=context_pair,
        default=[],
        metavar="KEY=VALUE",
        help="context override the app is synthesized with, as `cdk synth -c` (repeatable; also for the base "
        "of --base); not with --assembly",
    )
    p.add_argument("--policies", type=Path, default=None, help="policies directory (default: policies/)")
    p.add_argument("--today", type=_date, default=None, help="date for waiver expiry (YYYY-MM-DD)")
    base = p.add_mutually_exclusive_group()
    base.add_argument(
        "--base",
        default=None,
        metavar="REF",
        help="compare with the app synthesized at git ref REF (temporary worktree, same toolchain, cached per commit)",
    )
    base.add_argument(
        "--base-assembly", type=Path, default=None, metavar="PATH", help="compare with an existing cloud assembly"
    )
    p.add_argument(
        "--base-rules",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --base-assembly: the checkout holding the base's rules (policies/, infra/spec.toml, cdk.json); "
        "the head is judged by them too (--base REF reads them from git)",
    )
    p.add_argument(
        "--accept-policy-change",
        default=None,
        metavar="REASON",
        help="accept the head's rules where they let pass what the base's rules fail (gate:policy-change); "
        "recorded with both rules digests in compliance.json and the evidence. CI passes it only for a pull "
        "request the policy owners approved (docs/compliance-gate.md)",
    )
    p.add_argument(
        "--base-cache",
        type=Path,
        default=None,
        metavar="DIR",
        help="where bases and their findings are cached (default: .cache/compliance-base)",
    )
    p.add_argument(
        "--source-url",
        default=None,
        metavar="URL",
        help="prefix of links to source lines in compliance.md, e.g. https://github.com/ORG/REPO/blob/SHA/ "
        "(default: a path relative to the reports directory)",
    )
    p.add_argument(
        "--shard",
        type=shard_spec,
        default=None,
        metavar="I/N",
        help="this run is shard I of N of a CI matrix (recorded in compliance.json; python -m harness merge "
        "requires every shard 1..N exactly once)",
    )
    p.add_argument(
        "--shard-name",
        type=shard_name,
        default=None,
        metavar="NAME",
        help="name of this shard, e.g. the app it gates (default: shard-I); with --shard",
    )
    p.add_argument(
        "--sign-key",
        type=Path,
        default=None,
        metavar="PATH",
        help="sign the run's in-toto statement (reports/attestation/) with this ed25519 private key (PEM); "
        f"an encrypted key reads its password from ${KEY_PASSWORD_ENV}",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


SHARD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def shard_spec(value: str) -> tuple[int, int]:
    """``I/N`` with 1 <= I <= N (argparse type: one line naming the value and a valid example)."""
    index, _, total = value.partition("/")
    if not (index.isdigit() and total.isdigit() and 1 <= int(index) <= int(total)):
        raise argparse.ArgumentTypeError(f"{value!r} is not I/N with 1 <= I <= N (valid example: 2/4)")
    return int(index), int(total)


def shard_name(value: str) -> str:
    if not SHARD_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a shard name: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit "
            "(valid example: payments-api)"
        )
    return value


def context_pair(value: str) -> tuple[str, str]:
    """``KEY=VALUE`` as the CDK CLI's ``-c`` takes it (argparse type: one line naming the value and an example)."""
    key, equals, setting = value.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE (valid example: -c environmentSuffix=pr42)")
    return key.strip(), setting


def _date(value: str) -> dt.date:
    """A calendar date (argparse type: one line naming the value and a valid example)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date YYYY-MM-DD (valid example: 2026-11-30)") from None


def _shard(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.shard is None:
        return None
    index, total = args.shard
    return {"index": index, "total": total, "name": args.shard_name or f"shard-{index}"}


def main(argv: Sequence[str] | None = None) -> int:
    """The gate, or ``verify`` (an assembly against a run's evidence, harness.audit.evidence)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        from harness.audit.verify import verify_main  # noqa: PLC0415

        return verify_main(argv[1:])
    if argv[:1] == ["merge"]:
        from harness.merging.merge import merge_main  # noqa: PLC0415

        return merge_main(argv[1:])
    return _gate_main(argv)


class ArgumentsRefusedError(Exception):
    """The command line was refused: one line, and the reports directory named in it is cleared."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentsRefusedError(f"{self.prog}: {message} (python -m harness --help lists the options)")


class GateInterrupted(BaseException):
    """SIGTERM (CI cancelling the job), raised like KeyboardInterrupt so every stage stops and cleans up."""


def _gate_main(argv: list[str]) -> int:
    try:
        clock = RunClock()
        args = _parse(argv)
        signer = _signer(args)
    except (ArgumentsRefusedError, HarnessError) as refused:
        print(f"compliance gate error: {refused}", file=sys.stderr)
        refuse(_reports_of(argv), mode="synth", error=str(refused), error_input=error_input)
        return int(ExitCode.HARNESS_FAILURE)
    console = Console(quiet=args.quiet)
    reports_dir: Path = args.reports.resolve()
    mode = "assembly" if args.assembly else "synth"
    problem = _unwritable(reports_dir)
    if problem:
        print(f"compliance gate error: {problem}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    # A previous run's files go first: whatever ends this run, none of them may remain.
    clear_outputs(reports_dir)
    oscal.prewarm()  # trestle's models import (~1 s) overlaps the gate's tools
    restore = _terminate_as_interrupt()
    try:
        return _run(args, argv, clock=clock, signer=signer, console=console, reports_dir=reports_dir, mode=mode)
    except (KeyboardInterrupt, GateInterrupted) as stop:
        how = "SIGTERM" if isinstance(stop, GateInterrupted) else "SIGINT"
        print(f"compliance gate error: interrupted ({how}) before the verdict", file=sys.stderr)
        refuse(
            reports_dir, mode=mode, error=f"interrupted ({how}) before the verdict: no verdict", error_input=error_input
        )
        return int(ExitCode.HARNESS_FAILURE)
    except Exception as error:  # a crash outside the stages: one line, this run's ERROR report, never a traceback
        crash = f"gate crashed: {type(error).__name__}: {error}"
        print(f"compliance gate error: {crash}", file=sys.stderr)
        refuse(reports_dir, mode=mode, error=crash, error_input=error_input)
        return int(ExitCode.HARNESS_FAILURE)
    finally:
        restore()


def _run(
    args: argparse.Namespace,
    argv: list[str],
    *,
    clock: RunClock,
    signer: Any,
    console: Console,
    reports_dir: Path,
    mode: str,
) -> int:
    catalog = None
    result = None
    try:
        from harness.gate import GateOptions, load_catalog, run_gate  # noqa: PLC0415
        from harness.proc import resolve_executable  # noqa: PLC0415
        from harness.tools.run_cfnlint import default_executable  # noqa: PLC0415
        from harness.tools.run_pytest import TIERS  # noqa: PLC0415

        checkov = resolve_executable(args.checkov, tool="checkov")
        cfn_lint = resolve_executable(args.cfn_lint or default_executable(), tool="cfn-lint")
        if args.no_tests:
            tiers: tuple[str, ...] = ()
        elif args.tiers is not None:
            tiers = tuple(t for t in args.tiers.split(",") if t)
        else:
            tiers = () if args.assembly else TIERS
        console.progress(f"policies: loading the catalog from policies/ ({mode} mode)")
        catalog = load_catalog(args.policies.resolve() if args.policies else None)
        options = GateOptions(
            root=ROOT,
            assemblies=list(args.assembly),
            outdir=args.out.resolve() if args.out else None,
            reports_dir=reports_dir,
            checkov=checkov,
            cfn_lint=cfn_lint,
            tiers=tiers,
            today=args.today or dt.date.today(),
            base=_base_request(args),
            accept_policy_change=args.accept_policy_change or "",
            context=dict(args.context),
        )
        if args.context:
            # The base (--base) is synthesized in another process, as `cdk synth -c` hands context over.
            cli_context = json.loads(os.environ.get("CDK_CONTEXT_JSON") or "{}")
            os.environ["CDK_CONTEXT_JSON"] = json.dumps({**cli_context, **dict(args.context)}, sort_keys=True)
        result = run_gate(options, catalog=catalog, progress=console.progress)
        data = dataclasses.replace(report_input(result), link_base=link_base(args.source_url, reports_dir))
    except HarnessError as error:
        data = error_input(mode=mode, error=str(error))
    except Exception as error:  # a crash in the gate itself is a harness failure too, never a pass
        data = error_input(mode=mode, error=f"gate crashed: {type(error).__name__}: {error}")
    # A shard that failed records who it is too: the merge must count it, never miss it.
    data = dataclasses.replace(data, shard=_shard(args))
    times = clock.times()
    console.progress("outcome: controls, evidence, OSCAL, reports, statement" + (" (signed)" if signer else ""))
    published = publish(
        data,
        reports_dir=reports_dir,
        root=ROOT,
        bundle_input=lambda d: gate_bundle_input(
            d, root=ROOT, argv=argv, catalog=catalog, result=result, given=args.assembly, times=times
        ),
        signer=signer,
        error_input=lambda error: error_input(mode=mode, error=error),
    )
    data = published.data
    console.summary(data, report_dir=_shown(reports_dir))
    if data.error:
        print(f"compliance gate error: {data.error}", file=sys.stderr)
    return int(data.exit_code)


def _signer(args: argparse.Namespace) -> Any:
    if args.sign_key is None:
        return None
    from harness.audit.attest import load_signer  # noqa: PLC0415

    return load_signer(args.sign_key)


def _reports_of(argv: list[str]) -> Path | None:
    """The --reports directory of a refused command line (default reports/), or None when it cannot be told."""
    lenient = argparse.ArgumentParser(add_help=False)
    lenient.add_argument("--reports", type=Path, default=ROOT / "reports")
    try:
        known, _ = lenient.parse_known_args(argv)
    except SystemExit:
        return None
    reports: Path = known.reports
    return reports.resolve()


def _terminate_as_interrupt() -> Callable[[], None]:
    """SIGTERM raises GateInterrupted in the main thread (so the stages stop their tools); returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def interrupt(_signum: int, _frame: Any) -> None:
        raise GateInterrupted

    previous = signal.signal(signal.SIGTERM, interrupt)

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


def _parse(argv: list[str]) -> argparse.Namespace:
    cli = parser()
    args = cli.parse_args(argv)
    if args.shard_name is not None and args.shard is None:
        cli.error("--shard-name needs --shard I/N (valid example: --shard 2/4 --shard-name payments-api)")
    if args.base_rules is not None and args.base_assembly is None:
        cli.error("--base-rules goes with --base-assembly (--base REF reads the base's rules from git)")
    if args.base_rules is not None and not (args.base_rules / "policies").is_dir():
        cli.error(
            f"--base-rules {args.base_rules}: no policies/ there (give the base's checkout, e.g. --base-rules base/)"
        )
    if args.accept_policy_change is not None:
        if args.base is None and args.base_assembly is None:
            cli.error("--accept-policy-change accepts the head's rules against a base: give --base REF too")
        if not args.accept_policy_change.strip():
            cli.error(
                '--accept-policy-change needs a reason (valid example: --accept-policy-change "REQ-DB-05 '
                'retention raised to 14 days, approved by policy-owners in PR #42")'
            )
    if args.context and args.assembly:
        cli.error(
            "-c/--context overrides the context the gate synthesizes the app with; an --assembly is already "
            "synthesized (synthesize it with the override first: nox -s synth -- -c KEY=VALUE -o out)"
        )
    return args


def _base_request(args: argparse.Namespace) -> Any:
    from harness.comparison.base import DEFAULT_CACHE, BaseRequest  # noqa: PLC0415

    if args.base is None and args.base_assembly is None:
        return None
    cache = (args.base_cache or ROOT / DEFAULT_CACHE).resolve()
    return BaseRequest(ref=args.base or "", assembly=args.base_assembly, cache=cache, rules=args.base_rules)


def _unwritable(directory: Path) -> str:
    """Why the reports cannot be written to ``directory`` (empty when they can)."""
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is None or not existing.is_dir():
        return f"cannot write the reports to {directory}: {existing} is not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot write the reports to {directory}: {existing} is not writable"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-probe-{os.getpid()}"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as error:
        return f"cannot write the reports to {directory}: {error.strerror}"
    return ""


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def report_input(result: Any) -> ReportInput:
    from harness.reporting.reports import with_template_lines  # noqa: PLC0415
    from harness.verdict.controls import annotate  # noqa: PLC0415

    catalog = result.catalog
    delta, changes = result.comparison.records() if result.comparison is not None else (None, [])
    findings = annotate(result.findings, catalog.mappings, keys=[f.key for f in catalog.frameworks])
    fields = catalog_fields(catalog)
    if result.comparison is not None:  # the change policies of the comparison with a base (harness.comparison.delta)
        fields["policies"] = [*fields["policies"], *result.comparison.policy_records()]
    return ReportInput(
        exit_code=result.exit_code,
        mode=result.mode,
        error="",
        findings=with_template_lines(findings, {a.label: a.path for a in result.assemblies if a.path}),
        assemblies=[
            {
                "label": a.label,
                "path": relative_to_root(Path(a.path)),
                "abs_path": a.path,
                "exit_code": int(a.exit_code),
                "failed_rules": a.failed_rules,
            }
            for a in result.assemblies
        ],
        waivers=[plain(w) for w in result.waivers],
        tools=[
            {
                "tool": r.source.value,
                "version": r.version,
                "command": r.command,
                "evaluated": r.evaluated,
                "notes": r.notes,
                **({"packs": [plain(p) for p in r.packs]} if r.packs else {}),
            }
            for r in result.tool_runs
        ],
        root=ROOT,
        coverage=[plain(c) for c in result.coverage],
        delta=delta,
        changes=changes,
        rules=result.rules.record() if result.rules is not None else None,
        **fields,
    )
