"""CKV_STG_RDS_1: RDS DB instances have deletion protection enabled, and lose nothing once it is lifted.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). Python
because the behaviour spans a property and the resource's own attributes: DeletionPolicy and
UpdateReplacePolicy decide what a deletion or replacement keeps once protection is turned off
(the documented teardown), and CloudFormation ignores a read replica's deletion policy.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_RDS_1",
    "name": "RDS DB instances have deletion protection enabled and keep a final snapshot when removed",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "HIGH",
    "rationale": "The staging payments database must not be removable by a stack delete, a replacement or a mistaken "
    "API call. CloudFormation's default for DeletionProtection is false, so the property must be "
    "stated. No built-in checkov CloudFormation check covers it. The value is read from "
    "infra/spec.toml. Protection is lifted deliberately before a planned teardown, and then DeletionPolicy "
    "decides what a stack delete keeps: Snapshot (the default for an instance outside a cluster) keeps a final "
    "encrypted snapshot, Delete keeps nothing; UpdateReplacePolicy (default Delete) decides the same for a "
    "replacement. CloudFormation ignores the deletion policy of a read replica.",
    "requirements": ["REQ-DB-04"],
    "remediation": "Set deletion_protection=True and removal_policy=RemovalPolicy.SNAPSHOT on rds.DatabaseInstance "
    "(DeletionProtection: true, DeletionPolicy and UpdateReplacePolicy Snapshot). Turn protection off "
    "deliberately, in its own change, before a planned teardown.",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {
        "AWS::RDS::DBInstance": [
            "DeletionProtection",
            "DeletionPolicy",
            "UpdateReplacePolicy",
            "SourceDBInstanceIdentifier",
            "SourceDBClusterIdentifier",
        ],
    },
}

# What each attribute keeps when CloudFormation removes the instance, absent meaning CloudFormation's default.
KEEPS = {"Snapshot": True, "Retain": True, "Delete": False}
DEFAULTS = {"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Delete"}


def _removal(ctx: lib.Context, logical_id: str, attribute: str) -> lib.Verdict:
    value = ctx.attribute(logical_id, attribute)
    policy = DEFAULTS[attribute] if value is cfn.NO_VALUE else value
    if not isinstance(policy, str):
        return lib.unknown_in(policy, attribute) or lib.not_evaluated(f"{attribute} is {lib.describe(policy)}")
    if KEEPS.get(policy) is False:
        what = "a stack delete" if attribute == "DeletionPolicy" else "a replacement"
        shown = f"{policy} (the default)" if value is cfn.NO_VALUE else policy
        return lib.failed(
            f"{attribute} is {shown}: once deletion protection is lifted, {what} removes the database with no "
            "final snapshot"
        )
    return lib.passed()


def _replica(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    found = rds.origin(ctx, logical_id)
    if isinstance(found, rds.Origin) and found.replica:
        return lib.failed(
            f"{found.prop} is {lib.describe(found.value)}: CloudFormation ignores a read replica's deletion policy, "
            "so removing it keeps no snapshot"
        )
    return found if isinstance(found, lib.Verdict) else lib.passed()


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.deletion_protection
    protection = lib.expect(
        ctx, logical_id, "DeletionProtection", wanted=lib.same_text(wanted), expected=f"{wanted}".lower()
    )
    return lib.worst(
        [
            protection,
            _removal(ctx, logical_id, "DeletionPolicy"),
            _removal(ctx, logical_id, "UpdateReplacePolicy"),
            _replica(ctx, logical_id),
        ]
    )


check = lib.make_check(METADATA, rule)
