from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template


@pytest.fixture(scope="session")
def template(default_template: dict[str, Any]) -> Template:
    """CDK assertions over the default synthesized template (synthesized once per session)."""
    return Template.from_json(default_template)


def resources_of_type(template_json: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template_json["Resources"].items() if r["Type"] == resource_type}
