"""Shared fixtures: synthesize the real app (cdk.json context + overrides) into a temp dir.

Every tier builds its App through ``infra.app_builder``, so tests see exactly the context
and feature flags that ``cdk synth`` and ``nox -s synth`` see. One jsii runtime (one
Node.js process) serves the whole pytest session.

Tests synthesize without CDK's built-in CloudFormation validation plugin
(``builtin_validation=False``): it never changes a template, the compliance gate runs it on
its own synthesis, and its WASM engine costs about 2.5 s of CPU in the first synthesis of
every process that uses it. One synthesis with it anywhere in a test process pays that, so
every test synthesis passes the flag.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from infra.app_builder import synthesize
from infra.stacks.staging_database import STACK_ID

TEMPLATE_NAME = f"{STACK_ID}.template.json"


def synth_template(context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Synthesize with context overrides and return the stack template as a dict."""
    with tempfile.TemporaryDirectory(prefix="cdk-test-") as outdir:
        assembly = synthesize(outdir=outdir, context=context, builtin_validation=False)
        template: dict[str, Any] = json.loads((assembly / TEMPLATE_NAME).read_text(encoding="utf-8"))
        return template


@pytest.fixture(scope="session")
def default_assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The app synthesized once per session with cdk.json defaults."""
    return synthesize(outdir=str(tmp_path_factory.mktemp("cdk.out")), builtin_validation=False)


@pytest.fixture(scope="session")
def default_template(default_assembly: Path) -> dict[str, Any]:
    template: dict[str, Any] = json.loads((default_assembly / TEMPLATE_NAME).read_text(encoding="utf-8"))
    return template
