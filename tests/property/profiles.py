"""Hypothesis profiles and example budgets for the property tier.

Profiles (select with ``HYPOTHESIS_PROFILE=<name>``; ``nox -s tests`` sets ``ci``):

- ``default`` (nothing set, not on CI) and ``dev``: random examples, example database on, so a
  developer gets new examples each run and failures replay from ``.hypothesis/``.
- ``ci``: Hypothesis's built-in CI profile, restated: ``derandomize=True`` (the same examples
  on every run and machine: a red build is reproducible, a green one stays green), no example
  database, no deadline, and ``print_blob`` so a failure prints a ``@reproduce_failure`` line.

Example counts (the reasons are the numbers):

- Config-only properties parse context in about 1 ms: they use the profile's ``max_examples``
  (100; ``dev`` 50), a second or less.
- Invalid input runs per category of invalid.py (each category always reached): ``INVALID_EXAMPLES``.
  Straight into ``from_context`` (under 1 ms): 20 per category, 50 on CI. Through a new
  ``App`` (about 8 ms: a jsii round trip with all of cdk.json): 3 per category, 6 on CI.
- Synthesizing properties cost one in-process synth each (about 0.3 s warm, see
  ``benchmarks/property_synth_rate.py``). ``SYNTH_EXAMPLES``: 8 while developing (about 3 s,
  enough to catch a broken name or tag, which breaks for every input) and 40 on CI (about
  12 s, a budget). Before those, on every profile, 7 covering ``@example`` contexts run: each
  allowed instance class, engine version and monitoring interval, Performance Insights and
  migration on and off, suffixes of 1 and 16 characters. Random draws favour small values
  (a derandomized run of 40 drew neither db.t4g class), so coverage of the lists is pinned.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, print_blob=True)
settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)

SYNTH_EXAMPLES = {"default": 8, "dev": 8, "ci": 40}
# (straight into from_context, through an App) per invalid-input category.
INVALID_EXAMPLES = {"default": (20, 3), "dev": (20, 3), "ci": (50, 6)}


def load_requested_profile() -> None:
    """Load ``HYPOTHESIS_PROFILE`` if set; otherwise keep Hypothesis's choice (``ci`` on a CI runner)."""
    requested = os.environ.get("HYPOTHESIS_PROFILE")
    if requested:
        settings.load_profile(requested)


def synth_examples() -> int:
    """How many synthesizing examples the active profile runs."""
    return SYNTH_EXAMPLES.get(settings.get_current_profile_name(), SYNTH_EXAMPLES["default"])


def invalid_examples(*, through_app: bool) -> int:
    """How many examples each invalid-input category runs under the active profile."""
    direct, via_app = INVALID_EXAMPLES.get(settings.get_current_profile_name(), INVALID_EXAMPLES["default"])
    return via_app if through_app else direct
