"""The compliance gate: ``nox -s compliance`` (synthesize + every check) or ``-- --assembly PATH``.

``-- --base REF`` (or ``--base-assembly PATH``) also compares the head with a base: what the
change introduced, fixed or left unchanged, and what it does to each resource.

The gate itself is ``python -m harness`` (harness/cli.py); this session only provides its
environments: the test venv (CDK, cdk-nag, cfn-lint, pytest) and checkov's own venv.
Exit codes pass through: 0 clean, 1 violations, 2 harness failure. Reports: reports/.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import nox

from nox_sessions.tools import PROJECT_BYTECODE_ENV, REPORTS, REQUIREMENTS, ensure_checkov, install_locked, install_only


def _arguments(session: nox.Session) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s compliance --", description="Run the compliance gate.")
    parser.add_argument(
        "--assembly",
        action="append",
        default=[],
        metavar="PATH",
        help="gate an existing cloud assembly (skips synthesis and the test tiers); repeatable",
    )
    parser.add_argument("--reports", default=str(REPORTS), help="report directory (default: reports/)")
    parser.add_argument("--no-tests", action="store_true", help="skip the unit/snapshot/property tiers")
    parser.add_argument("--today", default=None, help="date for waiver expiry checks (YYYY-MM-DD)")
    base = parser.add_mutually_exclusive_group()
    base.add_argument("--base", default=None, metavar="REF", help="compare with the app synthesized at git ref REF")
    base.add_argument("--base-assembly", default=None, metavar="PATH", help="compare with an existing cloud assembly")
    parser.add_argument(
        "--base-cache", default=None, metavar="DIR", help="cache of bases (default: .cache/compliance-base)"
    )
    parser.add_argument("--source-url", default=None, metavar="URL", help="prefix of source links in compliance.md")
    parser.add_argument("--shard", default=None, metavar="I/N", help="this run is shard I of N of a CI matrix")
    parser.add_argument("--shard-name", default=None, metavar="NAME", help="name of this shard (with --shard)")
    parser.add_argument("--sign-key", default=None, metavar="PATH", help="sign the run's statement (ed25519 PEM key)")
    return parser.parse_args(session.posargs)


@nox.session(venv_backend="none")  # install_locked activates the shared venv
def compliance(session: nox.Session) -> None:
    """Compliance gate: synth + cdk-nag, checkov, cfn-lint, project policies, test tiers -> reports/."""
    args = _arguments(session)
    # Bad --assembly input is the gate's to judge (exit 2 with the reason); here only what the
    # session itself needs. nox reports a session.error as exit 1.
    for lock in ("test", "checkov"):
        if not (REQUIREMENTS / f"{lock}.txt").is_file():
            session.error(f"requirements/{lock}.txt is missing: run from a full checkout of the repository")
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    if install_only():
        return
    argv = ["python", "-m", "harness", "--checkov", str(checkov), "--reports", args.reports]
    for assembly in args.assembly:
        argv += ["--assembly", assembly]
    if args.no_tests:
        argv.append("--no-tests")
    if args.today:
        argv += ["--today", args.today]
    # The base is synthesized by the gate with this session's interpreter: the same pinned toolchain.
    # --shard/--shard-name: the gate validates them (exit 2 with one line).
    for option in ("base", "base_assembly", "base_cache", "source_url", "shard", "shard_name", "sign_key"):
        value = getattr(args, option)
        if value:
            argv += [f"--{option.replace('_', '-')}", value]
    report = Path(args.reports) / "compliance.json"
    report.unlink(missing_ok=True)  # a stale report must never stand in for this run's verdict
    env = {"CHECKOV_BIN": str(checkov), "HYPOTHESIS_PROFILE": "ci", **PROJECT_BYTECODE_ENV}
    session.run(*argv, env=env, success_codes=[0, 1, 2])
    code = json.loads(report.read_text(encoding="utf-8"))["exit_code"] if report.is_file() else 2
    session.log(f"compliance verdict: exit {code}; reports in {args.reports}")
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
    reports.unlink(missing_ok=True)  # a refused merge must not leave an earlier verdict in place
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
