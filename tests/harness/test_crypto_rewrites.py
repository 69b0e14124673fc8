"""Compliant rewrites of the staging stack pass the gate: the stack's key by Ref, alias or alias ARN, numbers and
booleans as strings, reordered keys and lists, the parameter group by a name built with Fn::Join.

The behaviour policies (issue 16 item 5) follow what a property means, not how it is written; these rewrites
mean the same stack, so the gate must not block them. One gate run judges them all.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import tests.harness.evasions  # noqa: F401  (first: it registers corpus_crypto, which imports it back)
from tests.harness.conftest import GateRun, run_gate, write_assembly
from tests.harness.corpus_crypto import COMPLIANT, Rewrite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rewrite_run(synthesized: Path, clean_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("crypto-rewrites")
    paths = []
    for rewrite in COMPLIANT:
        template = copy.deepcopy(clean_template)
        rewrite.apply(template)
        paths.append(write_assembly(synthesized, base / rewrite.name, template))
    return run_gate([arg for path in paths for arg in ("--assembly", str(path))], reports=base / "reports")


@pytest.mark.parametrize("rewrite", COMPLIANT, ids=lambda r: r.name)
def test_a_compliant_rewrite_passes(rewrite_run: GateRun, rewrite: Rewrite) -> None:
    gating = [
        (f["rule_id"], f["logical_id"], f["message"])
        for f in rewrite_run.report["findings"]
        if f["assembly"] == rewrite.name and f["status"] in ("failed", "not-evaluated")
    ]
    assert rewrite_run.assembly(rewrite.name)["exit_code"] == 0, (rewrite.change, gating)
