"""CKV_STG_RDS_18: the database is an RDS for PostgreSQL DB instance, not a cluster or another engine.

Python because the violation is a resource *type* (a DB cluster, a global cluster, a shard
group) as much as a property: every instance policy (CKV_STG_RDS_*) reads AWS::RDS::DBInstance,
so a database deployed as a cluster would meet none of them. This policy gives each such
resource a verdict, so the coverage contract sees it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_18",
    "name": "The database is an RDS for PostgreSQL DB instance, not a DB cluster or another engine",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": (
        "The spec asks for an RDS PostgreSQL DB instance (db.t3.medium, Multi-AZ, its own parameter group). A DB "
        "cluster (Aurora or Multi-AZ DB cluster), a global cluster or a shard group is a different service with "
        "its own settings, which the instance policies never read: adding one would put a database beside the "
        "reviewed one, unjudged. An instance must run the postgres engine on its own storage."
    ),
    "requirements": ["REQ-DB-01", "REQ-TECH-02", "REQ-CON-01"],
    "remediation": "Use rds.DatabaseInstance with DatabaseInstanceEngine.postgres (infra/domains/database.py).",
    "resource_types": [
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::GlobalCluster",
        "AWS::RDS::DBShardGroup",
    ],
    "requires": ["AWS::RDS::DBInstance"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    kind = ctx.type_of(logical_id)
    if kind != "AWS::RDS::DBInstance":
        return lib.failed(f"{kind} is not the spec's RDS PostgreSQL DB instance")
    cluster = ctx.value(logical_id, "DBClusterIdentifier")
    if cluster is not cfn.NO_VALUE:
        return lib.failed(f"the instance belongs to DB cluster {lib.describe(cluster)}")
    engine = ctx.value(logical_id, "Engine")
    if engine == "postgres":
        return lib.passed()
    return lib.unknown_in(engine, "Engine") or lib.failed(f"Engine is {lib.describe(engine)}, not postgres")


check = lib.make_check(METADATA, rule)
