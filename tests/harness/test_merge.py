"""``python -m harness merge``: real shards of a CI matrix folded into one verdict and one set of reports.

Two real gate runs (``--shard 1/2`` over the untouched stack, ``--shard 2/2`` over a copy with the
``public`` mutation), one real run over both assemblies at once (what the merge must look like),
one real shard that failed as a harness, and one real shard gated with another copy of
``policies/``: all started at once, then merged in a subprocess as CI does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.catalog import POLICIES_DIR
from harness.merging.merge import MergeOptions, merge, sarif_upload_problems
from harness.model import ExitCode
from harness.verdict.mutations import MUTATIONS
from tests.harness.conftest import ROOT, GateRun, run_gate, write_assembly

PUBLIC = next(m for m in MUTATIONS if m.name == "public")
# Files a merge renders like one run over every assembly (evidence differs only in commands and shards).
SAME_AS_ONE_RUN = ("compliance.junit.xml", "compliance.sarif", "traceability.md", "policy-catalog.md", "controls.md")


@dataclass(frozen=True)
class Merged:
    returncode: int
    stderr: str
    reports: Path

    def read(self, name: str) -> str:
        return (self.reports / name).read_text(encoding="utf-8")

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.read("compliance.json"))
        return data


def run_merge(*args: str | Path, reports: Path) -> Merged:
    argv = [sys.executable, "-m", "harness", "merge", *map(str, args), "--reports", str(reports), "-q"]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    return Merged(done.returncode, done.stderr, reports)


@dataclass(frozen=True)
class Runs:
    untouched: GateRun  # shard 1/2
    violation: GateRun  # shard 2/2, the public mutation
    both: GateRun  # one run over both assemblies, no shard
    broken: GateRun  # shard 2/2 whose gate failed as a harness (no manifest)
    other_policies: GateRun  # shard 2/2 gated with a changed copy of policies/ (and no manifest: fast)


@pytest.fixture(scope="module")
def runs(synthesized: Path, clean_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Runs:
    base = tmp_path_factory.mktemp("merge")
    untouched = write_assembly(synthesized, base / "untouched")
    violation = write_assembly(synthesized, base / "violation", PUBLIC.mutate(clean_template))
    (base / "no-manifest").mkdir()
    policies = base / "policies-copy"
    shutil.copytree(POLICIES_DIR, policies, ignore=shutil.ignore_patterns("__pycache__"))
    with (policies / "waivers.yaml").open("a", encoding="utf-8") as handle:
        handle.write("\n# a reviewed change to the catalog that the other shard did not see\n")
    jobs = {
        "untouched": ["--assembly", str(untouched), "--shard", "1/2", "--shard-name", "app-a"],
        "violation": ["--assembly", str(violation), "--shard", "2/2", "--shard-name", "app-b"],
        "both": ["--assembly", str(untouched), "--assembly", str(violation)],
        "broken": ["--assembly", str(base / "no-manifest"), "--shard", "2/2", "--shard-name", "app-b"],
        # Fails fast (no manifest) after loading the copy: its evidence hashes that catalog all the same.
        "other_policies": ["--assembly", str(base / "no-manifest"), "--shard", "2/2", "--policies", str(policies)],
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(run_gate, args, reports=base / f"reports-{name}") for name, args in jobs.items()}
        return Runs(**{name: future.result() for name, future in futures.items()})


@pytest.fixture(scope="module")
def merged(runs: Runs, tmp_path_factory: pytest.TempPathFactory) -> Merged:
    out = tmp_path_factory.mktemp("merged") / "reports"
    return run_merge(
        runs.untouched.reports, runs.violation.reports, "--sarif-category", "compliance-matrix", reports=out
    )


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


# ------------------------------------------------------------------------------------ the verdict


def test_the_shards_ran_as_expected(runs: Runs) -> None:
    assert runs.untouched.report["shard"] == {"index": 1, "total": 2, "name": "app-a"}
    assert runs.violation.report["shard"] == {"index": 2, "total": 2, "name": "app-b"}
    assert runs.violation.returncode == 1, runs.violation.stderr
    failed = {f["rule_id"] for f in runs.violation.report["findings"] if f["status"] == "failed"}
    assert failed & PUBLIC.expected
    assert runs.broken.returncode == 2
    assert "shard" not in runs.both.report


def test_merged_exit_code_is_the_worst(runs: Runs, merged: Merged) -> None:
    worst = max(runs.untouched.returncode, runs.violation.returncode)
    assert merged.returncode == worst == 1, merged.stderr
    assert merged.report["exit_code"] == worst
    assert merged.report["verdict"] == "FAIL"
    assert [(s["index"], s["name"], s["exit_code"]) for s in merged.report["shards"]] == [
        (1, "app-a", runs.untouched.returncode),
        (2, "app-b", 1),
    ]


def test_a_shard_that_failed_as_a_harness_makes_the_merge_one(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.untouched.reports, runs.broken.reports, reports=tmp_path / "out")
    assert result.returncode == 2
    assert result.report["verdict"] == "ERROR"
    assert "shard 2/2 (app-b): " in result.report["error"]
    assert "manifest.json is missing" in result.report["error"]


# ------------------------------------------------------------------------------------ every finding


def _findings(report: dict[str, Any]) -> Counter[str]:
    return Counter(json.dumps(f, sort_keys=True) for f in report["findings"] if f["assembly"])


def _cases(xml: str) -> Counter[tuple[str, str, str]]:
    root = ET.fromstring(xml)
    return Counter(
        (case.get("classname", ""), case.get("name", ""), ",".join(child.tag for child in case))
        for case in root.iter("testcase")
    )


def _results(sarif: str) -> Counter[str]:
    """Each result as what it says and where: rule, level, message, file, line, resource (not the ids its run numbers)."""
    found: Counter[str] = Counter()
    for run in json.loads(sarif)["runs"]:
        for result in run["results"]:
            primary = result["locations"][0]
            where = primary["physicalLocation"]
            key = {
                "tool": run["tool"]["driver"]["name"],
                "rule": result["ruleId"],
                "level": result["level"],
                "message": result["message"]["text"],
                "file": Path(where["artifactLocation"]["uri"]).name,
                "line": where["region"]["startLine"],
                "resource": [loc["name"] for loc in primary.get("logicalLocations", [])],
            }
            found[json.dumps(key, sort_keys=True)] += 1
    return found


def test_every_finding_of_both_shards_is_in_the_merged_json(runs: Runs, merged: Merged) -> None:
    merged_findings = _findings(merged.report)
    for run in (runs.untouched, runs.violation):
        missing = _findings(run.report) - merged_findings
        assert not missing, f"{run.reports}: {len(missing)} finding(s) not merged, e.g. {next(iter(missing))}"
    assert sum(merged_findings.values()) == sum(_findings(r.report).total() for r in (runs.untouched, runs.violation))
    labels = {a["label"] for a in merged.report["assemblies"]}
    assert labels == {"untouched", "violation"}
    failed = {(f["assembly"], f["rule_id"]) for f in merged.report["findings"] if f["status"] == "failed"}
    assert {("violation", rule) for rule in PUBLIC.expected} & failed


def test_every_finding_of_both_shards_is_in_the_merged_junit(runs: Runs, merged: Merged) -> None:
    merged_cases = _cases(merged.read("compliance.junit.xml"))
    for run in (runs.untouched, runs.violation):
        shard_cases = _cases((run.reports / "compliance.junit.xml").read_text(encoding="utf-8"))
        missing = shard_cases - merged_cases
        assert not missing, f"{run.reports}: not in the merged JUnit: {sorted(missing)[:3]}"


def test_every_finding_of_both_shards_is_in_the_merged_sarif_runs_apart_by_category(runs: Runs, merged: Merged) -> None:
    sarif = json.loads(merged.read("compliance.sarif"))
    categories = [run["automationDetails"]["id"] for run in sarif["runs"]]
    assert len(categories) == len(set(categories)) <= 20
    assert all(c.startswith("compliance-matrix/") and c.endswith("/") for c in categories)
    merged_results = _results(merged.read("compliance.sarif"))
    for run in (runs.untouched, runs.violation):
        shard_sarif = (run.reports / "compliance.sarif").read_text(encoding="utf-8")
        shard_results = _results(shard_sarif)
        missing = shard_results - merged_results
        assert not missing, f"{run.reports}: not in the merged SARIF: {next(iter(missing))}"
    bases = {
        base["description"]["text"] for run in sarif["runs"] for base in run.get("originalUriBaseIds", {}).values()
    }
    # The untouched stack has no alert (its VPC's default group is closed: harness/tools/nag_tree.py), so only
    # the violating shard's assembly is a base of the merged SARIF.
    assert "the cloud assembly 'violation', outside the repository" in bases
    assert sarif_upload_problems(merged.read("compliance.sarif")) == ([], [])


def test_the_merge_looks_like_one_run_over_every_assembly(runs: Runs, merged: Merged, tmp_path: Path) -> None:
    """Same renderers, same input: the merged reports are the single run's, plus the table of shards."""
    result = run_merge(runs.untouched.reports, runs.violation.reports, reports=tmp_path / "out")  # default category
    one = runs.both.report
    report = result.report
    assert report.pop("shards")
    assert report == one
    for name in SAME_AS_ONE_RUN:
        assert result.read(name) == (runs.both.reports / name).read_text(encoding="utf-8"), name
    assert "## Shards (2" in result.read("compliance.md")
    evidence = json.loads(result.read("evidence/evidence.json"))
    single = json.loads((runs.both.reports / "evidence/evidence.json").read_text(encoding="utf-8"))
    for key in ("assemblies", "policies", "locks", "tools", "versions"):
        assert evidence[key] == single[key], key
    assert evidence["commands"][0].startswith("python -m harness merge ")
    assert any(c.startswith("shard 2/2 (app-b): python -m harness --assembly") for c in evidence["commands"])
    assert (tmp_path / "out" / "oscal" / "assessment-results.json").is_file()
    # The merged run has its own statement: the shards' assemblies as they hashed them, the merged reports.
    assemblies = [runs.both.reports.parent / name for name in ("untouched", "violation")]
    argv = [
        sys.executable,
        "-m",
        "harness",
        "verify",
        "--reports",
        str(tmp_path / "out"),
        "--allow-unsigned",
        "--any-verdict",
    ]
    argv += [arg for path in assemblies for arg in ("--assembly", str(path))]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0 and "statement of a FAIL run" in done.stdout, done.stderr


