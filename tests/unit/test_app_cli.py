"""app.py as the CDK CLI runs it: one log line per stack, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.app_builder import PROJECT_ROOT


def run_app(
    tmp_path: Path, *, context: dict[str, object] | None = None, python_code: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python app.py`` as ``cdk synth`` starts it (or ``python -c python_code`` in the same setting).

    CDK_VALIDATION=false: CDK's own switch for its built-in CloudFormation validation plugin
    (about 2.5 s of CPU in a cold process); these tests are about app.py, not that plugin,
    which the compliance gate runs on its own synthesis.
    """
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path / "cdk.out"), "CDK_VALIDATION": "false"}
    env.pop("PYTEST_CURRENT_TEST", None)
    env.pop("CDK_CONTEXT_JSON", None)
    if context is not None:
        env["CDK_CONTEXT_JSON"] = json.dumps(context)  # how `cdk synth -c` hands context over
    return subprocess.run(
        [sys.executable, *(["-c", python_code] if python_code else [str(PROJECT_ROOT / "app.py")])],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_app_logs_one_line_per_stack_and_writes_the_template(tmp_path: Path) -> None:
    result = run_app(tmp_path, context={"environmentSuffix": "pr-7"})
    assert result.returncode == 0, result.stderr
    assert "app: stack stack-database-staging-pr-7 suffix=pr-7 region=us-east-1" in result.stderr
    assert (tmp_path / "cdk.out" / "StagingDatabase.template.json").is_file()
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
