from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template

from tests.unit.app_process import AppSynthesis, synthesize_with_app_py


@pytest.fixture(scope="session")
def template(default_template: dict[str, Any]) -> Template:
    """CDK assertions over the default synthesized template (synthesized once per session)."""
    return Template.from_json(default_template)


@pytest.fixture(scope="session")
def app_py_synthesis(tmp_path_factory: pytest.TempPathFactory) -> AppSynthesis:
    """One cold ``python app.py`` synthesis for every test that needs one (about 2 s of CPU each):
    test_app_cli reads its log and template, test_layering the modules it loaded. The gate runs
    both files in one pytest process (harness.tools.run_pytest.FILE_GROUPS)."""
    return synthesize_with_app_py(tmp_path_factory.mktemp("app-py"))


def resources_of_type(template_json: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template_json["Resources"].items() if r["Type"] == resource_type}
