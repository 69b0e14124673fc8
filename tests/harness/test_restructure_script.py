"""scripts/restructure_harness.py rewrites every form of reference to a moved module, and only once.

The script is replayed by the lead on a later main (issue 20), so its rewriting is checked here on
text, not on the tree: each form below comes out pointing at the new module, and a second pass
changes nothing (the script is idempotent).
"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.harness.conftest import ROOT


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("restructure_harness", ROOT / "scripts" / "restructure_harness.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


def _rewrite(text: str) -> str:
    return str(SCRIPT.REFERENCE.sub(SCRIPT.rewrite_reference, text))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (
            "from harness import (\n    base,  # the base\n    rules,\n    gate,\n)\n",
            "from harness.comparison import base\nfrom harness.reading import rules\nfrom harness import gate\n",
        ),
        ("    from harness import oscal  # noqa: PLC0415\n", "    from harness.audit import oscal  # noqa: PLC0415\n"),
        ("from harness import sources as recorder\n", "from harness.reading import sources as recorder\n"),
        ("from harness.judge import judge_all\n", "from harness.verdict.judge import judge_all\n"),
        (
            "import harness.reports as r\nr = harness.reports.x\n",
            "import harness.reporting.reports as r\nr = harness.reporting.reports.x\n",
        ),
        ('setattr("harness.judge.WORLD", 1)\n', 'setattr("harness.verdict.judge.WORLD", 1)\n'),
        ('setattr("harness.gate.run_checkov", f)\n', 'setattr("harness.gate.run_checkov", f)\n'),
        ("python -m harness.code_hashes hash x\n", "python -m harness.verdict.code_hashes hash x\n"),
        ("from harness.oscal.run import Assessment\n", "from harness.audit.oscal.run import Assessment\n"),
        (
            "see harness/sarif.py, tests/harness/sarif_schema.py\n",
            "see harness/reporting/sarif.py, tests/harness/sarif_schema.py\n",
        ),
        ("harness/checkov.yaml\n", "harness/tools/checkov.yaml\n"),
        ('ROOT / "harness" / "sources.py"\n', 'ROOT / "harness" / "reading" / "sources.py"\n'),
        ("from harness.catalog import load_policies\n", "from harness.catalog import load_policies\n"),
    ],
)
def test_each_form_of_reference_is_rewritten_once(before: str, after: str) -> None:
    assert _rewrite(before) == after
    assert _rewrite(after) == after


def test_every_package_of_the_mapping_is_a_layer_of_the_contract() -> None:
    layers = {name.strip() for layer, _ in SCRIPT.LAYERS for name in layer.replace("|", ":").split(":")}
    stages = {new if new.count(".") == 1 else ".".join(new.split(".")[:2]) for new in SCRIPT.MAPPING.values()}
    assert stages <= layers
