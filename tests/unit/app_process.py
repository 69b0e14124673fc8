"""``python app.py`` as ``cdk synth`` starts it, in a fresh interpreter (tests/unit/test_app_cli.py, test_layering.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.app_builder import PROJECT_ROOT

# app.py run the way `python app.py` runs it, then the top-level modules it loaded, as the
# last stdout line (app.py itself writes nothing to stdout).
LOADED_WHILE_SYNTHESIZING = """
import runpy, sys
sys.argv = ["app.py"]
try:
    runpy.run_path("app.py", run_name="__main__")
except SystemExit as done:
    if done.code:
        raise
print(sorted({name.split(".")[0] for name in sys.modules}))
"""


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


@dataclass(frozen=True)
class AppSynthesis:
    """One cold ``python app.py`` synthesis (context ``environmentSuffix=pr-7``) and what it loaded."""

    result: subprocess.CompletedProcess[str]
    outdir: Path

    @property
    def loaded_modules(self) -> set[str]:
        last = self.result.stdout.strip().splitlines()[-1]
        return set(json.loads(last.replace("'", '"')))


def synthesize_with_app_py(tmp_path: Path) -> AppSynthesis:
    result = run_app(tmp_path, context={"environmentSuffix": "pr-7"}, python_code=LOADED_WHILE_SYNTHESIZING)
    return AppSynthesis(result=result, outdir=tmp_path / "cdk.out")
