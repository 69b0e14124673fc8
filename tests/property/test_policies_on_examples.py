"""Any context the app accepts yields a stack the project's policies pass (issue 11, section 1).

The app's config decides what context it accepts; the policies in policies/checks decide what
the gate passes. Where they disagree (the config accepting a 30-second monitoring interval
that a policy rejects), a developer gets a green ``cdk synth`` and a red gate. This property
runs the policies themselves, in checkov, on synthesized examples: the covering examples of
the template properties (every instance class, engine version, monitoring interval,
Performance Insights and migration on and off, the suffix edges) on every profile, then
random accepted contexts (profiles.py). Each example is judged inline by one warm checkov
process (policy_scan.py), so a failure shrinks to a minimal context like any other.
The last test proves it goes red when the config accepts a value a policy rejects.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, example, given, settings

from infra.config import StagingDatabaseConfig
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


def _replaced(config: StagingDatabaseConfig, **changes: Any) -> StagingDatabaseConfig:
    """A copy of the parsed config with ``changes`` (a frozen dataclass or a frozen pydantic model)."""
    if dataclasses.is_dataclass(config):
        return dataclasses.replace(config, **changes)
    copied: StagingDatabaseConfig = config.model_copy(update=changes)  # type: ignore[attr-defined]
    return copied


def test_policy_property_catches_a_value_the_config_accepts_and_a_policy_rejects(
    synth_outdir: Path, policy_scanner: PolicyScanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planted: the config accepts ``maxConnections`` 300 (issue 11's example), which the app
    writes into the parameter group and CKV_STG_PG_1 rejects (the spec says 200): the policy
    property, run as test_policies_on_examples runs it, must go red naming that policy."""
    parse = StagingDatabaseConfig.from_context.__func__  # type: ignore[attr-defined]

    def accepting(cls: type[StagingDatabaseConfig], context: Any) -> StagingDatabaseConfig:
        return _replaced(parse(cls, context), max_connections=300)

    monkeypatch.setattr(StagingDatabaseConfig, "from_context", classmethod(accepting))

    @settings(max_examples=1, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(overrides=valid_overrides())
    def every_accepted_context_passes_the_policies(overrides: Overrides) -> None:
        failures = policy_failures(overrides, outdir=synth_outdir, scanner=policy_scanner)
        assert not failures, failures

    with pytest.raises(AssertionError, match=r"CKV_STG_PG_1 FAILED on AWS::RDS::DBParameterGroup\."):
        every_accepted_context_passes_the_policies()
