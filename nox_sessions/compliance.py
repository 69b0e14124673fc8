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

from nox_sessions.tools import PROJECT_BYTECODE_ENV, REPORTS, REQUIREMENTS, ensure_checkov, install_locked


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
    return parser.parse_args(session.posargs)


@nox.session
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
    argv = ["python", "-m", "harness", "--checkov", str(checkov), "--reports", args.reports]
    for assembly in args.assembly:
        argv += ["--assembly", assembly]
    if args.no_tests:
        argv.append("--no-tests")
    if args.today:
        argv += ["--today", args.today]
    # The base is synthesized by the gate with this session's interpreter: the same pinned toolchain.
    for option in ("base", "base_assembly", "base_cache", "source_url"):
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
