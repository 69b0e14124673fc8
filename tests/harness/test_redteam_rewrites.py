"""Compliant rewrites a red-team pass found over-blocked: the gate must pass them (tests/harness/corpus_redteam.py
holds the disguises it must fail).

- Multi-AZ, encryption and public access looked up in a mapping keyed by ``AWS::Region``: the stack's
  Region is pinned, so the gate's resolver determines the value, but cdk-nag failed the Fn::FindInMap it
  cannot look up (harness/verdict/settle.py now settles a cdk-nag failure on an intrinsic as it does checkov's).
- A secret dynamic reference fed into a write-only property (the master password) stays legitimate.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.verdict.mutations import _db
from tests.harness.conftest import GateRun, run_gate, write_assembly

pytestmark = pytest.mark.slow
Template = dict[str, Any]


def _settings_by_region(t: Template) -> None:
    t["Mappings"] = {"ByRegion": {region: {"MultiAZ": region == "us-east-1", "Encrypted": region == "us-east-1",
                                           "Public": region != "us-east-1"}
                                  for region in ("us-east-1", "us-west-2", "eu-west-1")}}  # fmt: skip
    database = _db(t)
    for prop, key in (("MultiAZ", "MultiAZ"), ("StorageEncrypted", "Encrypted"), ("PubliclyAccessible", "Public")):
        database[prop] = {"Fn::FindInMap": ["ByRegion", {"Ref": "AWS::Region"}, key]}


REWRITES: dict[str, Callable[[Template], None]] = {"settings-looked-up-by-region": _settings_by_region}


@pytest.fixture(scope="module")
def rewrite_run(synthesized: Path, clean_template: Template, tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("redteam-rewrites")
    paths = []
    for name, apply in REWRITES.items():
        template = copy.deepcopy(clean_template)
        apply(template)
        paths.append(write_assembly(synthesized, base / name, template))
    return run_gate([arg for path in paths for arg in ("--assembly", str(path))], reports=base / "reports")


@pytest.mark.parametrize("name", REWRITES)
def test_a_compliant_rewrite_passes(rewrite_run: GateRun, name: str) -> None:
    gating = [
        (f["rule_id"], f["logical_id"], f["message"])
        for f in rewrite_run.report["findings"]
        if f["assembly"] == name and f["status"] in ("failed", "not-evaluated")
    ]
    assert rewrite_run.assembly(name)["exit_code"] == 0, gating
