"""KMS key (rotation, destroyable, least-privilege policy) and every IAM document the stack defines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_cdk.assertions import Template

from tests.unit.conftest import resources_of_type


def test_key_rotates_and_is_destroyable_after_a_pending_window(template: Template) -> None:
    template.resource_count_is("AWS::KMS::Key", 1)
    template.has_resource(
        "AWS::KMS::Key",
        {
            "Properties": {"EnableKeyRotation": True, "PendingWindowInDays": 30},
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
        },
    )
    template.has_resource_properties("AWS::KMS::Alias", {"AliasName": "alias/kms-staging-main"})


def _policy_documents(template_json: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template_json["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument"):
            if isinstance(props.get(key), dict):
                yield f"{logical_id}.{key}", props[key]
        for inline in props.get("Policies", []) or []:
            yield f"{logical_id}.Policies.{inline.get('PolicyName')}", inline["PolicyDocument"]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def test_no_wildcard_action_in_any_policy_the_stack_defines(default_template: dict[str, Any]) -> None:
    documents = list(_policy_documents(default_template))
    assert len(documents) >= 6  # key policy, SNS topic policy, role trust + managed policies
    offenders = [
        (where, action)
        for where, document in documents
        for statement in document["Statement"]
        for action in _actions(statement)
        if "*" in action
    ]
    assert offenders == []


def test_key_use_is_limited_to_rds_and_secrets_manager_and_named_services(default_template: dict[str, Any]) -> None:
    key = next(iter(resources_of_type(default_template, "AWS::KMS::Key").values()))
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert set(statements) == {
        "KeyAdministrationByAccountAdministrators",
        "KeyUseOnlyThroughRdsAndSecretsManager",
        "CloudWatchLogsEncryptsThisStacksLogGroups",
        "CloudWatchAlarmsPublishToTheEncryptedTopic",
    }
    administration = statements["KeyAdministrationByAccountAdministrators"]
    assert not {"kms:Decrypt", "kms:Encrypt"} & set(_actions(administration))
    via = statements["KeyUseOnlyThroughRdsAndSecretsManager"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert via == ["rds.us-east-1.amazonaws.com", "secretsmanager.us-east-1.amazonaws.com"]
    logs_condition = statements["CloudWatchLogsEncryptsThisStacksLogGroups"]["Condition"]["ArnEquals"]
    assert len(logs_condition["kms:EncryptionContext:aws:logs:arn"]) == 3


def test_generated_roles_are_reviewed_and_minimal(default_template: dict[str, Any]) -> None:
    roles = resources_of_type(default_template, "AWS::IAM::Role")
    trusted = sorted(
        statement["Principal"]["Service"]
        for role in roles.values()
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    )
    # Flow logs, enhanced monitoring, and CDK's default-SG restriction handler: nothing else.
    assert trusted == ["lambda.amazonaws.com", "monitoring.rds.amazonaws.com", "vpc-flow-logs.amazonaws.com"]
    # Our roles carry only customer-managed policies (no AWS-managed policy drift, no inline DefaultPolicy).
    for logical_id, role in roles.items():
        if logical_id.startswith("Custom"):
            continue  # CDK-owned helper; reviewed in README (ec2 Authorize/Revoke on the default SG only)
        assert "Policies" not in role["Properties"]
        for arn in role["Properties"].get("ManagedPolicyArns", []):
            assert "Ref" in arn, f"{logical_id} attaches a managed policy that is not ours: {arn}"
    assert resources_of_type(default_template, "AWS::IAM::Policy") == {}


def test_cdk_helper_role_only_touches_the_default_security_group(default_template: dict[str, Any]) -> None:
    helper = next(
        r for lid, r in resources_of_type(default_template, "AWS::IAM::Role").items() if lid.startswith("Custom")
    )
    statements = [s for p in helper["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert sorted(a for s in statements for a in _actions(s)) == [
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
    ]
    for statement in statements:
        assert "security-group/" in str(statement["Resource"])
