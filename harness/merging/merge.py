"""``python -m harness merge REPORT_DIR... [--reports OUT]``: the shards of a CI matrix, folded into one verdict.

Each job of a matrix gates one app or one shard of assemblies with ``--shard I/N`` (and
``--shard-name NAME``); the merge reads every shard's ``compliance.json`` and
``evidence/evidence.json``, rebuilds one report input from them and renders every report through
the gate's own renderers (``harness.reporting.reports``, ``harness.audit.bundle``): the merged reports look like
those of one run over every assembly, plus a table of the shards.

Fail closed, one line each (exit 2):

* a directory without a readable ``compliance.json`` or ``evidence/evidence.json``;
* a report that records no shard, shards that disagree on N, an index missing or given twice
  (a missing shard is never a pass), or fewer/more shards than ``--total``;
* shards gated with another ``policies/``, other lock files or another harness (its code digest and
  the judging packages' versions in the evidence) than each other or than this checkout, whose
  ``policies/`` renders the catalog, traceability and OSCAL of the merged run;
* a merged ``compliance.sarif`` that GitHub code scanning would reject (more than 20 runs,
  25,000 results or rules in a run, 10 MB gzipped): the reports are written with the error, and
  nothing is left out of the SARIF.

The merged verdict is the worst exit code of the shards (a shard that failed as a harness is 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.merging.merge_inputs import (
    check_complete,
    check_same_inputs,
    evidence_assemblies,
    load_shard,
    merged_input,
    shard_labels,
)
from harness.model import ExitCode

# GitHub code scanning's hard limits on one SARIF upload ("SARIF support for code scanning").
SARIF_MAX_RUNS = 20
SARIF_MAX_RESULTS = 25_000
SARIF_MAX_RULES = 25_000
SARIF_MAX_GZIP_BYTES = 10 * 1024 * 1024
SARIF_SHOWN_RESULTS = 5_000  # code scanning stores at most this many results of a run (by severity)


# ------------------------------------------------------------------------------------ SARIF limits


def sarif_upload_problems(text: str) -> tuple[list[str], list[str]]:
    """(errors, warnings): what GitHub code scanning would reject, and what it would store only in part."""
    document = json.loads(text)
    runs = document.get("runs", [])
    errors, warnings = [], []
    if len(runs) > SARIF_MAX_RUNS:
        errors.append(f"{len(runs)} runs (code scanning takes at most {SARIF_MAX_RUNS} per upload)")
    seen: set[tuple[str, str]] = set()
    for run in runs:
        category = str(run.get("automationDetails", {}).get("id", ""))
        key = (str(run["tool"]["driver"]["name"]), category)
        if key in seen:
            errors.append(
                f"two runs of {key[0]} in category {category!r} (code scanning takes one per tool and category)"
            )
        seen.add(key)
        results, rules = len(run.get("results", [])), len(run["tool"]["driver"].get("rules", []))
        if results > SARIF_MAX_RESULTS:
            errors.append(f"run {category} has {results} results (at most {SARIF_MAX_RESULTS} per run)")
        elif results > SARIF_SHOWN_RESULTS:
            warnings.append(
                f"run {category} has {results} results: code scanning stores the {SARIF_SHOWN_RESULTS} most severe; "
                "compliance.json and compliance.junit.xml have every one"
            )
        if rules > SARIF_MAX_RULES:
            errors.append(f"run {category} declares {rules} rules (at most {SARIF_MAX_RULES} per run)")
    size = len(gzip.compress(text.encode("utf-8")))
    if size > SARIF_MAX_GZIP_BYTES:
        errors.append(f"{size} bytes gzipped (at most {SARIF_MAX_GZIP_BYTES})")
    return errors, warnings


# ------------------------------------------------------------------------------------ the command


@dataclass(frozen=True, kw_only=True)
class MergeOptions:
    directories: Sequence[Path]
    reports_dir: Path
    root: Path
    policies: Path | None = None
    sarif_category: str = "compliance-gate"
    total: int | None = None
    argv: Sequence[str] = ()
    source_url: str | None = None  # prefix of links to infra/ lines in compliance.md (as the gate's --source-url)


def merge(options: MergeOptions, *, warn: Any = None, signer: Any = None) -> Any:
    """Read, check and fold the shards; publish every report to ``options.reports_dir``; the merged ReportInput."""
    from harness.audit import oscal  # noqa: PLC0415
    from harness.audit.bundle import BundleInput  # noqa: PLC0415
    from harness.audit.evidence import RunClock, build_evidence, checkout_state, harness_digest, shown  # noqa: PLC0415
    from harness.audit.outcome import control_roll_up, evidence_verdict, publish, sanitized  # noqa: PLC0415
    from harness.audit.outputs import clear_outputs  # noqa: PLC0415
    from harness.catalog.loaded import load_catalog  # noqa: PLC0415
    from harness.paths import link_base  # noqa: PLC0415
    from harness.reporting.report_fields import error_input  # noqa: PLC0415
    from harness.reporting.sarif import render_sarif  # noqa: PLC0415

    clock = RunClock()
    oscal.prewarm()
    out = options.reports_dir.resolve()
    # A previous merge's files go first: a refused merge must not leave an earlier PASS in place.
    clear_outputs(out)
    shards = sorted((load_shard(d) for d in options.directories), key=lambda s: s.index)
    check_complete(shards, total=options.total)
    catalog = load_catalog(options.policies.resolve() if options.policies else None)
    policies_dir = catalog.policies_dir
    local = build_evidence(
        root=options.root, policies_dir=policies_dir, assemblies=[], tools=[], commands=[], verdict={},
        times=clock.times(), versions={},
    )  # fmt: skip
    check_same_inputs(
        shards, local=local, harness=harness_digest(options.root), policies=shown(policies_dir, options.root)
    )
    data = merged_input(shards, catalog=catalog, root=options.root, sarif_category=options.sarif_category)
    data = dataclasses.replace(data, link_base=link_base(options.source_url, out))
    controls = control_roll_up(data, catalog)  # the gate's roll-up, over every shard's findings
    data = dataclasses.replace(data, controls=[c.as_dict() for c in controls])
    errors, warnings = sarif_upload_problems(render_sarif(data))
    for line in warnings:
        (warn or (lambda _: None))(f"compliance.sarif: {line}")
    if errors:
        problem = "compliance.sarif cannot be uploaded to code scanning: " + "; ".join(errors)
        problem += " (nothing was left out of it; split the matrix into several merges)"
        data = dataclasses.replace(
            data, exit_code=ExitCode.HARNESS_FAILURE, error="; ".join(e for e in (data.error, problem) if e)
        )
    labels = shard_labels(shards)
    times = clock.times()

    def bundle_input(merged: Any) -> tuple[Any, Any]:
        return merged, BundleInput(
            root=options.root,
            policies_dir=policies_dir,
            verdict=evidence_verdict(merged),
            findings=merged.findings,
            controls=controls,
            assemblies=evidence_assemblies(shards, labels),
            tools=merged.tools,
            commands=[
                sanitized(options.argv, prefix="python -m harness merge", root=options.root),
                *(f"{s.title}: {c}" for s in shards for c in s.evidence.get("commands") or []),
            ],
            versions=dict(shards[0].evidence["versions"]),
            times=times,
            checkout=checkout_state(options.root),
            frameworks=list(catalog.frameworks),
            mappings=list(catalog.mappings),
            policies=list(catalog.policies),
            waivers=merged.waivers,
        )

    published = publish(
        data,
        reports_dir=out,
        root=options.root,
        bundle_input=bundle_input,
        signer=signer,
        error_input=lambda error: error_input(mode="merge", error=error),
    )
    return published.data


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a shard count (valid example: 4)")
    return int(value)


def _category(value: str) -> str:
    category = value.strip("/")
    if not category or any(c.isspace() for c in category):
        raise argparse.ArgumentTypeError(f"{value!r} is empty or has spaces (valid example: compliance-matrix)")
    return category


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m harness merge",
        description="Fold the reports of a CI matrix's shards (each gated with --shard I/N) into one verdict and "
        "one set of reports: JSON, Markdown, JUnit, SARIF, catalog, traceability, controls, evidence, OSCAL.",
        epilog="exit codes: the worst of the shards (0 clean, 1 violations, 2 harness failure); 2 with one line "
        "when a shard is missing or unreadable or the shards were gated with other policies or another harness",
    )
    p.add_argument("directories", nargs="+", type=Path, metavar="REPORT_DIR", help="each shard's --reports directory")
    p.add_argument("--reports", type=Path, default=None, help="where the merged reports go (default: reports/)")
    p.add_argument("--policies", type=Path, default=None, help="policies directory (default: policies/)")
    p.add_argument(
        "--total",
        type=_count,
        default=None,
        metavar="N",
        help="how many shards the matrix has (default: the N every shard recorded with --shard I/N)",
    )
    p.add_argument(
        "--sarif-category",
        type=_category,
        default="compliance-gate",
        metavar="PREFIX",
        help="code scanning category prefix of the SARIF runs (<PREFIX>/<tool>/; default: compliance-gate, as the "
        "gate; give the matrix its own so its upload does not replace the single gate's)",
    )
    p.add_argument(
        "--source-url",
        default=None,
        metavar="URL",
        help="prefix of links to source lines in compliance.md, as the gate's --source-url",
    )
    p.add_argument(
        "--sign-key",
        type=Path,
        default=None,
        metavar="PATH",
        help="sign the merged run's in-toto statement with this ed25519 private key (PEM), as the gate's --sign-key",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no summary table")
    return p


def merge_main(argv: Sequence[str]) -> int:
    from harness.paths import ROOT  # noqa: PLC0415
    from harness.reporting.console import Console  # noqa: PLC0415

    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(ExitCode.HARNESS_FAILURE) if exit_.code else 0
    console = Console(quiet=args.quiet)
    reports: Path = (args.reports or ROOT / "reports").resolve()
    options = MergeOptions(
        directories=list(args.directories),
        reports_dir=reports,
        root=ROOT,
        policies=args.policies,
        sarif_category=args.sarif_category,
        total=args.total,
        argv=list(argv),
        source_url=args.source_url,
    )
    if any(d.resolve() == reports for d in options.directories):
        print(f"merge error: --reports {reports} is also a shard directory: write the merge elsewhere", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    try:
        signer = _signer(args.sign_key)
        data = merge(options, warn=lambda line: print(f"merge warning: {line}", file=sys.stderr), signer=signer)
    except HarnessError as error:
        return _refused(str(error), reports)
    except OSError as error:
        return _refused(f"cannot read or write {error.filename}: {error.strerror}", reports)
    except Exception as error:  # a shard's report of a shape no check above foresaw: still one line, exit 2
        return _refused(f"the shards' reports cannot be folded: {type(error).__name__}: {error}", reports)
    if not args.quiet:
        console.summary(data, report_dir=str(reports))
    if data.error:
        print(f"merge: {data.error}", file=sys.stderr)
    return int(data.exit_code)


def _signer(path: Path | None) -> Any:
    if path is None:
        return None
    from harness.audit.attest import load_signer  # noqa: PLC0415

    return load_signer(path)


def _refused(problem: str, reports: Path) -> int:
    """One line on stderr, and the merged reports say the same (ERROR, exit 2): CI shows why, never a stale PASS."""
    from harness.audit.outcome import refuse  # noqa: PLC0415
    from harness.reporting.report_fields import error_input  # noqa: PLC0415

    print(f"merge error: {problem}", file=sys.stderr)
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"merge error: cannot write the reports to {reports}: {error.strerror}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    refuse(reports, mode="merge", error=f"merge refused: {problem}", error_input=error_input)
    return int(ExitCode.HARNESS_FAILURE)
