"""Property tier: Hypothesis profiles (see profiles.py) and the shared synthesis directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.property.profiles import load_requested_profile

load_requested_profile()


@pytest.fixture(scope="session")
def synth_outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cloud-assembly directory reused by every synthesizing example (session-scoped:
    Hypothesis runs many examples per test call, and function-scoped fixtures would be shared anyway)."""
    return tmp_path_factory.mktemp("property-cdk.out")
