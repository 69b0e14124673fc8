"""CKV_STG_RDS_16: every DB instance runs with the template's parameter group, of its engine's family.

Python (it was a YAML check that a connection to some DBParameterGroup exists) because what
decides it is which group DBParameterGroupName really names: a Ref, or the group's name
however written (a literal name, Fn::Join/Fn::Sub), against the default or another stack's
group by name; and whether RDS can use it (its Family must be the instance's engine major
version). See ``policies/lib/stg_rds.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_RDS_16",
    "name": "RDS DB instances run with a parameter group defined in the stack, of their engine's family",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": (
        "The spec requires a new parameter group with staging-specific settings. The parameter policies "
        "(CKV_STG_PG_*) only mean something if the instance runs with that group: without DBParameterGroupName, or "
        "with the name of a group the template does not define (default.postgres13, another stack's), it runs "
        "with settings nobody here reviewed (no force_ssl, default connection limits); with a group of another "
        "Family than its engine's major version RDS refuses the group. A DB cluster's member is governed by the "
        "cluster (CKV_STG_RDS_18)."
    ),
    "requirements": ["REQ-PARAM-01"],
    "requires": ["AWS::RDS::DBInstance"],
    "remediation": (
        "Pass parameter_group=rds.ParameterGroup(engine=<the instance's engine>, ...) to rds.DatabaseInstance "
        "(DBParameterGroupName referencing the AWS::RDS::DBParameterGroup of the template, Family postgres13)."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": ["DBParameterGroupName", "Engine", "EngineVersion"],
        "AWS::RDS::DBParameterGroup": ["Family"],
    },
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    group = rds.parameter_group(ctx, logical_id)
    if isinstance(group, lib.Verdict):
        return group
    return lib.passed(f"runs with parameter group {group} ({lib.describe(ctx.value(group, 'Family'))})")


check = lib.make_check(METADATA, rule)
