"""For every valid context, every synthesized template is compliant.

One synthesis per example checks all properties at once: synthesis is the cost, the checks
are microseconds. Example counts: profiles.py.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import event, example, given, settings

from tests.property.compliance import describe, violations
from tests.property.profiles import synth_examples
from tests.property.strategies import MIGRATION_EXAMPLE, Overrides, valid_overrides
from tests.property.synth import synth_stacks


@settings(max_examples=synth_examples(), deadline=None)
@given(overrides=valid_overrides())
@example(overrides=Overrides({"environmentSuffix": "a"}))  # shortest suffix
@example(overrides=Overrides({"environmentSuffix": "0"}))  # digit-first: names still start with a letter
@example(overrides=Overrides({"environmentSuffix": "a-b-c-d-e-f-g-h9"}))  # longest suffix, inner hyphens
@example(
    overrides=Overrides(
        {"environmentSuffix": "zzzzzzzzzzzzzzz9", "migration": MIGRATION_EXAMPLE, "performanceInsightsEnabled": False}
    )
)  # longest suffix with the migration path on
def test_every_synthesized_template_is_compliant(overrides: Overrides, synth_outdir: Path) -> None:
    event(f"suffix length {len(overrides.values['environmentSuffix'])}")
    event("migration on" if "migration" in overrides.values else "migration off")
    for stack in synth_stacks(overrides.values, synth_outdir):
        found = violations(stack, overrides.values)
        assert not found, f"{stack.stack_name}:\n{describe(found)}"
