"""The shards a merge reads (``python -m harness merge``), checked and folded into one report input.

Reading: each shard's ``compliance.json`` and ``evidence/evidence.json``, refused with one line
when unreadable, incomplete (a missing or repeated shard index, shards that disagree on N) or
gated with other inputs than each other or this checkout. Folding: every shard's findings,
waivers, tools, coverage and assemblies into one ``ReportInput`` (see ``harness.merging.merge``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.model import ExitCode, Finding, FindingRecordError, RulePackRun, Source, nag_notes

REPORT_SCHEMA = "staging-rds-compliance-gate/1"
STALE_WAIVER = "waiver-stale"  # harness.verdict.judge.waiver_findings: a waiver that matched nothing in one run
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
    from harness.audit.evidence import load_evidence  # noqa: PLC0415

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


def shard_labels(shards: Sequence[Shard]) -> dict[tuple[int, str], str]:
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


def evidence_assemblies(shards: Sequence[Shard], labels: Mapping[tuple[int, str], str]) -> list[dict[str, Any]]:
    """The assemblies as each shard hashed them (the merge does not need, nor trust, a copy of them)."""
    return [
        {"label": labels[(shard.index, str(a["label"]))], "path": a["path"], "files": a["files"]}
        for shard in shards
        for a in shard.evidence.get("assemblies") or []
    ]


def merged_input(shards: Sequence[Shard], *, catalog: Any, root: Path, sarif_category: str) -> Any:
    """The report input of the merged run (without the controls roll-up): the gate's ReportInput, from the shards."""
    from harness.reporting.report_fields import catalog_fields  # noqa: PLC0415
    from harness.reporting.reports import VERDICTS, ReportInput  # noqa: PLC0415
    from harness.verdict.controls import annotate  # noqa: PLC0415

    labels = shard_labels(shards)
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
    """The rules that judged (harness.reading.rules): one set for every shard, or the merge is refused."""
    # A shard that failed as a harness (exit 2) before its rules were read judged nothing: its error and
    # exit code speak for it, and it takes no part in the comparison.
    records = [s.report.get("rules") for s in shards if s.report.get("rules") or int(s.report["exit_code"]) != 2]
    digests = sorted({str((r or {}).get("digest", "")) for r in records})
    if len(digests) > 1:
        raise HarnessError(
            f"the shards were judged by different rules ({', '.join(digests)}): merge the shards of one commit"
        )
    return records[0] if records else None
