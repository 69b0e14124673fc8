"""``nox -s compliance -- ARGS`` hands every option to the gate, and the gate takes ``-c KEY=VALUE``.

The translation (nox_sessions/gate_args.py) is checked without nox; the gate's own handling of
``-c`` through its command line: bad pairs and ``-c`` with ``--assembly`` are one line, exit 2, and
a context override is the app the gate synthesizes and judges.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nox_sessions.gate_args import SessionArgumentError, gate_command
from tests.harness.conftest import ROOT, GateRunner

MIGRATION = (
    'migration={"devVpcId":"vpc-0a1b2c3d4e5f60718","devVpcCidr":"10.0.0.0/16",'
    '"devDbEndpoint":"payments-dev.abc123.us-east-1.rds.amazonaws.com","devDbPort":5432,'
    '"devRouteTableIds":["rtb-0a1b2c3d4e5f60718"],"devDbSecurityGroupId":"sg-0a1b2c3d4e5f60718"}'
)


def test_documented_options_pass_through_in_order(tmp_path: Path) -> None:
    posargs = ["-q", "--tiers", "unit", "--policies", "policies", "-c", "environmentSuffix=pr42", "--base", "main"]
    command = gate_command(posargs, checkov="/venv/bin/checkov", default_reports=tmp_path / "reports")
    assert command.argv == ["--checkov", "/venv/bin/checkov", "--reports", str(tmp_path / "reports"), *posargs]
    assert command.reports == tmp_path / "reports"


@pytest.mark.parametrize("given", [["--reports", "out"], ["--reports=out"]])
def test_the_reports_directory_given_is_the_one_read(given: list[str], tmp_path: Path) -> None:
    command = gate_command([*given, "--checkov", "/x/checkov"], checkov="/venv/bin/checkov", default_reports=tmp_path)
    assert command.argv == [*given, "--checkov", "/x/checkov"]  # nothing added: both given
    assert command.reports == Path("out")


@pytest.mark.parametrize(
    ("posargs", "expected"),
    [
        (
            ["-c", "environmentSuffix"],
            "'environmentSuffix' is not KEY=VALUE (valid example: -c environmentSuffix=pr42)",
        ),
        (["--context", "=pr42"], "'=pr42' is not KEY=VALUE"),
        (["--reports"], "--reports: expected one argument"),
    ],
)
def test_bad_arguments_are_one_line(posargs: list[str], expected: str, tmp_path: Path) -> None:
    with pytest.raises(SessionArgumentError) as refused:
        gate_command(posargs, checkov="c", default_reports=tmp_path)
    assert expected in str(refused.value) and "\n" not in str(refused.value)


def test_reports_under_a_regular_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(SessionArgumentError) as refused:
        gate_command(["--reports", str(tmp_path / "file" / "reports")], checkov="c", default_reports=tmp_path)
    assert f"{tmp_path / 'file'} is a file, not a directory" in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["-c", "environmentSuffix"],
            "argument -c/--context: 'environmentSuffix' is not KEY=VALUE (valid example: -c environmentSuffix=pr42)",
        ),
        (["-c", "a=b", "--assembly", "cdk.out"], "-c/--context overrides the context the gate synthesizes"),
    ],
)
def test_the_gate_refuses_bad_context_in_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", *args, "--reports", str(tmp_path / "reports")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], done.stderr


def test_a_context_override_is_the_app_the_gate_judges(gate: GateRunner, tmp_path: Path) -> None:
    run = gate("-c", MIGRATION, "--no-tests", "--out", str(tmp_path / "cdk.out"))
    assert run.returncode == 0, run.stderr
    template = json.loads((tmp_path / "cdk.out" / "StagingDatabase.template.json").read_text(encoding="utf-8"))
    types = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::EC2::VPCPeeringConnection" in types  # the migration context's peering: not in the default app
    judged = {f["resource_type"] for f in run.report["findings"]}
    assert "AWS::EC2::VPCPeeringConnection" in judged
    evidence = json.loads((run.reports / "evidence" / "evidence.json").read_text(encoding="utf-8"))
    assert evidence["commands"][0].startswith("python -m harness -c migration=")
