"""CKV_STG_RDS_5: RDS DB instances use the db.t3.medium instance class.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). ProcessorFeatures
changes the CPUs of the class (core count, threads per core), so it is judged with it.
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_5",
    "name": "RDS DB instances use the db.t3.medium instance class",
    "category": "GENERAL_SECURITY",
    "severity": "MEDIUM",
    "rationale": "The spec fixes the instance class to db.t3.medium: capacity, cost and the parameter values "
    "(max_connections=200, shared_buffers=256 MiB) were sized for it. The value is read from "
    "infra/spec.toml. ProcessorFeatures (coreCount, threadsPerCore) would run the class with other CPUs than "
    "the ones it was sized for (and db.t3 classes take none: the deploy fails).",
    "requirements": ["REQ-DB-02"],
    "remediation": 'Set instance_type=ec2.InstanceType("t3.medium") (cdk.json instanceClass "db.t3.medium") and no '
    "processor_features.",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {"AWS::RDS::DBInstance": ["DBInstanceClass", "ProcessorFeatures"]},
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    wanted = lib.spec().database.instance_class
    verdict = lib.expect(ctx, logical_id, "DBInstanceClass", wanted=lib.same_text(wanted), expected=wanted)
    features = ctx.value(logical_id, "ProcessorFeatures")
    if features is cfn.NO_VALUE or features == []:
        return verdict
    return lib.worst(
        [
            verdict,
            lib.unknown_in(features, "ProcessorFeatures")
            or lib.failed(
                f"ProcessorFeatures is {lib.describe(features)}: the class runs with other CPUs than {wanted}'s"
            ),
        ]
    )


check = lib.make_check(METADATA, rule)