def test_a_label_two_shards_share_is_qualified_by_shard_name(runs: Runs, tmp_path: Path) -> None:
    """Each job of an app matrix gates its own cdk.out: the same label, kept apart as <shard>/<label>."""
    copy = tmp_path / "copy"
    shutil.copytree(runs.untouched.reports, copy)
    report = json.loads((copy / "compliance.json").read_text(encoding="utf-8"))
    report["shard"] = {"index": 2, "total": 2, "name": "app-c"}
    (copy / "compliance.json").write_text(json.dumps(report), encoding="utf-8")
    result = run_merge(runs.untouched.reports, copy, reports=tmp_path / "out")
    assert result.returncode == runs.untouched.returncode, result.stderr
    labels = [a["label"] for a in result.report["assemblies"]]
    assert labels == ["app-a/untouched", "app-c/untouched"]
    counted = Counter(f["assembly"] for f in result.report["findings"] if f["assembly"])
    assert (
        counted["app-a/untouched"]
        == counted["app-c/untouched"]
        == sum(1 for f in runs.untouched.report["findings"] if f["assembly"])
    )
    evidence = json.loads((tmp_path / "out" / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    assert sorted(a["label"] for a in evidence["assemblies"]) == labels


# ------------------------------------------------------------------------------------ refusals (exit 2)


def test_a_missing_shard_is_a_harness_failure(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.violation.reports, reports=tmp_path / "out")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "shard(s) 1/2 missing" in line and "never a pass" in line
    assert result.report["verdict"] == "ERROR"  # the reports say so too: no earlier PASS left in place
    assert "1/2 missing" in result.read("compliance.md")


def test_a_shard_given_twice_is_a_harness_failure(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.untouched.reports, runs.untouched.reports, reports=tmp_path / "out")
    assert result.returncode == 2
    assert "shard 1/2 given twice" in _one_line(result.stderr)


def test_more_shards_expected_than_given_is_a_harness_failure(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.untouched.reports, runs.violation.reports, "--total", "3", reports=tmp_path / "out")
    assert result.returncode == 2
    assert "--total 3 but the shards record 2" in _one_line(result.stderr)


def test_a_directory_without_compliance_json_is_a_harness_failure(runs: Runs, tmp_path: Path) -> None:
    empty = tmp_path / "shard-that-never-reported"
    empty.mkdir()
    result = run_merge(runs.untouched.reports, empty, reports=tmp_path / "out")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert f"{empty}/compliance.json is missing" in line


def test_shards_of_different_policy_catalogs_are_refused(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.untouched.reports, runs.other_policies.reports, reports=tmp_path / "out")
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "another policy catalog" in line and "waivers.yaml differs" in line


def _tampered(source: Path, directory: Path, edit: Any) -> Path:
    shutil.copytree(source, directory)
    for name, change in edit.items():
        path = directory / name
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(change(data) if callable(change) else change, encoding="utf-8")
    return directory


def _evidence_with(key: str, value: str) -> Any:
    def change(data: dict[str, Any]) -> str:
        data["versions"][key] = value
        return json.dumps(data)

    return change


def _with_delta(data: dict[str, Any]) -> str:
    data["delta"] = {"introduced": [], "fixed": [], "unchanged": []}
    return json.dumps(data)


def _without_shard(data: dict[str, Any]) -> str:
    data.pop("shard")
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ({"evidence/evidence.json": _evidence_with("harness", "sha256:0000")}, "was gated by another harness"),
        ({"evidence/evidence.json": _evidence_with("cdk-nag", "2.0.0")}, "was gated with cdk-nag 2.0.0"),
        ({"compliance.json": _without_shard}, "records no shard: gate each job of the matrix with --shard I/N"),
        ({"compliance.json": "{not json"}, "compliance.json is not readable JSON"),
        ({"evidence/evidence.json": "[]"}, "is not staging-rds-compliance-evidence/2 evidence"),
        ({"compliance.json": _with_delta}, "was gated with a base (--base / --base-assembly): the merge folds"),
    ],
    ids=["other-harness", "other-tool-version", "no-shard-record", "garbage-report", "garbage-evidence", "base"],
)
def test_unusable_or_foreign_shards_are_refused_in_one_line(
    runs: Runs, tmp_path: Path, edit: dict[str, Any], expected: str
) -> None:
    shard = _tampered(runs.violation.reports, tmp_path / "shard", edit)
    result = run_merge(runs.untouched.reports, shard, reports=tmp_path / "out")
    assert result.returncode == 2
    assert expected in _one_line(result.stderr)


