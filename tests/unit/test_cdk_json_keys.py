"""Issue 19: the CDK CLI warned on every run about reserved keys in cdk.json ("A reserved context key
('context.aws:') ... should be removed"). The `aws:` keys the app needs without the CLI (path and asset
metadata, which the CLI passes by default) come from infra/app_builder.py, not cdk.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.app_builder import CDK_JSON, CLI_DEFAULT_CONTEXT, PROJECT_ROOT, app_context, cdk_json_context, new_app

CLI_RESERVED_PREFIX = "aws:"  # the CLI warns about any context key of cdk.json that starts with it


def test_cdk_json_has_no_key_the_cli_reserves() -> None:
    context = json.loads(CDK_JSON.read_text(encoding="utf-8"))["context"]
    assert [k for k in context if k.startswith(CLI_RESERVED_PREFIX)] == []
    assert set(cdk_json_context()) == set(context)


def test_a_bare_app_still_gets_the_metadata_the_cli_would_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_CONTEXT_JSON", raising=False)
    context = app_context(new_app(builtin_validation=False, tree_metadata=False))
    assert {k: context.get(k) for k in CLI_DEFAULT_CONTEXT} == {
        "aws:cdk:enable-path-metadata": True,
        "aws:cdk:enable-asset-metadata": True,
    }


def test_the_cli_still_decides_when_it_runs_the_app() -> None:
    # `cdk synth --no-path-metadata` passes false through CDK_CONTEXT_JSON, which the jsii kernel reads
    # when it starts: a process of its own, so the value reaches Node.js. It wins over the default.
    script = (
        "from infra.app_builder import app_context, new_app; import json; "
        "print(json.dumps(app_context(new_app(builtin_validation=False, tree_metadata=False))))"
    )
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps({"aws:cdk:enable-path-metadata": False})}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    context = json.loads(done.stdout.strip().splitlines()[-1])
    assert context["aws:cdk:enable-path-metadata"] is False
    assert context["aws:cdk:enable-asset-metadata"] is True
