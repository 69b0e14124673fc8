"""One JSON snapshot per stack: every template change shows up as a reviewable diff.

Accept an intended change with ``nox -s snapshot -- --snapshot-update`` (docs/testing.md).
"""

from __future__ import annotations

from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from infra.stacks.staging_database import STACK_ID
from tests.snapshot.normalize import normalize_template

# Every stack the app synthesizes, by artifact id. A new stack fails
# test_every_stack_has_a_snapshot until it is listed here (and so gets its own file).
SNAPSHOTTED_STACKS = (STACK_ID,)


def test_every_stack_has_a_snapshot(stack_templates: dict[str, dict[str, Any]]) -> None:
    assert tuple(stack_templates) == SNAPSHOTTED_STACKS


@pytest.mark.parametrize("stack_id", SNAPSHOTTED_STACKS)
def test_stack_template(
    stack_id: str, stack_templates: dict[str, dict[str, Any]], snapshot_cfn: SnapshotAssertion
) -> None:
    assert normalize_template(stack_templates[stack_id]) == snapshot_cfn


@pytest.mark.parametrize("stack_id", SNAPSHOTTED_STACKS)
def test_stack_template_with_migration(
    stack_id: str, migration_stack_templates: dict[str, dict[str, Any]], snapshot_cfn: SnapshotAssertion
) -> None:
    """The same stack with context ``migration`` set to the documented example object."""
    assert normalize_template(migration_stack_templates[stack_id]) == snapshot_cfn