def test_bad_arguments_are_one_line(runs: Runs, tmp_path: Path) -> None:
    result = run_merge(runs.untouched.reports, "--total", "0", reports=tmp_path / "out")
    assert result.returncode == 2
    assert "'0' is not a shard count (valid example: 4)" in result.stderr
    result = run_merge(runs.untouched.reports, runs.violation.reports, reports=runs.untouched.reports)
    assert result.returncode == 2
    assert "is also a shard directory" in _one_line(result.stderr)


# ------------------------------------------------------------------------------------ code scanning limits


def _sarif(runs: Sequence[tuple[str, int]]) -> str:
    return json.dumps(
        {
            "runs": [
                {
                    "tool": {"driver": {"name": f"compliance-gate/{name}", "rules": [{"id": "R"}]}},
                    "automationDetails": {"id": f"compliance-gate/{name}/"},
                    "results": [{"ruleId": "R", "message": {"text": str(i)}} for i in range(results)],
                }
                for name, results in runs
            ]
        }
    )


def test_sarif_limits_of_code_scanning_are_named() -> None:
    errors, _ = sarif_upload_problems(_sarif([(f"tool{i}", 1) for i in range(21)]))
    assert errors == ["21 runs (code scanning takes at most 20 per upload)"]
    errors, _ = sarif_upload_problems(_sarif([("checkov", 25_001)]))
    assert errors == ["run compliance-gate/checkov/ has 25001 results (at most 25000 per run)"]
    errors, warnings = sarif_upload_problems(_sarif([("checkov", 5_001)]))
    assert errors == [] and "stores the 5000 most severe" in warnings[0]
    errors, _ = sarif_upload_problems(_sarif([("checkov", 1), ("checkov", 1)]))
    assert errors == ["two runs of compliance-gate/checkov in category 'compliance-gate/checkov/' (code scanning "
                      "takes one per tool and category)"]  # fmt: skip
    assert sarif_upload_problems(_sarif([("checkov", 25_000)]))[0] == []


