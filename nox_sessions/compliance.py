"""The compliance gate: ``nox -s compliance`` (synthesize + every check) or ``-- --assembly PATH``.

Every option of ``python -m harness`` passes through (nox_sessions/gate_args.py), ``-c KEY=VALUE``
context overrides included: the gate synthesizes the app with them and judges that app.

``-- --base REF`` (or ``--base-assembly PATH``) also compares the head with a base: what the
change introduced, fixed or left unchanged, and what it does to each resource.

The gate itself is ``python -m harness`` (harness/cli.py); this session only provides its
environments: the test venv (CDK, cdk-nag, cfn-lint, pytest) and checkov's own venv.
Exit codes pass through: 0 clean, 1 violations, 2 harness failure. Reports: reports/.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import nox

from nox_sessions.gate_args import SessionArgumentError, gate_command
from nox_sessions.tools import PROJECT_BYTECODE_ENV, REPORTS, REQUIREMENTS, ensure_checkov, install_locked, install_only


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def compliance(session: nox.Session) -> None:
    """Compliance gate: synth + cdk-nag, checkov, cfn-lint, project policies, test tiers -> reports/.

    Every argument after ``--`` goes to ``python -m harness`` unchanged (``python -m harness --help``
    lists them: ``-q``, ``--tiers``, ``--policies``, ``-c KEY=VALUE`` context overrides the gate
    synthesizes the app with, ...); the gate judges them (exit 2 with one line).
    """
    try:
        command = gate_command(session.posargs, checkov="", default_reports=REPORTS)
    except SessionArgumentError as error:  # before any install: nox would print a traceback or exit 1
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    for lock in ("test", "checkov"):
        if not (REQUIREMENTS / f"{lock}.txt").is_file():
            session.error(f"requirements/{lock}.txt is missing: run from a full checkout of the repository")
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    if install_only():
        return
    command = gate_command(session.posargs, checkov=str(checkov), default_reports=REPORTS)
    report = command.reports / "compliance.json"
    report.unlink(missing_ok=True)  # a stale report must never stand in for this run's verdict
    env = {"CHECKOV_BIN": str(checkov), "HYPOTHESIS_PROFILE": "ci", **PROJECT_BYTECODE_ENV}
    # The base (--base) is synthesized by the gate with this session's interpreter: the same pinned toolchain.
    session.run("python", "-m", "harness", *command.argv, env=env, success_codes=[0, 1, 2])
    code = json.loads(report.read_text(encoding="utf-8"))["exit_code"] if report.is_file() else 2
    session.log(f"compliance verdict: exit {code}; reports in {command.reports}")
    if code:
        # nox turns every failed session into exit 1; the gate's 1 (violations) and 2 (harness
        # failure) must reach CI unchanged, so leave nox with the gate's own code.
        raise SystemExit(code)


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def merge(session: nox.Session) -> None:
    """Fold a CI matrix's shard reports into one verdict: ``nox -s merge -- DIR... [--reports OUT]``.

    Every argument goes to ``python -m harness merge`` (docs/compliance-gate.md, "CI matrix");
    its exit code passes through: the worst shard's, 2 when a shard is missing or does not match.
    """
    if not session.posargs:
        session.error("give each shard's report directory: nox -s merge -- shards/* --reports reports")
    install_locked(session, "test")
    if install_only():
        return
    reports = Path(_reports_of(session.posargs)) / "compliance.json"
    # A refused merge must not leave an earlier verdict in place; --reports under a regular file
    # cannot hold one, and the merge refuses it with one line (exit 2).
    with contextlib.suppress(OSError):
        reports.unlink(missing_ok=True)
    session.run("python", "-m", "harness", "merge", *session.posargs, success_codes=[0, 1, 2])
    verdict = json.loads(reports.read_text(encoding="utf-8"))["exit_code"] if reports.is_file() else 2
    session.log(f"merged verdict: exit {verdict}; reports in {reports.parent}")
    if verdict:
        raise SystemExit(verdict)


def _reports_of(argv: list[str]) -> str:
    for i, arg in enumerate(argv):
        if arg == "--reports" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--reports="):
            return arg.split("=", 1)[1]
    return str(REPORTS)
