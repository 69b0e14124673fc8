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

from policies.lib import cfn_resolver as cfn
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


def _judge_tags(value: object, *, where: str) -> lib.Verdict:
    """The spec's tags in one resolved tag value (a Key/Value list or a map)."""
    tags, open_ended = lib.tags_of(value)
    verdicts: list[lib.Verdict] = []
    for key, expected in lib.REQUIRED_TAGS.items():
        values = tags.get(key, [])
        if not values:
            verdicts.append(
                lib.not_evaluated(f"tag {key}{where}: {'; '.join(open_ended)}")
                if open_ended
                else lib.failed(f"tag {key} is missing{where}")
            )
            continue
        for found in values:
            if found == expected:
                continue
            reason = lib.undetermined(found)
            verdicts.append(
                lib.not_evaluated(f"tag {key}{where}: {reason}")
                if reason
                else lib.failed(f"tag {key}{where} is {lib.describe(found)}, not {expected!r}")
            )
    return lib.worst(verdicts)


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
    # The schema says where the type's tags live: Tags (a list or a map), UserPoolTags, TagSpecifications.*.Tags...
    path = lib.tag_property(resource_type)
    places = lib.values_at(ctx.props(logical_id), path) or [(path, cfn.NO_VALUE)]
    verdicts = [_judge_tags(value, where="" if where == "Tags" else f" (under {where})") for where, value in places]
    verdict = lib.worst(verdicts)
    if verdict.status != lib.PASSED:
        return verdict
    return lib.passed(", ".join(f"{k}={v}" for k, v in lib.REQUIRED_TAGS.items()))


check = lib.make_check(METADATA, rule)
