"""Any context the app accepts yields a stack the project's policies pass (issue 11, section 1).

The app's config decides what context it accepts; the policies in policies/checks decide what
the gate passes. Where they disagree (the config accepting a 30-second monitoring interval
that a policy rejects), a developer gets a green ``cdk synth`` and a red gate. This property
runs the policies themselves, in checkov, on synthesized examples: the covering examples of
the template properties (every instance class, engine version, monitoring interval,
Performance Insights and migration on and off, the suffix edges) on every profile, then
random accepted contexts (profiles.py). Each example is judged inline by one warm checkov
process (policy_scan.py), so a failure shrinks to a minimal context like any other.
test_properties_catch_bugs.py proves it goes red when the config accepts a value a policy
rejects.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings

from tests.property.policy_scan import PolicyScanner, policy_failures
from tests.property.profiles import policy_examples
from tests.property.strategies import Overrides, valid_overrides
from tests.property.test_template_properties import COVERING_EXAMPLES


@settings(max_examples=policy_examples(), deadline=None)
@given(overrides=valid_overrides())
def test_every_accepted_context_passes_the_project_policies(
    overrides: Overrides, synth_outdir: Path, policy_scanner: PolicyScanner
) -> None:
    failures = policy_failures(overrides, outdir=synth_outdir, scanner=policy_scanner)
    assert not failures, f"the app accepts this context but the gate's policies fail its stack:\n{failures}"


for _covering in COVERING_EXAMPLES:
    test_every_accepted_context_passes_the_project_policies = example(overrides=_covering)(
        test_every_accepted_context_passes_the_project_policies
    )
