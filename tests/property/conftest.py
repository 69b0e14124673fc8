"""Property tier: Hypothesis profiles (see profiles.py) and the shared synthesis directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st

from tests.property.policy_scan import PolicyScanError, PolicyScanner
from tests.property.profiles import load_requested_profile

load_requested_profile()


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cloud-assembly directory reused by every synthesizing example (session-scoped:
    Hypothesis runs many examples per test call, and function-scoped fixtures would be shared anyway)."""
    return tmp_path_factory.mktemp("property-cdk.out")


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_first_use_costs() -> None:
    """On a fresh checkout Hypothesis's first text draw builds its Unicode table (about 1.6 s)
    and its first draw of all reads the constants of every local module; both are cached in
    .hypothesis/ afterwards. Pay them once here, after collection imported every module, so
    the too_slow health check does not fail whichever test happens to draw first."""
    warm_up = st.tuples(st.integers(), st.text(min_size=1), st.from_regex(r"rtb-[0-9a-f]{8}", fullmatch=True))
    warm = settings(database=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate])  # no shrinking
    find(warm_up, lambda _: True, settings=warm)


@pytest.fixture(scope="session")
def policy_scanner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyScanner]:
    """One warm checkov process with the project's policies for the whole session (policy_scan.py)."""
    try:
        scanner = PolicyScanner(workdir=tmp_path_factory.mktemp("policy-scan"))
    except PolicyScanError as error:
        pytest.fail(str(error), pytrace=False)  # a policy check that cannot run proves nothing: fail, never skip
    yield scanner
    scanner.close()