def test_a_sarif_over_the_limit_fails_the_merge_and_drops_nothing(
    runs: Runs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.merging.merge.SARIF_MAX_RESULTS", 1)  # the public mutation: several cdk-nag results
    out = tmp_path / "out"
    options = MergeOptions(directories=[runs.untouched.reports, runs.violation.reports], reports_dir=out, root=ROOT)
    data = merge(options)
    assert data.exit_code is ExitCode.HARNESS_FAILURE
    assert "compliance.sarif cannot be uploaded to code scanning: run compliance-gate/" in data.error
    report = json.loads((out / "compliance.json").read_text(encoding="utf-8"))
    assert report["exit_code"] == 2
    sarif = json.loads((out / "compliance.sarif").read_text(encoding="utf-8"))
    alerts = sum(1 for f in report["findings"] if f["status"] in ("failed", "not-evaluated", "warning"))
    assert sum(len(run["results"]) for run in sarif["runs"]) == alerts


# ------------------------------------------------------------------------------------ the shipped workflow

WORKFLOW = ROOT / ".github" / "workflows" / "compliance-matrix.yml"


def test_the_matrix_workflow_gates_shards_and_merges_them() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    jobs = yaml.safe_load(text)["jobs"]
    gate, merge_job = jobs["gate"], jobs["merge"]
    assert gate["strategy"]["fail-fast"] is False
    names = [entry["name"] for entry in gate["strategy"]["matrix"]["include"]]
    assert len(names) == len(set(names)) >= 2
    gate_run = "\n".join(step.get("run", "") for step in gate["steps"])
    assert '--shard "$((SHARD + 1))/$TOTAL" --shard-name "$NAME"' in gate_run
    assert merge_job["needs"] == "gate" and merge_job["if"] == "${{ !cancelled() }}"
    merge_run = "\n".join(step.get("run", "") for step in merge_job["steps"])
    assert "bootstrap.py -s merge --" in merge_run and "--sarif-category" not in merge_run
    # compliance.yml is the one code scanning uploader (tests/harness/test_one_finding_once.py).
    assert not [s for s in merge_job["steps"] if "upload-sarif" in s.get("uses", "")]


def test_every_action_of_the_matrix_workflow_is_pinned_by_commit_sha() -> None:
    lines = [line.strip() for line in WORKFLOW.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert lines
    for line in lines:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
