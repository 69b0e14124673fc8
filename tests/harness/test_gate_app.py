"""The gate adds its cdk-nag packs to the App infra builds; the app itself carries none.

So the gate must judge exactly the template ``cdk synth`` deploys: the packs validate and
never change it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError
from harness.tools.nag import PACK_NAMES, add_nag_validations, judge_report, pack_runs
from infra.app_builder import add_staging_stacks, new_app
from tests.conftest import TEMPLATE_NAME


def test_the_gate_judges_the_template_cdk_synth_deploys(tmp_path: Path, default_template: dict[str, Any]) -> None:
    app = new_app(outdir=str(tmp_path))
    add_staging_stacks(app)
    recorders = add_nag_validations(app)
    app.synth()
    assert {r.name: r.run.calls for r in recorders} == dict.fromkeys(PACK_NAMES, 1)  # the packs ran...
    assert (
        json.loads((tmp_path / TEMPLATE_NAME).read_text(encoding="utf-8")) == default_template
    )  # ...and changed nothing
    assert (tmp_path / "validation-report.json").is_file()


def test_the_app_alone_registers_no_packs(default_assembly: Path) -> None:
    """tests/conftest.py synthesizes through infra only, as ``cdk synth`` does: no cdk-nag pack ran
    (CDK's own CloudFormation validation plugin may still write the report)."""
    report = default_assembly / "validation-report.json"
    plugins = (
        {p["pluginName"] for p in json.loads(report.read_text(encoding="utf-8"))["pluginReports"]}
        if report.exists()
        else set()
    )
    assert plugins.isdisjoint(PACK_NAMES), plugins


def test_cdk_nag_not_run_on_an_app_is_refused_though_another_app_ran(tmp_path: Path) -> None:
    """Every root App has the same ``node.addr``: the runs are the recorders' own, never looked up by App,
    so an App whose packs were registered but never invoked fails closed while another App's packs ran."""
    ran, never_synthesized = new_app(outdir=str(tmp_path / "ran")), new_app(outdir=str(tmp_path / "not"))
    assert ran.node.addr == never_synthesized.node.addr  # why a registry keyed by the address cannot work
    add_staging_stacks(ran)
    add_staging_stacks(never_synthesized)
    ran_recorders = add_nag_validations(ran, acknowledgements=[])
    idle_recorders = add_nag_validations(never_synthesized, acknowledgements=[])
    ran.synth()
    report = json.loads((tmp_path / "ran" / "validation-report.json").read_text(encoding="utf-8"))
    assert set(judge_report(report, runs=pack_runs(ran_recorders)).runs) == set(PACK_NAMES)
    with pytest.raises(HarnessError, match=r"cdk-nag pack AwsSolutions did not run: it was not invoked"):
        judge_report({"pluginReports": []}, runs=pack_runs(idle_recorders))
