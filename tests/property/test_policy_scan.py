"""The policy scanner fails closed: a checkov that is missing or cannot run is never a pass."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.property.policy_scan import PolicyScanError, PolicyScanner

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_checkov_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(PolicyScanError, match=r"nope is not a Python console script"):
        PolicyScanner(workdir=tmp_path / "scan", checkov=tmp_path / "nope")


def test_a_checkov_that_cannot_import_fails_the_scan_with_its_reason(tmp_path: Path) -> None:
    """A console script whose interpreter has no checkov: the worker dies at import."""
    fake = tmp_path / "checkov"
    fake.write_text(f"#!{sys.executable}\nprint('not checkov')\n", encoding="utf-8")
    fake.chmod(0o755)
    scanner = PolicyScanner(workdir=tmp_path / "scan", checkov=fake)
    template = json.loads((ROOT / "policies" / "fixtures" / "CKV_STG_RDS_1" / "pass.json").read_text(encoding="utf-8"))
    with pytest.raises(PolicyScanError, match=r"checkov worker exited while starting: .*No module named 'checkov'"):
        scanner.scan(template)
    scanner.close()
