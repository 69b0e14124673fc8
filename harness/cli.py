"""``python -m harness``: the compliance gate's command line (``nox -s compliance`` runs it).

Exit codes: 0 clean, 1 violations, 2 the harness itself failed (missing tool, crash,
unparseable input, empty assembly, a check that did not run). Reports go to ``reports/``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import oscal
from harness.bundle import clear_bundle
from harness.console import Console
from harness.errors import HarnessError
from harness.model import ExitCode
from harness.reports import ReportInput, clear_reports, write_reports

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOV = ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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
    """The gate, or ``verify`` (an assembly against a run's evidence, harness.evidence)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:
        from harness.evidence import verify_main  # noqa: PLC0415

        return verify_main(argv[1:])
    if argv[:1] == ["merge"]:
        from harness.merge import merge_main  # noqa: PLC0415

        return merge_main(argv[1:])
    return _gate_main(argv)


def _gate_main(argv: list[str]) -> int:
    args = _parse(argv)
    console = Console(quiet=args.quiet)
    reports_dir: Path = args.reports.resolve()
    mode = "assembly" if args.assembly else "synth"
    problem = _unwritable(reports_dir)
    if problem:
        print(f"compliance gate error: {problem}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    # A previous run's reports go first: a run killed midway must not leave an earlier PASS in place.
    clear_reports(reports_dir)
    clear_bundle(reports_dir)
    oscal.prewarm()  # trestle's models import (~1 s) overlaps the gate's tools
    catalog = None
    result = None
    try:
        from harness.gate import GateOptions, load_catalog, run_gate  # noqa: PLC0415
        from harness.proc import resolve_executable  # noqa: PLC0415
        from harness.run_cfnlint import default_executable  # noqa: PLC0415
        from harness.run_pytest import TIERS  # noqa: PLC0415

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
        )
        result = run_gate(options, catalog=catalog, progress=console.progress)
        data = dataclasses.replace(report_input(result), link_base=_link_base(args.source_url, reports_dir))
    except HarnessError as error:
        data = error_input(mode=mode, error=str(error))
    except Exception as error:  # a crash in the gate itself is a harness failure too, never a pass
        data = error_input(mode=mode, error=f"gate crashed: {type(error).__name__}: {error}")
    # A shard that failed records who it is too: the merge must count it, never miss it.
    data = dataclasses.replace(data, shard=_shard(args))
    try:
        data = write_auditor_bundle(data, reports_dir=reports_dir, argv=argv, catalog=catalog, result=result, args=args)
    except HarnessError as error:
        data = dataclasses.replace(error_input(mode=mode, error=str(error)), shard=_shard(args))
    except OSError as error:
        print(f"compliance gate error: cannot write the evidence to {reports_dir}: {error.strerror}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    try:
        write_reports(data, reports_dir)
    except OSError as error:
        print(f"compliance gate error: cannot write the reports to {reports_dir}: {error.strerror}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    console.summary(data, report_dir=_shown(reports_dir))
    if data.error:
        print(f"compliance gate error: {data.error}", file=sys.stderr)
    return int(data.exit_code)


def _parse(argv: list[str]) -> argparse.Namespace:
    cli = parser()
    args = cli.parse_args(argv)
    if args.shard_name is not None and args.shard is None:
        cli.error("--shard-name needs --shard I/N (valid example: --shard 2/4 --shard-name payments-api)")
    return args


def _base_request(args: argparse.Namespace) -> Any:
    from harness.base import DEFAULT_CACHE, BaseRequest  # noqa: PLC0415

    if args.base is None and args.base_assembly is None:
        return None
    cache = (args.base_cache or ROOT / DEFAULT_CACHE).resolve()
    return BaseRequest(ref=args.base or "", assembly=args.base_assembly, cache=cache)


def _link_base(source_url: str | None, reports_dir: Path) -> str:
    """How compliance.md links a source line: the given URL prefix, or the way back from reports/ to the root."""
    if source_url:
        return source_url if source_url.endswith("/") else source_url + "/"
    return Path(os.path.relpath(ROOT, reports_dir)).as_posix() + "/"


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


def _plain(obj: Any) -> Any:  # noqa: PLR0911
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return _relative(obj)
    if isinstance(obj, (dt.date,)):
        return obj.isoformat()
    if hasattr(obj, "value") and isinstance(obj.value, (str, int)):
        return obj.value
    return obj


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def catalog_fields(catalog: Any) -> dict[str, Any]:
    """What the reports take from policies/ (the gate and ``python -m harness merge`` alike)."""
    from harness.catalog import render_catalog_markdown  # noqa: PLC0415
    from harness.catalog.registry import summary as registry_summary  # noqa: PLC0415
    from harness.mutations import MUTATIONS  # noqa: PLC0415

    return {
        "requirements": [_plain(r) for r in catalog.requirements],
        "policies": [{**_plain(p), "test_ids": list(p.test_ids)} for p in catalog.policies],
        "mappings": [_plain(m) for m in catalog.mappings],
        "mutations": [{"name": m.name, "policies": sorted(m.expected)} for m in MUTATIONS],
        "catalog_markdown": render_catalog_markdown(
            requirements=catalog.requirements,
            policies=catalog.policies,
            mappings=catalog.mappings,
            waivers=catalog.waivers,
            registry=catalog.registry,
        ),
        "registry": registry_summary(catalog.registry) if catalog.registry is not None else [],
    }


def report_input(result: Any) -> ReportInput:
    from harness.controls import annotate  # noqa: PLC0415
    from harness.reports import with_template_lines  # noqa: PLC0415

    catalog = result.catalog
    delta, changes = result.comparison.records() if result.comparison is not None else (None, [])
    findings = annotate(result.findings, catalog.mappings, keys=[f.key for f in catalog.frameworks])
    fields = catalog_fields(catalog)
    if result.comparison is not None:  # the change policies of the comparison with a base (harness.delta)
        fields["policies"] = [*fields["policies"], *result.comparison.policy_records()]
    return ReportInput(
        exit_code=result.exit_code,
        mode=result.mode,
        error="",
        findings=with_template_lines(findings, {a.label: a.path for a in result.assemblies if a.path}),
        assemblies=[
            {
                "label": a.label,
                "path": _relative(Path(a.path)),
                "abs_path": a.path,
                "exit_code": int(a.exit_code),
                "failed_rules": a.failed_rules,
            }
            for a in result.assemblies
        ],
        waivers=[_plain(w) for w in result.waivers],
        tools=[
            {
                "tool": r.source.value,
                "version": r.version,
                "command": r.command,
                "evaluated": r.evaluated,
                "notes": r.notes,
                **({"packs": [_plain(p) for p in r.packs]} if r.packs else {}),
            }
            for r in result.tool_runs
        ],
        root=ROOT,
        coverage=[_plain(c) for c in result.coverage],
        delta=delta,
        changes=changes,
        **fields,
    )


def error_input(*, mode: str, error: str) -> ReportInput:
    return ReportInput(
        exit_code=ExitCode.HARNESS_FAILURE,
        mode=mode,
        error=error,
        findings=[],
        assemblies=[],
        waivers=[],
        tools=[],
        requirements=[],
        policies=[],
        mappings=[],
        mutations=[],
        root=ROOT,
    )


def write_auditor_bundle(
    data: ReportInput, *, reports_dir: Path, argv: Sequence[str], catalog: Any, result: Any, args: argparse.Namespace
) -> ReportInput:
    """controls.md, evidence/ and oscal/ (harness.bundle); returns ``data`` with the per-control roll-up."""
    from harness.bundle import BundleInput, write_bundle  # noqa: PLC0415
    from harness.catalog import POLICIES_DIR  # noqa: PLC0415
    from harness.evidence import reproducible_time, sanitize  # noqa: PLC0415

    timestamp = reproducible_time(ROOT)
    frameworks = list(catalog.frameworks) if catalog is not None else []
    mappings = list(catalog.mappings) if catalog is not None else []
    controls = control_roll_up(data, catalog)
    assemblies = list(data.assemblies) or [
        {"label": p.resolve().name, "abs_path": str(p.resolve())} for p in args.assembly if p.is_dir()
    ]
    gate_command = sanitize(" ".join(["python -m harness", *argv]), root=ROOT)
    write_bundle(
        BundleInput(
            root=ROOT,
            policies_dir=catalog.policies_dir if catalog is not None else POLICIES_DIR,
            verdict=evidence_verdict(data),
            findings=data.findings,
            controls=controls,
            assemblies=assemblies,
            tools=data.tools,
            commands=[gate_command, *(result.commands if result is not None else [])],
            versions=tool_versions(),
            timestamp=timestamp,
            frameworks=frameworks,
            mappings=mappings,
            policies=list(catalog.policies) if catalog is not None else [],
        ),
        reports_dir,
    )
    return dataclasses.replace(data, controls=[c.as_dict() for c in controls])


def control_roll_up(data: ReportInput, catalog: Any) -> list[Any]:
    """One status per in-scope control (harness.controls.roll_up) from the report input; none without policies/."""
    from harness.controls import roll_up, tools_ran  # noqa: PLC0415

    if catalog is None or not catalog.frameworks:
        return []
    applicable = {str(c["policy"]): int(c["resources"]) for c in data.coverage}
    return roll_up(
        data.findings,
        list(catalog.mappings),
        list(catalog.frameworks),
        ran=tools_ran(data.tools),
        applicable=applicable,
    )


def evidence_verdict(data: ReportInput) -> dict[str, Any]:
    """The verdict as evidence.json records it."""
    verdict: dict[str, Any] = {
        "verdict": data.verdict,
        "exit_code": int(data.exit_code),
        "mode": data.mode,
        "error": data.error,
        "assemblies": [
            {"label": a["label"], "exit_code": a["exit_code"], "failed_rules": a["failed_rules"]}
            for a in data.assemblies
        ],
    }
    if data.shard is not None:
        verdict["shard"] = dict(data.shard)
    if data.shards:
        verdict["shards"] = [dict(s) for s in data.shards]
    return verdict


def tool_versions() -> dict[str, str]:
    """The versions evidence.json records: Python, the judging packages and the harness's own code."""
    import importlib.metadata  # noqa: PLC0415

    from harness.evidence import harness_digest  # noqa: PLC0415

    versions = {"python": sys.version.split()[0], "harness": harness_digest(ROOT)}
    for package in ("aws-cdk-lib", "cdk-nag", "cfn-lint", "compliance-trestle", "constructs", "jsii"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions
