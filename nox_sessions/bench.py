"""Benchmarks: each benchmarks/*.py prints its own figures. Never timed assertions in tests."""

from __future__ import annotations

import nox

from nox_sessions.tools import PROJECT_BYTECODE_ENV, ROOT, ensure_checkov, install_locked, install_only, jsii_node_env


@nox.session(default=False, venv_backend="none")  # install_locked activates the shared venv
def bench(session: nox.Session) -> None:
    """Run every benchmark in benchmarks/ (or the ones named in args) and print their figures.

    Issue 12's figures: gate_vs_tools (full gate / bare scan, gate without tiers / bare scan),
    many_stacks (cost per stack at N = 1, 4, 16 against checkov + cfn-lint alone),
    property_synth_rate (property examples per second) and merge_shards (the CI matrix's merge
    for 2 and 8 shards). ``_*.py`` are helpers, not benchmarks.
    """
    install_locked(session, "test")
    checkov = ensure_checkov(session)
    if install_only():
        return
    scripts = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
    wanted = set(session.posargs)
    unknown = wanted - {p.stem for p in scripts}
    if unknown:
        session.error(f"no benchmark {', '.join(sorted(unknown))}; choose from {', '.join(p.stem for p in scripts)}")
    env = {"CHECKOV_BIN": str(checkov), "PYTHONPATH": str(ROOT), **PROJECT_BYTECODE_ENV, **jsii_node_env(session)}
    for script in scripts:
        if wanted and script.stem not in wanted:
            continue
        session.log(f"benchmark {script.stem}")
        session.run("python", str(script), env=env)
