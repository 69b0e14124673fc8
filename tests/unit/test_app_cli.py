"""app.py as the CDK CLI runs it: one log line per stack, one-line errors, exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.unit.app_process import AppSynthesis, run_app


def test_app_logs_one_line_per_stack_and_writes_the_template(app_py_synthesis: AppSynthesis) -> None:
    result = app_py_synthesis.result
    assert result.returncode == 0, result.stderr
    assert "app: stack stack-database-staging-pr-7 suffix=pr-7 region=us-east-1" in result.stderr
    assert (app_py_synthesis.outdir / "StagingDatabase.template.json").is_file()
    assert "end-of-life" not in result.stderr  # jsii runs on the project's Node 24, not an EOL system Node


def test_bad_context_exits_1_with_one_line_and_no_stack_trace(tmp_path: Path) -> None:
    result = run_app(tmp_path, context={"environmentSuffix": "PR_7"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "config error: context key 'environmentSuffix' has invalid value 'PR_7': must be 1-16 characters of a-z, 0-9 "
        "and single inner hyphens, so every derived resource name fits its AWS limit (valid example: pr-42)"
    ]
    assert not (tmp_path / "cdk.out" / "StagingDatabase.template.json").exists()
