"""CKV_STG_PG_1: PostgreSQL parameter groups set max_connections to 200.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_PG_1",
    "name": "PostgreSQL parameter groups set max_connections to 200",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": "The spec sets max_connections=200 for staging (below the db.t3.medium default of about 410), "
    "bounding memory use per connection. The parameter is static: a change needs a reboot. The value is "
    "read from infra/spec.toml.",
    "requirements": ["REQ-PARAM-02"],
    "remediation": 'Set parameters={"max_connections": "200"} on rds.ParameterGroup (cdk.json maxConnections).',
    "resource_types": ["AWS::RDS::DBParameterGroup"],
    "requires": ["AWS::RDS::DBParameterGroup"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().parameters.max_connections
    return lib.expect(
        ctx, logical_id, "Parameters.max_connections", wanted=lib.same_text(wanted), expected=f'"{wanted}"'
    )


check = lib.make_check(METADATA, rule)
