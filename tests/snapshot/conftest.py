"""Snapshot tier: every stack of the app, synthesized from cdk.json alone, normalized, as JSON.

The templates are synthesized once per session (in-process, one jsii runtime) and compared
by syrupy's ``JSONSnapshotExtension``: one ``.json`` file per stack under ``__snapshots__/``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from infra.app_builder import synthesize
from infra.config import _MIGRATION_EXAMPLE
from tests.snapshot.normalize import SNAPSHOT_MATCHER, normalize_template

# The migration feature switched on with the documented example (dev VPC peering etc.).
MIGRATION_CONTEXT: dict[str, Any] = {"migration": json.loads(_MIGRATION_EXAMPLE)}

# Environment variables through which the CDK CLI injects context into an App. The jsii
# runtime copies the environment when it starts, so they cannot be scrubbed here; a set
# one would silently change what is snapshotted, so the tier refuses to run instead.
_CLI_CONTEXT_VARIABLES = ("CDK_CONTEXT_JSON", "CDK_CONTEXT_OVERFLOW_LOCATION")


def synth_stack_templates(context: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Synthesize the app; return every CloudFormation stack's template by artifact id."""
    with tempfile.TemporaryDirectory(prefix="cdk-snapshot-") as outdir:
        assembly = synthesize(outdir=outdir, context=context)
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
        return {
            artifact_id: json.loads((assembly / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
            for artifact_id, artifact in sorted(manifest["artifacts"].items())
            if artifact["type"] == "aws:cloudformation:stack"
        }


@pytest.fixture(scope="session", autouse=True)
def _no_cli_context() -> None:
    leaked = [name for name in _CLI_CONTEXT_VARIABLES if os.environ.get(name)]
    if leaked:
        pytest.fail(f"unset {', '.join(leaked)}: snapshots are synthesized from cdk.json alone", pytrace=False)


@pytest.fixture(scope="session")
def stack_templates() -> dict[str, dict[str, Any]]:
    return synth_stack_templates()


@pytest.fixture(scope="session")
def migration_stack_templates() -> dict[str, dict[str, Any]]:
    return synth_stack_templates(MIGRATION_CONTEXT)


@pytest.fixture
def snapshot_cfn(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """syrupy's snapshot, as one JSON file per test, with the masks of ``normalize.py``."""
    return snapshot.with_defaults(extension_class=JSONSnapshotExtension, matcher=SNAPSHOT_MATCHER)


def snapshot_file(test_file: Path, test_name: str) -> Path:
    """Where ``JSONSnapshotExtension`` keeps the snapshot of ``test_name`` in ``test_file``."""
    return test_file.parent / "__snapshots__" / test_file.stem / f"{test_name}.json"
