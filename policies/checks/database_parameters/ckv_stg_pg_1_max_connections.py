"""CKV_STG_PG_1: the database runs with max_connections = 200.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). Judged on
every parameter group (the value it sets) and on every DB instance (the value of the group it
really runs with: the template's group it names, of its engine's family; see
``policies/lib/stg_rds.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_PG_1",
    "name": "The database runs with max_connections set to 200",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": "The spec sets max_connections=200 for staging (below the db.t3.medium default of about 410), "
    "bounding memory use per connection. The parameter is static: a change needs a reboot. The value is "
    'read from infra/spec.toml; 200 and "200" are the same value, a formula is computed from the instance\'s '
    "memory instead. It applies only if the instance runs with the group: DBParameterGroupName must name the "
    "template's group (no group is the engine default), of the family of the instance's engine version (RDS "
    "refuses another family).",
    "requirements": ["REQ-PARAM-02"],
    "remediation": 'Set parameters={"max_connections": "200"} on rds.ParameterGroup (cdk.json maxConnections) and '
    "pass that group to the instance (parameter_group=...).",
    "resource_types": ["AWS::RDS::DBParameterGroup", "AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBParameterGroup"],
    "judges": {
        "AWS::RDS::DBParameterGroup": ["Parameters.max_connections", "Family"],
        "AWS::RDS::DBInstance": ["DBParameterGroupName", "Engine", "EngineVersion"],
    },
}


def _why_not(value: Any) -> str | None:
    wanted = lib.spec().parameters.max_connections
    if rds.is_formula(value):
        return f"a formula RDS computes from the instance's memory, not the spec's {wanted}"
    found = rds.integer(value)
    return None if found == wanted else f"not {wanted}"


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return rds.judge_parameter(ctx, logical_id, "max_connections", why_not=_why_not)


check = lib.make_check(METADATA, rule)
