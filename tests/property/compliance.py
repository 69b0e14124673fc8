"""The compliance properties, applied to one synthesized stack and the context that produced it."""

from __future__ import annotations

import json
from typing import Any

from tests.property.strategies import DEFAULTS
from tests.property.synth import Synthesized
from tests.property.template_checks import (
    database_exposure_violations,
    encryption_violations,
    naming_violations,
    retain_violations,
    tagging_violations,
)

# From the spec, not from config: the properties must not trust the code under test.
ENVIRONMENT = "staging"
REQUIRED_TAGS = {"Environment": "staging", "CostCenter": "engineering"}


def _input(overrides: dict[str, Any], key: str) -> Any:
    value = overrides.get(key, DEFAULTS[key])
    return json.loads(value) if isinstance(value, str) and value.startswith(("[", "{")) else value


def violations(stack: Synthesized, overrides: dict[str, Any]) -> dict[str, list[str]]:
    """Property name -> what breaks it (empty lists dropped). Inputs are read from the context
    the test generated, never from the parsed config."""
    template = stack.template
    found = {
        "names follow <type>-staging-<suffix> and fit AWS limits": naming_violations(
            template,
            environment=ENVIRONMENT,
            suffix=_input(overrides, "environmentSuffix"),
            stack_name=stack.stack_name,
        ),
        "taggable resources carry the required tags": tagging_violations(template, required=REQUIRED_TAGS),
        "data stores are encrypted with the stack key": encryption_violations(template),
        "no Retain policies": retain_violations(template),
        "the DB is private and reachable only from the app subnets": database_exposure_violations(
            template, app_subnet_cidrs=_input(overrides, "appSubnetCidrs"), port=int(_input(overrides, "databasePort"))
        ),
    }
    return {name: problems for name, problems in found.items() if problems}


def describe(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{name}:\n  " + "\n  ".join(problems) for name, problems in found.items())
