"""``python -m harness merge REPORT_DIR... [--reports OUT]``: the shards of a CI matrix, folded into one verdict.

Each job of a matrix gates one app or one shard of assemblies with ``--shard I/N`` (and
``--shard-name NAME``); the merge reads every shard's ``compliance.json`` and
``evidence/evidence.json``, rebuilds one report input from them and renders every report through
the gate's own renderers (``harness.reports``, ``harness.bundle``): the merged reports look like
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
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model import ExitCode, Finding, FindingRecordError, RulePackRun, Source, nag_notes

REPORT_SCHEMA = "staging-rds-compliance-gate/1"
# GitHub code scanning's hard limits on one SARIF upload ("SARIF support for code scanning").
SARIF_MAX_RUNS = 20
SARIF_MAX_RESULTS = 25_000
SARIF_MAX_RULES = 25_000
SARIF_MAX_GZIP_BYTES = 10 * 1024 * 1024
SARIF_SHOWN_RESULTS = 5_000  # code scanning stores at most this many results of a run (by severity)
STALE_WAIVER = "waiver-stale"  # harness.judge.waiver_findings: a waiver that matched nothing in one run
RESOURCES_NOTE = "resources handed to each pack:"  # harness.model.nag_notes


@dataclass(frozen=True, kw_only=True)
class Shard:
    directory: Path
    index: int
    total: int
    name: str
    report: Mapping[str, Any]  # compliance.json
    evidence: Mapping[str, Any]  # evidence/evidence.json

    @property
    def title(self) -> str:
        return f"shard {self.index}/{self.total} ({self.name})"


# ------------------------------------------------------------------------------------ reading


def load_shard(directory: Path) -> Shard:
    """One shard's reports, or a HarnessError naming the directory, the file and what is wrong."""
    from harness.evidence import load_evidence  # noqa: PLC0415

    if not directory.is_dir():
        raise HarnessError(f"{directory} is not a directory (give the --reports directory of each shard's gate run)")
    path = directory / "compliance.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(
            f"{path} is missing: that shard wrote no verdict (its gate did not finish); a missing shard fails the merge"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise HarnessError(f"{path} is not readable JSON: {error}") from error
    if not isinstance(report, dict) or report.get("schema") != REPORT_SCHEMA:
        found = report.get("schema") if isinstance(report, dict) else type(report).__name__
        raise HarnessError(f"{path} is not a compliance gate report (schema {found!r}, expected {REPORT_SCHEMA!r})")
    shard = report.get("shard")
    if shard is None:
        raise HarnessError(
            f"{path} records no shard: gate each job of the matrix with --shard I/N (e.g. --shard 2/4 "
            "--shard-name payments-api) so the merge can tell a missing shard from a finished one"
        )
    index, total, name = (shard.get(k) if isinstance(shard, dict) else None for k in ("index", "total", "name"))
    if not (
        isinstance(index, int) and isinstance(total, int) and 1 <= index <= total and isinstance(name, str) and name
    ):
        raise HarnessError(
            f"{path} has invalid shard {shard!r}: expected index/total with 1 <= index <= total and a name"
        )
    if report.get("exit_code") not in (0, 1, 2):
        raise HarnessError(f"{path} has invalid exit_code {report.get('exit_code')!r}: expected 0, 1 or 2")
    if report.get("delta") or report.get("changes"):
        # A comparison with a base judges one head against one base; folding deltas of several heads
        # is not what this merge does, and dropping them silently would hide what a change broke.
        raise HarnessError(
            f"{path} was gated with a base (--base / --base-assembly): the merge folds verdicts, not deltas; "
            "gate the matrix's shards without a base (the single-job PR gate compares with the base)"
        )
    return Shard(
        directory=directory, index=index, total=total, name=name, report=report, evidence=load_evidence(directory)
    )


