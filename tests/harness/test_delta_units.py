"""The comparison with a base, in-process on small assemblies: changes, delta, source map, cache, SARIF.

No tool runs here; tests/harness/test_delta.py proves the same through the gate's command line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from harness.catalog import POLICIES_DIR, Tool, Waiver, load_waivers
from harness.comparison.base import BOOTSTRAP, read_findings, resolve_commit, toolchain_digest, write_findings
from harness.comparison.change_rules import ChangeRules, load_change_rules
from harness.comparison.change_values import values_at
from harness.comparison.changes import Change, change_findings, compare_assemblies
from harness.comparison.delta import compare_findings
from harness.errors import HarnessError
from harness.model import ExitCode, Finding, Source, Status
from harness.reading import sources
from harness.reading.assembly import CloudAssembly, load_assembly
from harness.reading.sources import SOURCES_FILE, SourceLine, SourceMap, read_source_map
from harness.reporting.reports import ReportInput
from harness.reporting.sarif import render_sarif
from harness.tools.waivers import WaiverBook
from tests.harness.conftest import ROOT

TODAY = dt.date(2026, 6, 1)
T = TypeVar("T")


@pytest.fixture(scope="module")
def rules() -> ChangeRules:
    return load_change_rules(POLICIES_DIR)


def _assembly(directory: Path, resources: dict[str, dict[str, Any]]) -> CloudAssembly:
    """A one-stack assembly; each resource may carry ``Path`` (its construct path, as aws:cdk:path)."""
    directory.mkdir(parents=True)
    body: dict[str, Any] = {"Resources": {}}
    for logical_id, spec in resources.items():
        resource = {k: v for k, v in spec.items() if k != "Path"}
        if "Path" in spec:
            resource["Metadata"] = {"aws:cdk:path": spec["Path"]}
        body["Resources"][logical_id] = resource
    (directory / "Stack.template.json").write_text(json.dumps(body, indent=1), encoding="utf-8")
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "Stack": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://unknown-account/us-east-1",
                "properties": {"templateFile": "Stack.template.json"},
            }
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return load_assembly(directory)


def _db(**properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::RDS::DBInstance",
        "Path": "Stack/Database/Instance/Resource",
        "Properties": {"MasterUsername": "admin", "DBInstanceClass": "db.t3.medium", **properties},
    }


def _compare(tmp_path: Path, rules: ChangeRules, base: dict[str, Any], head: dict[str, Any]) -> list[Change]:
    return compare_assemblies(_assembly(tmp_path / "base", base), _assembly(tmp_path / "head", head), rules=rules)


def _only(items: Sequence[T]) -> T:
    assert len(items) == 1, items
    return items[0]


# ------------------------------------------------------------------------------------------- changes


def test_create_only_property_replaces_other_properties_modify(tmp_path: Path, rules: ChangeRules) -> None:
    replaced = _only(_compare(tmp_path / "a", rules, {"Db": _db()}, {"Db": _db(MasterUsername="root2")}))
    assert (replaced.action, replaced.causes, replaced.stateful) == (
        "replace", ("create-only property MasterUsername changed",), True,
    )  # fmt: skip
    modified = _only(_compare(tmp_path / "b", rules, {"Db": _db()}, {"Db": _db(DBInstanceClass="db.t3.large")}))
    assert (modified.action, modified.properties, modified.causes) == ("modify", ("DBInstanceClass",), ())
    assert _compare(tmp_path / "c", rules, {"Db": _db()}, {"Db": _db()}) == []


def test_deletion_policy_is_a_change_metadata_is_not(tmp_path: Path, rules: ChangeRules) -> None:
    head = {"Db": {**_db(), "DeletionPolicy": "Delete", "Metadata": {"aws:cdk:path": "Stack/Other"}}}
    modified = _only(_compare(tmp_path, rules, {"Db": {**_db(), "DeletionPolicy": "Snapshot"}}, head))
    assert modified.action == "modify" and modified.properties == ("DeletionPolicy",)


def test_changed_logical_id_with_the_same_path_is_one_replacement(tmp_path: Path, rules: ChangeRules) -> None:
    replaced = _only(_compare(tmp_path, rules, {"DbOld": _db()}, {"DbNew": _db()}))
    assert (replaced.action, replaced.logical_id, replaced.base_logical_id) == ("replace", "DbNew", "DbOld")
    assert replaced.causes == ("logical id changed from DbOld to DbNew",)


def test_moved_construct_is_one_replacement(tmp_path: Path, rules: ChangeRules) -> None:
    moved = {**_db(), "Path": "Stack/Storage/Instance/Resource"}
    replaced = _only(_compare(tmp_path, rules, {"DatabaseInstance1": _db()}, {"StorageInstance2": moved}))
    assert replaced.action == "replace" and replaced.base_construct_path == "Stack/Database/Instance/Resource"
    assert (
        "construct moved from Stack/Database/Instance/Resource to Stack/Storage/Instance/Resource" in replaced.causes[0]
    )


def test_unrelated_removal_and_addition_are_not_paired(tmp_path: Path, rules: ChangeRules) -> None:
    other = {**_db(), "Path": "Stack/Reporting/Replica/Resource"}
    changes = _compare(tmp_path, rules, {"Db": _db()}, {"Replica": other})
    assert sorted(c.action for c in changes) == ["add", "remove"]


def test_replacement_cascades_through_create_only_references(tmp_path: Path, rules: ChangeRules) -> None:
    group = {
        "Type": "AWS::RDS::DBSubnetGroup",
        "Path": "Stack/Database/SubnetGroup",
        "Properties": {"DBSubnetGroupName": "a"},
    }
    db = _db(DBSubnetGroupName={"Ref": "Group"})
    renamed = {**group, "Properties": {"DBSubnetGroupName": "b"}}
    changes = {
        c.logical_id: c for c in _compare(tmp_path, rules, {"Group": group, "Db": db}, {"Group": renamed, "Db": db})
    }
    assert changes["Group"].action == "replace" and not changes["Group"].stateful
    assert changes["Db"].action == "replace" and changes["Db"].stateful
    assert changes["Db"].causes == ("create-only property DBSubnetGroupName references Group, which is replaced",)


def test_values_at_walks_lists_and_stops_at_intrinsics() -> None:
    value = {"A": [{"B": 1}, {"B": 2}], "C": {"Fn::If": ["x", 1, 2]}}
    assert values_at(value, ["A", "*", "B"]) == [1, 2]
    assert values_at(value, ["C", "D"]) == [{"Fn::If": ["x", 1, 2]}]
    assert values_at(value, ["Missing"]) == []


def test_broadening_lists_new_ingress_and_iam(tmp_path: Path, rules: ChangeRules) -> None:
    rule = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIp": "10.1.0.0/24"}
    group: dict[str, Any] = {
        "Type": "AWS::EC2::SecurityGroup",
        "Path": "Stack/Sg",
        "Properties": {"GroupDescription": "db", "SecurityGroupIngress": [rule]},
    }
    opened = {
        **group,
        "Properties": {**group["Properties"], "SecurityGroupIngress": [rule, {**rule, "CidrIp": "0.0.0.0/0"}]},
    }
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    key = {"Type": "AWS::KMS::Key", "Path": "Stack/Key", "Properties": {"KeyPolicy": {"Statement": [statement]}}}
    wider = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": ["kms:Decrypt", "kms:CreateGrant"],
        "Resource": "*",
    }
    widened = {**key, "Properties": {"KeyPolicy": {"Statement": [statement, wider]}}}
    changes = {
        c.logical_id: c for c in _compare(tmp_path, rules, {"Sg": group, "Key": key}, {"Sg": opened, "Key": widened})
    }
    ingress = _only(changes["Sg"].broadening)
    assert ingress.kind == "ingress" and ingress.anywhere
    assert ingress.text == "ingress tcp 5432 from 0.0.0.0/0 (anywhere)"
    iam = changes["Key"].broadening[0]
    assert iam.new_actions == ("kms:CreateGrant",) and iam.new_principals == ("AWS:arn:aws:iam::999999999999:root",)


def _change_waiver(rule: str, target: str) -> Waiver:
    return Waiver(
        id="WVR-T", tool=Tool.CHANGE, rule=rule, targets=(target,), resource_type="AWS::RDS::DBInstance",
        reason="planned", owner="platform-team", expires=dt.date(2099, 1, 1),
    )  # fmt: skip


def test_removed_stateful_resource_fails(tmp_path: Path, rules: ChangeRules) -> None:
    head = _assembly(tmp_path / "head", {"Topic": {"Type": "AWS::SNS::Topic", "Path": "Stack/Topic"}})
    base = _assembly(tmp_path / "base", {"Topic": {"Type": "AWS::SNS::Topic", "Path": "Stack/Topic"}, "Db": _db()})
    changes = compare_assemblies(base, head, rules=rules)
    removed = _only(changes)
    assert (removed.action, removed.logical_id, removed.stateful) == ("remove", "Db", True)
    book = WaiverBook(waivers=[], today=TODAY)
    finding = _only(change_findings(changes, rules=rules, book=book, head=head, base=base))
    assert (finding.rule_id, finding.status, finding.source) == ("STG_CHG_2", Status.FAILED, Source.CHANGE)
    assert "removes the stateful AWS::RDS::DBInstance Db" in finding.message
    # A waiver for a replacement does not allow a removal; one for the removal does.
    book = WaiverBook(waivers=[_change_waiver("STG_CHG_1", "Stack/Database/Instance/Resource")], today=TODAY)
    assert change_findings(changes, rules=rules, book=book, head=head, base=base)[0].status is Status.FAILED
    book = WaiverBook(waivers=[_change_waiver("STG_CHG_2", "Stack/Database/Instance/Resource")], today=TODAY)
    assert change_findings(changes, rules=rules, book=book, head=head, base=base)[0].status is Status.WAIVED


def test_stateful_list_is_reviewed_data(rules: ChangeRules) -> None:
    assert {"AWS::RDS::DBInstance", "AWS::KMS::Key", "AWS::SecretsManager::Secret", "AWS::Logs::LogGroup"} <= set(
        rules.stateful
    )
    assert all(len(reason.split()) >= 4 for reason in rules.stateful.values())
    assert {p.id for p in rules.policies.values()} == {"STG_CHG_1", "STG_CHG_2"}


def test_unknown_stateful_type_is_one_line(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    (policies / "lib").mkdir(parents=True)
    (policies / "lib" / "cfn_types.json").write_bytes((POLICIES_DIR / "lib" / "cfn_types.json").read_bytes())
    text = (POLICIES_DIR / "stateful.yaml").read_text(encoding="utf-8") + "  AWS::RDS::DBInstanse: typo\n"
    (policies / "stateful.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(HarnessError, match=r"'AWS::RDS::DBInstanse' is not a CloudFormation resource type"):
        load_change_rules(policies)


def test_change_waiver_names_a_change_policy(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    waiver = (
        "waivers:\n  - {id: W-1, tool: change, rule: replace, target: Db, resource_type: AWS::RDS::DBInstance,"
        " reason: r, owner: o, expires: 2099-01-01}\n"
    )
    (policies / "waivers.yaml").write_text(waiver, encoding="utf-8")
    with pytest.raises(ValueError, match="STG_CHG_1 replace, STG_CHG_2 remove"):
        load_waivers(policies)


# ------------------------------------------------------------------------------------------- delta


def _finding(
    rule: str, status: Status, *, path: str = "Stack/Db/Resource", logical_id: str = "Db1", **extra: Any
) -> Finding:
    return Finding(
        source=extra.pop("source", Source.PROJECT), rule_id=rule, status=status, title=rule, stack="Stack",
        logical_id=logical_id, construct_path=path, **extra,
    )  # fmt: skip


def test_identity_survives_a_changed_logical_id() -> None:
    delta = compare_findings(
        [_finding("R1", Status.FAILED, logical_id="Db2")],
        [_finding("R1", Status.FAILED, logical_id="Db1")],
        label="main",
    )
    assert (len(delta.introduced), len(delta.fixed), len(delta.unchanged)) == (0, 0, 1)


def test_identity_falls_back_to_the_logical_id() -> None:
    delta = compare_findings([_finding("R1", Status.FAILED, path="")], [_finding("R1", Status.FAILED)], label="main")
    assert len(delta.unchanged) == 1 and not delta.introduced and not delta.fixed


def test_introduced_fixed_and_waived() -> None:
    head = [_finding("NEW", Status.FAILED), _finding("GONE", Status.PASSED), _finding("W", Status.WAIVED)]
    base = [_finding("NEW", Status.PASSED), _finding("GONE", Status.FAILED), _finding("W", Status.FAILED)]
    delta = compare_findings(head, base, label="main")
    assert [(e.finding.rule_id, e.base_status) for e in delta.introduced] == [("NEW", "passed")]
    assert sorted((e.finding.rule_id, e.status) for e in delta.fixed) == [("GONE", "passed"), ("W", "waived")]


def test_duplicates_pair_one_to_one_and_tests_are_not_compared() -> None:
    head = [_finding("E1", Status.FAILED, message="a"), _finding("E1", Status.FAILED, message="b")]
    head.append(_finding("tests/unit/x.py::t", Status.FAILED, source=Source.TESTS, path="", logical_id=""))
    delta = compare_findings(head, [_finding("E1", Status.FAILED, message="b")], label="main")
    assert [e.finding.message for e in delta.introduced] == ["a"] and len(delta.unchanged) == 1


# ------------------------------------------------------------------------------------------- sources, cache


def test_source_map_locates_the_nearest_ancestor_and_refuses_outside_paths(tmp_path: Path) -> None:
    entries = {
        "S/Database": {"file": "infra/domains/database.py", "line": 10},
        "S/Evil": {"file": "/etc/passwd", "line": 1},
        "S/Up": {"file": "../outside.py", "line": 1},
    }
    (tmp_path / SOURCES_FILE).write_text(json.dumps({"schema": "construct-sources/1", "constructs": entries}))
    found = read_source_map(tmp_path)
    assert set(found.constructs) == {"S/Database"}
    assert found.locate("S/Database/Instance/Resource") == SourceLine(file="infra/domains/database.py", line=10)
    assert found.locate("S/Other") is None
    (tmp_path / SOURCES_FILE).write_text("not json")
    assert read_source_map(tmp_path).constructs == {}


def test_findings_cache_round_trips_and_rejects_garbage(tmp_path: Path) -> None:
    findings = [_finding("R1", Status.FAILED, code_file="infra/x.py", code_line=3), _finding("R2", Status.WAIVED)]
    write_findings(tmp_path / "f.json", findings)
    assert read_findings(tmp_path / "f.json") == findings
    (tmp_path / "g.json").write_text('{"schema": "compliance-base-findings/1", "findings": [{"source": "nope"}]}')
    assert read_findings(tmp_path / "g.json") is None
    assert read_findings(tmp_path / "missing.json") is None
    assert toolchain_digest() == toolchain_digest()


@pytest.mark.parametrize("ref", ["-x", "no such", "definitely-not-a-ref-9"])
def test_bad_base_ref_is_one_line(ref: str) -> None:
    with pytest.raises(HarnessError) as raised:
        resolve_commit(ROOT, ref)
    assert "\n" not in str(raised.value) and repr(ref) in str(raised.value)


# ------------------------------------------------------------------------------------------- SARIF


def _sarif(tmp_path: Path, findings: list[Finding]) -> dict[str, Any]:
    assembly = tmp_path / "asm"
    assembly.mkdir(parents=True)
    (assembly / "Stack.template.json").write_text('{\n "Resources": {\n  "Db1": {\n   "Type": "X"\n  }\n }\n}\n')
    data = ReportInput(
        exit_code=ExitCode.VIOLATIONS, mode="assembly", error="", findings=findings,
        assemblies=[{"label": "asm", "abs_path": str(assembly), "path": str(assembly), "exit_code": 1, "failed_rules": []}],
        waivers=[], tools=[], requirements=[], policies=[], mappings=[], mutations=[], root=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(render_sarif(data))
    return result


def test_sarif_locates_in_infra_and_keeps_fingerprints_when_lines_move(tmp_path: Path) -> None:
    common = {"assembly": "asm", "template": "Stack.template.json", "code_file": "infra/domains/database.py"}
    first = _sarif(tmp_path / "a", [_finding("R1", Status.FAILED, code_line=10, **common)])
    moved = _sarif(tmp_path / "b", [_finding("R1", Status.FAILED, code_line=42, **common)])
    result, again = first["runs"][0]["results"][0], moved["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "infra/domains/database.py"}
    related = result["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"] == {"uri": "Stack.template.json", "uriBaseId": "ASSEMBLY_1"}
    assert related["region"]["startLine"] == 3
    assert "uri" not in first["runs"][0]["originalUriBaseIds"]["ASSEMBLY_1"]  # never an absolute path
    assert result["partialFingerprints"] == again["partialFingerprints"]


def test_sarif_leaves_waived_results_out_but_declares_their_rule(tmp_path: Path) -> None:
    sarif = _sarif(tmp_path, [_finding("R1", Status.WAIVED, waiver_id="WVR-1"), _finding("R2", Status.FAILED)])
    run = sarif["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["R2"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["R1", "R2"]
    assert all("security" in r["properties"]["tags"] for r in run["tool"]["driver"]["rules"])


def test_source_map_type_is_plain_data() -> None:
    found = SourceMap(constructs={"S/A": SourceLine(file="infra/a.py", line=2)})
    assert json.loads(found.render())["constructs"] == {"S/A": {"file": "infra/a.py", "line": 2}}


# ------------------------------------------------------------------------------------------- workflow


def test_workflow_pins_actions_and_compares_with_the_merge_base() -> None:
    text = (ROOT / ".github" / "workflows" / "compliance.yml").read_text(encoding="utf-8")
    uses = [
        line.split("uses:", 1)[1].strip() for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert uses
    for use in uses:  # owner/repo[/path]@<40-hex commit> # vX.Y.Z
        assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w.-]+)*@[0-9a-f]{40} # v\d+\.\d+\.\d+", use), use
    steps = yaml.safe_load(text)["jobs"]["gate"]["steps"]
    gate = next(s for s in steps if s.get("name") == "Compliance gate")
    assert (
        '--base "$BASE_SHA"' in gate["run"] and "merge-base" in next(s for s in steps if s.get("id") == "base")["run"]
    )
    junit = next(s for s in steps if "action-junit-report" in s.get("uses", ""))
    assert junit["with"]["report_paths"] == "reports/compliance.junit.xml"  # each test once
    assert any(s.get("with", {}).get("path") == ".nox" for s in steps)  # the nox virtualenvs are cached


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"cdk.json": '{"app": "npx ts-node bin/app.ts"}'}, "is not 'python <file>.py'"),
        ({"cdk.json": '{"app": "python app.py"}'}, "app.py does not exist"),
        ({"cdk.json": '{"app": "python app.py"}', "app.py": "raise SystemExit('config error: bad key')"}, "bad key"),
        ({"cdk.json": '{"app": "python app.py"}', "app.py": "pass"}, "without writing a cloud assembly"),
    ],
    ids=["not-python", "missing-entry", "app-exits", "no-assembly"],
)
def test_base_that_cannot_be_synthesized_says_why(tmp_path: Path, files: dict[str, str], message: str) -> None:
    """The subprocess that synthesizes a base checkout fails with a last line naming the reason."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name, text in files.items():
        (checkout / name).write_text(text, encoding="utf-8")
    argv = [sys.executable, "-c", BOOTSTRAP, str(checkout), str(tmp_path / "out"), sources.__file__]
    done = subprocess.run(argv, cwd=checkout, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert message in done.stderr.strip().splitlines()[-1]
