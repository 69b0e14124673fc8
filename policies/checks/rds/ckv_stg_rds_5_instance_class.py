"""CKV_STG_RDS_5: RDS DB instances use the db.t3.medium instance class.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_5",
    "name": "RDS DB instances use the db.t3.medium instance class",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": "The spec fixes the instance class to db.t3.medium: capacity, cost and the parameter values "
    "(max_connections=200, shared_buffers=256 MiB) were sized for it. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-DB-02"],
    "remediation": 'Set instance_type=ec2.InstanceType("t3.medium") (cdk.json instanceClass "db.t3.medium").',
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.instance_class
    return lib.expect(ctx, logical_id, "DBInstanceClass", wanted=lib.same_text(wanted), expected=wanted)


check = lib.make_check(METADATA, rule)
