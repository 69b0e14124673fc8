"""The compliance gate: ``nox -s compliance`` (synthesize + every check) or ``-- --assembly PATH``.

The gate itself is ``python -m harness`` (harness/cli.py); this session only provides its
environments: the test venv (CDK, cdk-nag, cfn-lint, pytest) and checkov's own venv.
Exit codes pass through: 0 clean, 1 violations, 2 harness failure. Reports: reports/.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nox

from nox_sessions.tools import REPORTS, ROOT, ensure_checkov, install_locked


def _arguments(session: nox.Session) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nox -s compliance --", description="Run the compliance gate.")
    parser.add_argument("--assembly", action="append", default=[], metavar="PATH",
                        help="gate an existing cloud assembly (skips synthesis and the test tiers); repeatable")  # fmt: skip
    parser.add_argument("--reports", default=str(REPORTS), help="report directory (default: reports/)")
    parser.add_argument("--no-tests", action="store_true", help="skip the unit/snapshot/property tiers")
    parser.add_argument("--today", default=None, help="date for waiver expiry checks (YYYY-MM-DD)")
    return parser.parse_args(session.posargs)


@nox.session
def compliance(session: nox.Session) -> None:
    """Compliance gate: synth + cdk-nag, checkov, cfn-lint, project policies, test tiers -> reports/."""
    args = _arguments(session)
    for assembly in args.assembly:
        if not (Path(assembly) / "manifest.json").is_file():
            session.error(f"--assembly {assembly}: not a cloud assembly (no manifest.json); run `nox -s synth` first")
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    argv = ["python", "-m", "harness", "--checkov", str(checkov), "--reports", args.reports]
    for assembly in args.assembly:
        argv += ["--assembly", assembly]
    if args.no_tests:
        argv.append("--no-tests")
    if args.today:
        argv += ["--today", args.today]
    # success_codes: the gate's own exit code is the verdict; nox reports 1 and 2 as failures.
    session.run(*argv, env={"CHECKOV_BIN": str(checkov), "HYPOTHESIS_PROFILE": "ci"}, external=False)
    session.log(f"reports written to {Path(args.reports).resolve().relative_to(ROOT, walk_up=True)}")
