"""CKV_STG_TAG_1: every taggable resource carries Environment=staging and CostCenter=engineering.

Python because "taggable" is a property of the resource type (read from cfn-lint's provider
schemas: ``policies/lib/cfn_types.json``) and tags come in two shapes (list of Key/Value, or a
map). Runs on every resource type (*): a taggable type must carry both tags with the literal
values; a tag value (or key) the template does not determine is not evaluated.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_TAG_1",
    "name": "Taggable resources carry the tags Environment=staging and CostCenter=engineering",
    "category": "CONVENTION",
    "severity": "MEDIUM",
    "rationale": (
        "The spec requires Environment=staging and CostCenter=engineering on all resources: cost allocation, "
        "ownership, and IAM/SCP conditions keyed on tags. CDK's Tags skip raw CfnResources of helper "
        "constructs, so the synthesized template is checked, not the intent. Which types are taggable comes "
        "from CloudFormation's resource schemas; a tag value chosen at deploy time cannot be verified and fails."
    ),
    "requirements": ["REQ-SEC-05", "REQ-CON-07"],
    "remediation": (
        'Tags.of(app).add("Environment", "staging") and Tags.of(app).add("CostCenter", "engineering") (done in '
        "infra/app_builder.py), plus infra/aspects TagRawCfnResources for raw helper resources."
    ),
    "resource_types": ["*"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    resource_type = ctx.type_of(logical_id)
    taggable = lib.taggable(resource_type)
    if taggable is None:
        if resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource":
            return lib.not_applicable(f"{resource_type} is a custom resource: CloudFormation does not tag it")
        return lib.not_evaluated(
            f"{resource_type} is not in CloudFormation's resource schemas: taggable or not is unknown"
        )
    if not taggable:
        return lib.not_applicable(f"{resource_type} does not take tags (its CloudFormation schema)")
    tags, open_ended = lib.tags_of(ctx.value(logical_id, "Tags"))
    verdicts: list[lib.Verdict] = []
    for key, expected in lib.REQUIRED_TAGS.items():
        values = tags.get(key, [])
        if not values:
            verdicts.append(
                lib.not_evaluated(f"tag {key}: {'; '.join(open_ended)}")
                if open_ended
                else lib.failed(f"tag {key} is missing")
            )
            continue
        for value in values:
            if value == expected:
                continue
            reason = lib.undetermined(value)
            verdicts.append(
                lib.not_evaluated(f"tag {key}: {reason}")
                if reason
                else lib.failed(f"tag {key} is {lib.describe(value)}, not {expected!r}")
            )
    verdict = lib.worst(verdicts)
    if verdict.status != lib.PASSED:
        return verdict
    return lib.passed(", ".join(f"{k}={v}" for k, v in lib.REQUIRED_TAGS.items()))


check = lib.make_check(METADATA, rule)