def check_complete(shards: Sequence[Shard], *, total: int | None = None) -> None:
    """Every shard 1..N exactly once, all of one N (and N = ``total`` when given)."""
    totals = sorted({s.total for s in shards})
    if len(totals) > 1:
        raise HarnessError(
            "the shards disagree on how many there are: "
            + ", ".join(f"{s.directory} is {s.index}/{s.total}" for s in shards)
        )
    expected = total if total is not None else totals[0]
    if total is not None and totals[0] != total:
        raise HarnessError(
            f"--total {total} but the shards record {totals[0]} ({shards[0].directory} is {shards[0].index}/{totals[0]})"
        )
    seen: dict[int, Shard] = {}
    for shard in shards:
        if shard.index in seen:
            raise HarnessError(
                f"shard {shard.index}/{expected} given twice: {seen[shard.index].directory} and {shard.directory}"
            )
        seen[shard.index] = shard
    missing = [i for i in range(1, expected + 1) if i not in seen]
    if missing:
        have = ", ".join(f"{s.index}/{s.total} ({s.name})" for s in sorted(shards, key=lambda s: s.index))
        raise HarnessError(
            f"shard(s) {', '.join(f'{i}/{expected}' for i in missing)} missing (got {have}): "
            "a shard that did not report is a harness failure, never a pass"
        )
    names = Counter(s.name for s in shards)
    twice = sorted(n for n, c in names.items() if c > 1)
    if twice:
        raise HarnessError(f"shard name {twice[0]!r} is used by more than one shard: give each --shard-name once")


def _differences(recorded: Sequence[Mapping[str, Any]], expected: Sequence[Mapping[str, Any]]) -> list[str]:
    mine = {str(f["path"]): str(f["sha256"]) for f in recorded}
    theirs = {str(f["path"]): str(f["sha256"]) for f in expected}
    found = []
    for path in sorted(set(mine) | set(theirs)):
        if path not in theirs:
            found.append(f"{path} only in the shard")
        elif path not in mine:
            found.append(f"{path} missing in the shard")
        elif mine[path] != theirs[path]:
            found.append(f"{path} differs (sha256 {mine[path][:12]}… vs {theirs[path][:12]}…)")
    return found


def check_same_inputs(shards: Sequence[Shard], *, local: Mapping[str, Any], harness: str, policies: str) -> None:
    """Same policies/, lock files and harness in every shard and here; same judging packages in every shard."""
    first = shards[0]
    for shard in shards:
        evidence = shard.evidence
        try:
            policy_files, locks = evidence["policies"]["files"], evidence["locks"]
            versions = dict(evidence["versions"])
        except (KeyError, TypeError) as error:
            raise HarnessError(
                f"{shard.directory}/evidence/evidence.json lacks {error}: not evidence of this harness"
            ) from error
        changed = _differences(policy_files, local["policies"]["files"])
        if changed:
            raise HarnessError(
                f"{shard.title} in {shard.directory} was gated with another policy catalog than {policies} here "
                f"({changed[0]}{f' and {len(changed) - 1} more' if len(changed) > 1 else ''}): "
                "merge only shards gated at one commit, from a checkout of that commit"
            )
        changed = _differences(locks, local["locks"])
        if changed:
            raise HarnessError(
                f"{shard.title} in {shard.directory} was gated with other lock files than this checkout ({changed[0]}): "
                "merge only shards gated at one commit, from a checkout of that commit"
            )
        if versions.get("harness") != harness:
            raise HarnessError(
                f"{shard.title} in {shard.directory} was gated by another harness (code digest "
                f"{versions.get('harness', 'not recorded')}, this checkout {harness}): "
                "merge only shards gated at one commit, from a checkout of that commit"
            )
        other = dict(first.evidence["versions"])
        if versions != other:
            key = next(k for k in sorted(set(versions) | set(other)) if versions.get(k) != other.get(k))
            raise HarnessError(
                f"{shard.title} was gated with {key} {versions.get(key, 'not installed')} but {first.title} with "
                f"{other.get(key, 'not installed')}: shards must be judged by the same tools"
            )


# ------------------------------------------------------------------------------------ folding


def _labels(shards: Sequence[Shard]) -> dict[tuple[int, str], str]:
    """(shard index, assembly label) -> label in the merged reports: ``<shard name>/<label>`` where two shards share one."""
    owners: dict[str, set[int]] = {}
    for shard in shards:
        labels = [str(a.get("label")) for a in shard.report.get("assemblies") or []]
        labels += [str(a.get("label")) for a in shard.evidence.get("assemblies") or []]
        for label in labels:
            owners.setdefault(label, set()).add(shard.index)
    names = {s.index: s.name for s in shards}
    mapping = {
        (index, label): (f"{names[index]}/{label}" if len(indices) > 1 else label)
        for label, indices in owners.items()
        for index in indices
    }
    if len(set(mapping.values())) != len(mapping):
        raise HarnessError("assembly labels collide even qualified by shard name: rename a --shard-name")
    return mapping


