"""Property-test throughput: synthesized examples per second after warm-up, in one process.

Runs the same loop as tests/property/test_template_properties.py (Hypothesis draws a valid
context, the app is synthesized in-process on the shared jsii runtime, every property is
checked) and prints examples/second, plus where the time of one example goes:
building the construct tree, ``app.synth()`` (aspects, then writing the assembly), and the
property checks. The app carries no cdk-nag packs, as in the property tier; ``BENCH_NAG=1``
adds them (as the compliance gate does) to show their cost. ``BENCH_EXAMPLES`` sets the number of measured examples (default 30).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import Phase, given, settings  # noqa: E402

from tests.property.compliance import violations  # noqa: E402
from tests.property.strategies import Overrides, valid_overrides  # noqa: E402
from tests.property.synth import build_app, read_templates, synth_stacks  # noqa: E402

EXAMPLES = int(os.environ.get("BENCH_EXAMPLES", "30"))
WITH_NAG = os.environ.get("BENCH_NAG") == "1"
WARM_UP = 3


def phases_of_one_synth(outdir: Path, overrides: dict[str, object]) -> tuple[float, float, float]:
    """(construct tree, app.synth(), checks) seconds for one example, as synth_stacks does it."""
    started = time.perf_counter()
    app, stacks = build_app(overrides, outdir)
    if WITH_NAG:
        from harness.tools.nag import add_nag_validations  # noqa: PLC0415  (the gate's plugins, only when asked)

        add_nag_validations(app)
    built = time.perf_counter()
    app.synth()
    synthesized = time.perf_counter()
    for stack in read_templates(stacks, outdir):
        assert not violations(stack, overrides)
    checked = time.perf_counter()
    return built - started, synthesized - built, checked - synthesized


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-property-") as tmp:
        outdir = Path(tmp)
        started = time.perf_counter()
        for i in range(WARM_UP):  # jsii start, module imports, first-use caches
            synth_stacks({"environmentSuffix": f"warm{i}"}, outdir)
        print(f"warm-up: {WARM_UP} synths in {time.perf_counter() - started:.2f} s (includes jsii/Node start)")

        durations: list[float] = []
        phases: list[tuple[float, float, float]] = []

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
        @given(overrides=valid_overrides())
        def example(overrides: Overrides) -> None:
            began = time.perf_counter()
            phases.append(phases_of_one_synth(outdir, overrides.values))
            durations.append(time.perf_counter() - began)

        started = time.perf_counter()
        example()
        wall = time.perf_counter() - started

    build = statistics.median(p[0] for p in phases)
    synth = statistics.median(p[1] for p in phases)
    check = statistics.median(p[2] for p in phases)
    print(f"examples: {len(durations)} (derandomized valid contexts, migration on in some)")
    print(f"examples/second (Hypothesis loop, after warm-up): {len(durations) / wall:.2f}")
    print(f"examples/second (synth + checks only):            {len(durations) / sum(durations):.2f}")
    print(
        f"median per example: construct tree {build * 1000:.0f} ms, app.synth() {synth * 1000:.0f} ms, checks {check * 1000:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
