"""The rules that judge (issue 17), in process: the boundary, the digest, the diff, policy changes, waiver rules.

The gate runs that show the same end to end are in tests/harness/test_policy_change.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.catalog import Tool, Waiver, load_waivers
from harness.comparison.policy_change import RULE_ID, policy_change_findings
from harness.errors import HarnessError
from harness.model import Finding, Source, Status
from harness.reading.rules import SPEC_FIXED_CONTEXT, checkout_rules, rules_diff, rules_digest, rules_files
from harness.reporting.rules_report import render_rules_markdown
from harness.tools.waivers import accepted_exception
from harness.verdict.rule_ids import GATE_RULES, check_waiver_rules, nag_rules, unknown_rule
from infra.config import _FIXED_BY_SPEC, StagingDatabaseConfig
from tests.harness.conftest import ROOT

DATABASE = "DatabaseInstanceAA8A5FDE"
DATABASE_PATH = "StagingDatabase/Database/Instance/Resource"


def copy_rules(root: Path, into: Path) -> Path:
    """A checkout holding only the rules of ``root`` (and the spec's loader)."""
    shutil.copytree(root / "policies", into / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    (into / "infra").mkdir(parents=True)
    for name in ("infra/spec.toml", "infra/spec.py", "cdk.json"):
        shutil.copyfile(root / name, into / name)
    return into


def set_spec(root: Path, *, toml_line: tuple[str, str], context: tuple[str, Any]) -> None:
    spec = root / "infra" / "spec.toml"
    old, new = toml_line
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")
    cdk = json.loads((root / "cdk.json").read_text(encoding="utf-8"))
    cdk["context"][context[0]] = context[1]
    (root / "cdk.json").write_text(json.dumps(cdk, indent=2), encoding="utf-8")


def edit_waivers(root: Path, edit: Any) -> None:
    path = root / "policies" / "waivers.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data["waivers"])
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# ------------------------------------------------------------------------------------------- boundary and digest


def test_the_rules_are_policies_the_spec_and_cdk_json() -> None:
    files = rules_files(ROOT)
    assert {"infra/spec.toml", "cdk.json", "policies/waivers.yaml", "policies/stateful.yaml"} <= set(files)
    assert any(f.startswith("policies/checks/") for f in files)
    assert files == sorted(files) and not any(f.startswith(("/", "harness/")) or "__pycache__" in f for f in files)


def test_the_digest_is_of_relative_paths_and_moves_with_the_spec(tmp_path: Path) -> None:
    copy = copy_rules(ROOT, tmp_path / "a")
    (copy / "infra" / "spec.py").unlink()  # not a rules file: the digest does not see it
    assert rules_digest(copy) == rules_digest(copy_rules(ROOT, tmp_path / "b"))
    set_spec(copy, toml_line=("backup_retention_days = 7", "backup_retention_days = 14"),
             context=("backupRetentionDays", 14))  # fmt: skip
    assert rules_digest(copy) != rules_digest(tmp_path / "b")


def test_the_context_keys_the_spec_fixes_are_the_configs() -> None:
    fields = StagingDatabaseConfig.model_fields
    assert set(SPEC_FIXED_CONTEXT) == {fields[name].alias for name in _FIXED_BY_SPEC}


def test_the_base_cache_key_holds_the_spec(tmp_path: Path) -> None:
    from harness.comparison.base import rules_digest as cache_key  # noqa: PLC0415

    copy = copy_rules(ROOT, tmp_path / "rules")
    before = cache_key(root=copy, policies_dir=copy / "policies", tools=[], today="2026-12-07")
    set_spec(copy, toml_line=("max_connections = 200", "max_connections = 300"), context=("maxConnections", 300))
    assert cache_key(root=copy, policies_dir=copy / "policies", tools=[], today="2026-12-07") != before


# ------------------------------------------------------------------------------------------- the rules diff


def test_a_raised_spec_value_is_named_in_spec_and_context(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")
    set_spec(head, toml_line=("backup_retention_days = 7", "backup_retention_days = 14"),
             context=("backupRetentionDays", 14))  # fmt: skip
    changes = [(c.kind, c.name, c.old, c.new, c.direction) for c in rules_diff(base=ROOT, head=head)]
    assert changes == [
        ("context", "backupRetentionDays", "7", "14", "weakening"),
        ("spec", "database.backup_retention_days", "7", "14", "weakening"),
    ]


def test_bounds_and_minimums_tighten_or_weaken(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")
    spec = head / "infra" / "spec.toml"
    text = spec.read_text(encoding="utf-8").replace("retention_days_min = 365", "retention_days_min = 400")
    text = text.replace(
        "kms_pending_window_days = { min = 7, max = 30 }", "kms_pending_window_days = { min = 7, max = 20 }"
    )
    text = text.replace("multi_az = true", "multi_az = false")
    spec.write_text(text, encoding="utf-8")
    found = {c.name: c.direction for c in rules_diff(base=ROOT, head=head)}
    assert found == {
        "logs.retention_days_min": "tightening",
        "encryption.kms_pending_window_days": "tightening",
        "database.multi_az": "weakening",
    }


def test_waivers_added_widened_extended_and_removed(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")

    def edit(waivers: list[dict[str, Any]]) -> None:
        first, second, third = waivers[0], waivers[1], waivers[2]
        first["expires"] = dt.date(2027, 6, 30)  # later
        second["subtree"] = True
        waivers.remove(third)
        waivers.append({**third, "id": "WVR-NEW"})

    edit_waivers(head, edit)
    first, second, third = (
        w["id"] for w in yaml.safe_load((ROOT / "policies/waivers.yaml").read_text())["waivers"][:3]
    )
    found = {(c.name, c.change, c.direction) for c in rules_diff(base=ROOT, head=head) if c.kind == "waiver"}
    assert found == {
        (first, "extended", "weakening"),
        (second, "widened", "weakening"),
        (third, "removed", "tightening"),
        ("WVR-NEW", "added", "weakening"),
    }


def test_policies_and_stateful_types_added_or_removed(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")
    removed = sorted((head / "policies" / "checks" / "rds").glob("ckv_stg_rds_14_*"))[0]
    removed.unlink()
    stateful = head / "policies" / "stateful.yaml"
    text = stateful.read_text(encoding="utf-8")
    stateful.write_text(
        text.replace("  AWS::Neptune::DBCluster:", "  AWS::Glue::Database: its tables\n  AWS::Neptune::DBCluster:", 1)
    )
    found = {(c.kind, c.name, c.change, c.direction) for c in rules_diff(base=ROOT, head=head)}
    assert ("policy", f"policies/checks/rds/{removed.name}", "removed", "weakening") in found
    assert ("stateful", "AWS::Glue::Database", "added", "tightening") in found
    assert {c.name for c in rules_diff(base=head, head=ROOT) if c.kind == "stateful"} == {"AWS::Glue::Database"}


def test_the_base_rules_are_read_from_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    copy_rules(ROOT, repo)
    (repo / "app.py").write_text("print('not a rule')\n", encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    set_spec(repo, toml_line=("max_connections = 200", "max_connections = 300"), context=("maxConnections", 300))
    out = checkout_rules(repository=repo, commit=commit, dest=tmp_path / "base-rules")
    assert rules_digest(out) == rules_digest(ROOT)  # the committed rules, not the edited work tree
    assert (out / "infra" / "spec.py").is_file() and not (out / "app.py").exists()
    with pytest.raises(HarnessError, match="has no policies/"):
        subprocess.run([*git, "rm", "-rq", "policies"], check=True)
        subprocess.run([*git, "commit", "-qm", "no rules"], check=True)
        checkout_rules(repository=repo, commit="HEAD", dest=tmp_path / "none")


# ------------------------------------------------------------------------------------------- policy changes


def _finding(
    status: Status, *, source: Source = Source.PROJECT, rule: str = "CKV_STG_RDS_2", waiver: str = ""
) -> Finding:
    return Finding(
        source=source, rule_id=rule, status=status, title="t", logical_id=DATABASE, construct_path=DATABASE_PATH,
        resource_type="AWS::RDS::DBInstance", stack="StagingDatabase", message="BackupRetentionPeriod is 7",
        waiver_id=waiver,
    )  # fmt: skip


def test_failing_under_the_base_rules_and_waived_under_the_heads_is_a_policy_change(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")
    edit_waivers(head, lambda w: w.append({**w[0], "id": "WVR-099", "tool": "project", "rule": "CKV_STG_RDS_2"}))
    changes = rules_diff(base=ROOT, head=head)
    found = policy_change_findings(
        head=[_finding(Status.WAIVED, waiver="WVR-099")], under_base_rules=[_finding(Status.FAILED)], changes=changes
    )
    assert [(f.rule_id, f.status, f.logical_id) for f in found] == [(RULE_ID, Status.FAILED, DATABASE)]
    assert "CKV_STG_RDS_2 is failed under the base's rules" in found[0].message
    assert "waived by WVR-099 under the head's" in found[0].message and "waiver WVR-099 added" in found[0].message
    accepted = policy_change_findings(
        head=[_finding(Status.WAIVED, waiver="WVR-099")], under_base_rules=[_finding(Status.FAILED)], changes=changes,
        accept_reason="approved by policy-owners",
    )  # fmt: skip
    assert accepted[0].status is Status.WAIVED and "approved by policy-owners" in accepted[0].message


def test_not_evaluated_under_the_base_rules_counts_and_what_gates_on_both_sides_does_not() -> None:
    assert policy_change_findings(head=[_finding(Status.PASSED)], under_base_rules=[_finding(Status.NOT_EVALUATED)],
                                  changes=[])  # fmt: skip
    assert not policy_change_findings(
        head=[_finding(Status.FAILED)], under_base_rules=[_finding(Status.FAILED)], changes=[]
    )
    assert not policy_change_findings(
        head=[_finding(Status.FAILED)], under_base_rules=[_finding(Status.PASSED)], changes=[]
    )


def test_the_first_screen_lists_every_rule_change(tmp_path: Path) -> None:
    head = copy_rules(ROOT, tmp_path / "head")
    set_spec(head, toml_line=("backup_retention_days = 7", "backup_retention_days = 14"),
             context=("backupRetentionDays", 14))  # fmt: skip
    record = {"digest": rules_digest(head), "base_digest": rules_digest(ROOT), "base_source": "main (abc)",
              "changes": [c.record() for c in rules_diff(base=ROOT, head=head)], "accepted_policy_change": None}  # fmt: skip
    lines = render_rules_markdown(record, [])
    assert lines[0].startswith("## Rule changes")
    text = "\n".join(lines)
    assert "`database.backup_retention_days` | changed | 7 → 14" in text and "`backupRetentionDays`" in text
    assert render_rules_markdown({"digest": "sha256:x", "base_source": ""}, []) == []  # no base rules read
    assert render_rules_markdown({**record, "changes": []}, []) == []  # the same rules: nothing to say


# ------------------------------------------------------------------------------------------- waivers that mean what they say


def _waiver(tool: Tool, rule: str) -> Waiver:
    return Waiver(id="WVR-X", tool=tool, rule=rule, targets=(DATABASE_PATH,), reason="r", owner="o",
                  expires=dt.date(2027, 1, 1), resource_type="AWS::RDS::DBInstance")  # fmt: skip


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    from harness.tools.run_cfnlint import default_executable  # noqa: PLC0415
    from tests.harness.conftest import checkov_bin  # noqa: PLC0415

    return {"checkov": checkov_bin(), "cfn_lint": default_executable()}


@pytest.mark.parametrize(
    ("tool", "rule", "exists"),
    [
        (Tool.PROJECT, "CKV_STG_RDS_6", True), (Tool.PROJECT, "CKV_STG_RDS_99", False),
        (Tool.CHECKOV, "CKV_AWS_157", True), (Tool.CHECKOV, "CKV_AWS_99999", False),
        (Tool.CFN_LINT, "W3005", True), (Tool.CFN_LINT, "W9999", False),
        (Tool.CDK_NAG, "AwsSolutions::AwsSolutions-RDS11", True),
        (Tool.CDK_NAG, "NIST.800.53.R5::NIST.800.53.R5-RDSInBackupPlan", True),
        (Tool.CDK_NAG, "AwsSolutions::AwsSolutions-RDS99", False),
        (Tool.CDK_NAG, "HIPAA.Security::HIPAA.Security-RDSMultiAZSupport", False),  # a pack that does not run
        (Tool.CDK_VALIDATE, "CloudFormation-Validate::W3010", True), (Tool.CDK_VALIDATE, "Other::W3010", False),
        (Tool.GATE, "gate:code-review", True), (Tool.GATE, "gate:no-such-rule", False),
    ],
)  # fmt: skip
def test_a_waiver_names_a_rule_that_exists(tools: dict[str, str], tool: Tool, rule: str, exists: bool) -> None:
    from harness.tools.nag import PACK_NAMES  # noqa: PLC0415

    problem = unknown_rule(
        _waiver(tool, rule), policies=["CKV_STG_RDS_6"], packs=PACK_NAMES, checkov=tools["checkov"],
        cfn_lint=tools["cfn_lint"],
    )  # fmt: skip
    assert (problem == "") is exists, problem
    if not exists:
        assert problem.count("\n") == 0 and f"waiver WVR-X names {tool} rule {rule!r}" in problem


def test_every_waiver_of_policies_names_a_rule_that_exists(tools: dict[str, str]) -> None:
    from harness.gate import load_catalog  # noqa: PLC0415
    from harness.tools.nag import PACK_NAMES  # noqa: PLC0415

    catalog = load_catalog()
    check_waiver_rules(catalog.waivers, policies=[p.id for p in catalog.policies],
                       requirements=[r.id for r in catalog.requirements], packs=PACK_NAMES, **tools)  # fmt: skip
    assert "AwsSolutions-RDS11" in nag_rules()["AwsSolutions"] and "gate:policy-change" in GATE_RULES


def test_one_waiver_lists_the_rules_of_several_tools(tmp_path: Path) -> None:
    rules = copy_rules(ROOT, tmp_path / "rules")
    entry = {
        "id": "WVR-050", "requirement": "REQ-DB-03",
        "rules": [{"tool": "checkov", "rule": "CKV_AWS_157"}, {"tool": "project", "rule": "CKV_STG_RDS_6"},
                  {"tool": "cdk-nag", "rule": "AwsSolutions::AwsSolutions-RDS11"}],
        "target": DATABASE_PATH, "resource_type": "AWS::RDS::DBInstance", "reason": "single-AZ while testing",
        "owner": "platform-team", "expires": "2027-01-31",
    }  # fmt: skip
    edit_waivers(rules, lambda w: w.append(entry))
    loaded = [w for w in load_waivers(rules / "policies") if w.id.startswith("WVR-050")]
    assert [(w.id, w.tool, w.rule, w.target, w.owner, w.requirement) for w in loaded] == [
        ("WVR-050.1", Tool.CHECKOV, "CKV_AWS_157", DATABASE_PATH, "platform-team", "REQ-DB-03"),
        ("WVR-050.2", Tool.PROJECT, "CKV_STG_RDS_6", DATABASE_PATH, "platform-team", "REQ-DB-03"),
        ("WVR-050.3", Tool.CDK_NAG, "AwsSolutions::AwsSolutions-RDS11", DATABASE_PATH, "platform-team", "REQ-DB-03"),
    ]
    edit_waivers(rules, lambda w: w[-1].update(tool="checkov"))
    with pytest.raises(ValueError, match="give either 'tool' and 'rule' or 'rules'"):
        load_waivers(rules / "policies")


def test_a_waiver_naming_an_unknown_requirement_fails(tools: dict[str, str]) -> None:
    waiver = Waiver(**{**_waiver(Tool.PROJECT, "CKV_STG_RDS_6").__dict__, "requirement": "REQ-DB-99"})
    with pytest.raises(HarnessError, match="names requirement 'REQ-DB-99'"):
        check_waiver_rules([waiver], policies=["CKV_STG_RDS_6"], requirements=["REQ-DB-03"], packs=(), **tools)


# ------------------------------------------------------------------------------------------- one judgement


def test_the_tiers_accept_what_the_gate_waives_and_nothing_else(default_template: dict[str, Any]) -> None:
    waiver = Waiver(id="WVR-051", tool=Tool.PROJECT, rule="CKV_STG_RDS_6", targets=(DATABASE_PATH,), reason="r",
                    owner="o", expires=dt.date(2027, 1, 31), resource_type="AWS::RDS::DBInstance")  # fmt: skip
    today = dt.date(2026, 12, 7)

    def judged(rule: str, *, waivers: list[Waiver], on: dt.date = today) -> Waiver | None:
        return accepted_exception(waivers=waivers, today=on, template=default_template, stack="StagingDatabase",
                                  rule=rule, logical_id=DATABASE)  # fmt: skip

    assert judged("CKV_STG_RDS_6", waivers=[waiver]) == waiver
    assert judged("CKV_STG_RDS_6", waivers=[]) is None  # unwaived: the tier fails as the gate does
    assert judged("CKV_STG_RDS_1", waivers=[waiver]) is None  # another rule
    assert judged("CKV_STG_RDS_6", waivers=[waiver], on=dt.date(2027, 2, 1)) is None  # expired
