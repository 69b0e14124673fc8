"""Snapshot tier: every stack of the app, synthesized from cdk.json alone, normalized, as JSON.

The templates are synthesized once per session (in-process, one jsii runtime) and compared
by syrupy's ``JSONSnapshotExtension``: one ``.json`` file per stack under ``__snapshots__/``.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from infra.config import MIGRATION_EXAMPLE
from tests.snapshot.normalize import SNAPSHOT_MATCHER
from tests.snapshot.synth import synth_stack_templates

# The migration feature switched on with the documented example (dev VPC peering etc.).
MIGRATION_CONTEXT: dict[str, Any] = {"migration": MIGRATION_EXAMPLE}

# Environment variables through which the CDK CLI injects context into an App. The jsii
# runtime copies the environment when it starts, so they cannot be scrubbed here; a set
# one would silently change what is snapshotted, so the tier refuses to run instead.
_CLI_CONTEXT_VARIABLES = ("CDK_CONTEXT_JSON", "CDK_CONTEXT_OVERFLOW_LOCATION")


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
