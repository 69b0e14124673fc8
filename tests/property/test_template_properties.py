"""For every valid context, every synthesized template is compliant.

One synthesis per example checks all properties at once: synthesis is the cost, the checks
are microseconds. Example counts: profiles.py.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import event, example, given, settings

from infra.config import (
    ALLOWED_INSTANCE_CLASSES,
    CREATABLE_POSTGRES_VERSIONS,
    MIGRATION_EXAMPLE,
    MONITORING_INTERVALS_SECONDS,
)
from tests.property.compliance import describe, violations
from tests.property.profiles import synth_examples
from tests.property.strategies import Overrides, valid_overrides
from tests.property.synth import synth_stacks

_EDGE_SUFFIXES = (
    "a",
    "a-b-c-d-e-f-g-h9",
    "0",
    "zzzzzzzzzzzzzzz9",
    "9-z",
    "pr-42",
    "x",
)  # lengths 1 and 16, digit first

# A covering set, run on every profile before the random examples: each allowed instance
# class, engine version and monitoring interval once, Performance Insights and migration on
# and off, and the suffix edges. Random drawing favours small values and may skip some.
COVERING_EXAMPLES = [
    Overrides(
        {
            "environmentSuffix": _EDGE_SUFFIXES[i],
            "instanceClass": ALLOWED_INSTANCE_CLASSES[i % len(ALLOWED_INSTANCE_CLASSES)],
            "postgresVersion": CREATABLE_POSTGRES_VERSIONS[i % len(CREATABLE_POSTGRES_VERSIONS)],
            "monitoringIntervalSeconds": MONITORING_INTERVALS_SECONDS[i % len(MONITORING_INTERVALS_SECONDS)],
            "performanceInsightsEnabled": i % 2 == 0,
            **({"migration": MIGRATION_EXAMPLE} if i % 2 else {}),
        }
    )
    for i in range(len(_EDGE_SUFFIXES))  # the spec fixes the instance class: vary the rest
]


@settings(max_examples=synth_examples(), deadline=None)
@given(overrides=valid_overrides())
def test_every_synthesized_template_is_compliant(overrides: Overrides, synth_outdir: Path) -> None:
    event(f"suffix length {len(overrides.values['environmentSuffix'])}")
    event("migration on" if "migration" in overrides.values else "migration off")
    for stack in synth_stacks(overrides.values, synth_outdir):
        found = violations(stack, overrides.values)
        assert not found, f"{stack.stack_name}:\n{describe(found)}"


for _covering in COVERING_EXAMPLES:
    test_every_synthesized_template_is_compliant = example(overrides=_covering)(
        test_every_synthesized_template_is_compliant
    )


def test_covering_examples_cover_every_option() -> None:
    values = [o.values for o in COVERING_EXAMPLES]
    assert {v["instanceClass"] for v in values} == set(ALLOWED_INSTANCE_CLASSES)
    assert {v["postgresVersion"] for v in values} == set(CREATABLE_POSTGRES_VERSIONS)
    assert {v["monitoringIntervalSeconds"] for v in values} == set(MONITORING_INTERVALS_SECONDS)
    assert {v["performanceInsightsEnabled"] for v in values} == {True, False}
    assert {"migration" in v for v in values} == {True, False}
    assert {len(v["environmentSuffix"]) for v in values} >= {1, 16}
