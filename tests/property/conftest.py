"""Property tier: Hypothesis profiles (see profiles.py) and the shared synthesis directory."""

from __future__ import annotations

import os
import tempfile
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


_STARTED_SCANNER = pytest.StashKey["PolicyScanner | PolicyScanError"]()


def _start_scanner() -> PolicyScanner | PolicyScanError:
    try:
        return PolicyScanner(workdir=Path(tempfile.mkdtemp(prefix="policy-scan-")))
    except PolicyScanError as error:
        return error


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start checkov as soon as a collected test will need it: its imports (~1.5 s) then run
    while the tests before the first judged example do, instead of holding that example up."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return  # every xdist worker collects every test; the one that runs the property starts it lazily
    if any("policy_scanner" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_STARTED_SCANNER] = _start_scanner()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop a scanner started at collection that no test used (the fixture closes one it served)."""
    scanner = session.config.stash.get(_STARTED_SCANNER, None)
    if isinstance(scanner, PolicyScanner):
        scanner.close()


@pytest.fixture(scope="session")
def policy_scanner(request: pytest.FixtureRequest) -> Iterator[PolicyScanner]:
    """One warm checkov process with the project's policies for the whole session (policy_scan.py)."""
    scanner = request.config.stash.get(_STARTED_SCANNER, None) or _start_scanner()
    if isinstance(scanner, PolicyScanError):
        pytest.fail(str(scanner), pytrace=False)  # a policy check that cannot run proves nothing: fail, never skip
    yield scanner
    scanner.close()