def _finding(raw: Any, *, where: str, label: str) -> Finding:
    if not isinstance(raw, Mapping):
        raise HarnessError(f"{where} holds a finding this harness cannot read: {raw!r:.80} is not an object")
    try:
        return Finding.from_record({**raw, "assembly": label})
    except FindingRecordError as error:
        raise HarnessError(f"{where} holds a finding this harness cannot read: {error}") from error


def _findings(
    shards: Sequence[Shard], labels: Mapping[tuple[int, str], str], waivers: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """Every shard's findings; those of no assembly (waivers) once, as one run over every assembly reports them."""
    matched = {str(w["waiver_id"]): int(w["matched"]) for w in waivers}
    merged: list[Finding] = []
    unattached: Counter[Finding] = Counter()
    for shard in shards:
        where = f"{shard.directory}/compliance.json"
        raw_findings = shard.report.get("findings")
        if not isinstance(raw_findings, list):
            raise HarnessError(f"{where} has no findings list")
        own: Counter[Finding] = Counter()
        for raw in raw_findings:
            original = str(raw.get("assembly", "")) if isinstance(raw, dict) else ""
            finding = _finding(
                raw, where=where, label=labels.get((shard.index, original), original) if original else ""
            )
            if finding.assembly:
                merged.append(finding)
            else:
                own[finding] += 1
        for finding, count in own.items():
            unattached[finding] = max(unattached[finding], count)
    for finding, count in unattached.items():
        # A waiver one shard did not use but another did is not stale for the merged run.
        if finding.source is Source.GATE and finding.rule_id == STALE_WAIVER and matched.get(finding.waiver_id, 0) > 0:
            continue
        merged += [finding] * count
    merged.sort(key=Finding.sort_key)
    return merged


def _waivers(shards: Sequence[Shard]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for shard in shards:
        for waiver in shard.report.get("waivers") or []:
            known = merged.setdefault(str(waiver["waiver_id"]), {**waiver, "matched": 0, "expired": False})
            known["matched"] += int(waiver["matched"])
            known["expired"] = bool(known["expired"] or waiver["expired"])
    return [merged[key] for key in sorted(merged)]


def _tools(shards: Sequence[Shard]) -> list[dict[str, Any]]:
    """One record per (tool, version, command), as one run over every assembly has: counts added up."""
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    handed: set[tuple[str, str, str]] = set()
    for shard in shards:
        for tool in shard.report.get("tools") or []:
            key = (str(tool["tool"]), str(tool.get("version", "")), str(tool.get("command", "")))
            record = merged.setdefault(
                key, {**tool, "evaluated": 0, "notes": [], **({"packs": []} if "packs" in tool else {})}
            )
            record["evaluated"] += int(tool.get("evaluated", 0))
            record["notes"] += [n for n in tool.get("notes", []) if n not in record["notes"]]
            if any(str(n).startswith(RESOURCES_NOTE) for n in tool.get("notes", [])):
                handed.add(key)
            packs = {p["name"]: p for p in record.get("packs", [])}
            for pack in tool.get("packs", []):
                known = packs.setdefault(pack["name"], {**pack, "resources": 0, "findings": 0})
                known["resources"] += int(pack["resources"])
                known["findings"] += int(pack["findings"])
            if "packs" in record:
                record["packs"] = list(packs.values())
    for key, record in merged.items():
        if record.get("packs"):
            runs = [RulePackRun(**p) for p in record["packs"]]
            record["notes"] = nag_notes(
                runs,
                with_findings=[p.name for p in runs if p.findings],
                resources=max(p.resources for p in runs) if key in handed else 0,
            )
    return [merged[key] for key in sorted(merged, key=lambda k: (k[0], k[2], k[1]))]


def _coverage(shards: Sequence[Shard]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for shard in shards:
        for entry in shard.report.get("coverage") or []:
            known = merged.setdefault(str(entry["policy"]), {**entry, "resources": 0, "judged": 0})
            known["resources"] += int(entry["resources"])
            known["judged"] += int(entry["judged"])
    return list(merged.values())


def _assemblies(shards: Sequence[Shard], labels: Mapping[tuple[int, str], str], root: Path) -> list[dict[str, Any]]:
    assemblies = []
    for shard in shards:
        for assembly in shard.report.get("assemblies") or []:
            path = Path(str(assembly["path"]))
            assemblies.append(
                {
                    **assembly,
                    "label": labels[(shard.index, str(assembly["label"]))],
                    "abs_path": str(path if path.is_absolute() else root / path),
                }
            )
    return assemblies


def _evidence_assemblies(shards: Sequence[Shard], labels: Mapping[tuple[int, str], str]) -> list[dict[str, Any]]:
    """The assemblies as each shard hashed them (the merge does not need, nor trust, a copy of them)."""
    return [
        {"label": labels[(shard.index, str(a["label"]))], "path": a["path"], "files": a["files"]}
        for shard in shards
        for a in shard.evidence.get("assemblies") or []
    ]


def merged_input(shards: Sequence[Shard], *, catalog: Any, root: Path, sarif_category: str) -> Any:
    """The report input of the merged run (without the controls roll-up): the gate's ReportInput, from the shards."""
    from harness.controls import annotate  # noqa: PLC0415
    from harness.report_fields import catalog_fields  # noqa: PLC0415
    from harness.reports import VERDICTS, ReportInput  # noqa: PLC0415

    labels = _labels(shards)
    waivers = _waivers(shards)
    findings = annotate(_findings(shards, labels, waivers), catalog.mappings, keys=[f.key for f in catalog.frameworks])
    errors = [f"{s.title}: {s.report.get('error')}" for s in shards if s.report.get("error")]
    return ReportInput(
        exit_code=ExitCode(max(int(s.report["exit_code"]) for s in shards)),
        mode="+".join(sorted({str(s.report.get("mode", "")) for s in shards})),
        error="; ".join(errors),
        findings=findings,
        assemblies=_assemblies(shards, labels, root),
        waivers=waivers,
        tools=_tools(shards),
        root=root,
        coverage=_coverage(shards),
        shards=[
            {
                "index": s.index,
                "total": s.total,
                "name": s.name,
                "verdict": VERDICTS[ExitCode(int(s.report["exit_code"]))],
                "exit_code": int(s.report["exit_code"]),
                "assemblies": [labels[(s.index, str(a["label"]))] for a in s.report.get("assemblies") or []],
            }
            for s in shards
        ],
        sarif_category=sarif_category,
        rules=_rules(shards),
        **catalog_fields(catalog),
    )


def _rules(shards: Sequence[Shard]) -> Mapping[str, Any] | None:
    """The rules that judged (harness.rules): one set for every shard, or the merge is refused."""
    records = [s.report.get("rules") for s in shards]
    digests = sorted({str((r or {}).get("digest", "")) for r in records})
    if len(digests) > 1:
        raise HarnessError(
            f"the shards were judged by different rules ({', '.join(digests)}): merge the shards of one commit"
        )
    return records[0] if records else None


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
    from harness import oscal  # noqa: PLC0415
    from harness.bundle import BundleInput  # noqa: PLC0415
    from harness.catalog.loaded import load_catalog  # noqa: PLC0415
    from harness.evidence import RunClock, build_evidence, checkout_state, harness_digest, shown  # noqa: PLC0415
    from harness.outcome import control_roll_up, evidence_verdict, publish, sanitized  # noqa: PLC0415
    from harness.outputs import clear_outputs  # noqa: PLC0415
    from harness.paths import link_base  # noqa: PLC0415
    from harness.report_fields import error_input  # noqa: PLC0415
    from harness.sarif import render_sarif  # noqa: PLC0415

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
    labels = _labels(shards)
    times = clock.times()

    def bundle_input(merged: Any) -> tuple[Any, Any]:
        return merged, BundleInput(
            root=options.root,
            policies_dir=policies_dir,
            verdict=evidence_verdict(merged),
            findings=merged.findings,
            controls=controls,
            assemblies=_evidence_assemblies(shards, labels),
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
    from harness.console import Console  # noqa: PLC0415
    from harness.paths import ROOT  # noqa: PLC0415

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
    from harness.attest import load_signer  # noqa: PLC0415

    return load_signer(path)


def _refused(problem: str, reports: Path) -> int:
    """One line on stderr, and the merged reports say the same (ERROR, exit 2): CI shows why, never a stale PASS."""
    from harness.outcome import refuse  # noqa: PLC0415
    from harness.report_fields import error_input  # noqa: PLC0415

    print(f"merge error: {problem}", file=sys.stderr)
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"merge error: cannot write the reports to {reports}: {error.strerror}", file=sys.stderr)
        return int(ExitCode.HARNESS_FAILURE)
    refuse(reports, mode="merge", error=f"merge refused: {problem}", error_input=error_input)
    return int(ExitCode.HARNESS_FAILURE)
