"""Required tags on every taggable resource (and the aspect that enforces them), names, outputs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import CfnDeletionPolicy, CfnResource, RemovalPolicy, Tags
from aws_cdk import aws_sns as sns

from infra.app_builder import add_staging_stacks, new_app
from infra.errors import as_synthesis_rule_error
from infra.naming import follows_convention

REQUIRED = {"Environment": "staging", "CostCenter": "engineering"}
# Resource name properties, by CloudFormation type.
NAME_PROPERTIES = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
}


def _tags(resource: dict[str, Any]) -> dict[str, str] | None:
    tags = resource.get("Properties", {}).get("Tags")
    if tags is None:
        return None
    return {t["Key"]: t["Value"] for t in tags} if isinstance(tags, list) else dict(tags)


def test_every_tagged_resource_carries_both_required_tags(default_template: dict[str, Any]) -> None:
    tagged = {lid: _tags(r) for lid, r in default_template["Resources"].items() if _tags(r) is not None}
    assert len(tagged) >= 30
    for logical_id, tags in tagged.items():
        assert tags is not None
        assert {k: tags.get(k) for k in REQUIRED} == REQUIRED, logical_id


def test_cdk_helper_resources_are_tagged_too(default_template: dict[str, Any]) -> None:
    helpers = {
        lid: r for lid, r in default_template["Resources"].items() if lid.startswith("CustomVpcRestrictDefaultSG")
    }
    assert {r["Type"] for r in helpers.values()} == {"AWS::IAM::Role", "AWS::Lambda::Function"}
    for resource in helpers.values():
        tags = _tags(resource)
        assert tags is not None and {k: tags.get(k) for k in REQUIRED} == REQUIRED


def test_tag_aspect_fails_synthesis_naming_the_untagged_construct(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    rogue = sns.Topic(stack, "RogueTopic")
    Tags.of(rogue).remove("CostCenter")
    with pytest.raises(
        Exception,
        match=r"StagingDatabase/RogueTopic/Resource \(AWS::SNS::Topic\) lacks required tag\(s\) CostCenter=engineering",
    ):
        app.synth()


def test_tag_aspect_rejects_a_wrong_value(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    rogue = sns.Topic(stack, "RogueTopic")
    Tags.of(rogue).add("Environment", "production", priority=500)
    with pytest.raises(Exception, match=r"RogueTopic/Resource .* lacks required tag\(s\) Environment=staging"):
        app.synth()


def test_retain_aspect_fails_synthesis_naming_the_construct(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    stack.encryption.key.apply_removal_policy(RemovalPolicy.RETAIN)
    with pytest.raises(
        Exception, match=r"StagingDatabase/Encryption/Key/Resource \(AWS::KMS::Key\) has DeletionPolicy Retain"
    ):
        app.synth()


def test_rule_aspects_report_every_offending_construct_in_one_run(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    stack.encryption.key.apply_removal_policy(RemovalPolicy.RETAIN)
    for name in ("RogueTopicA", "RogueTopicB"):
        Tags.of(sns.Topic(stack, name)).remove("CostCenter")
    with pytest.raises(Exception) as caught:
        app.synth()
    rule_error = as_synthesis_rule_error(caught.value)
    assert rule_error is not None
    offenders = str(rule_error).split("; ")
    assert sorted(o.split(" ", 1)[0] for o in offenders) == [
        "StagingDatabase/Encryption/Key/Resource",
        "StagingDatabase/RogueTopicA/Resource",
        "StagingDatabase/RogueTopicB/Resource",
    ]


def test_a_raw_taggable_resource_added_after_tagging_fails_synthesis_naming_it(tmp_path: Any) -> None:
    """Raw helper resources are tagged once the stacks are built; one added later is refused, never missed."""
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    CfnResource(stack, "LateRole", type="AWS::IAM::Role", properties={"AssumeRolePolicyDocument": {}})
    with pytest.raises(
        Exception,
        match=r"StagingDatabase/LateRole \(AWS::IAM::Role\) lacks required tag\(s\) CostCenter=engineering, Environment=staging",
    ):
        app.synth()


def test_retain_on_replacement_is_refused_too(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    key = stack.encryption.key.node.default_child
    assert isinstance(key, CfnResource)
    key.cfn_options.update_replace_policy = CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE
    with pytest.raises(
        Exception,
        match=r"StagingDatabase/Encryption/Key/Resource \(AWS::KMS::Key\) has UpdateReplacePolicy RetainExceptOnCreate",
    ):
        app.synth()


def test_every_named_resource_follows_type_environment_suffix(default_template: dict[str, Any]) -> None:
    names = [
        (resource["Type"], resource["Properties"][NAME_PROPERTIES[resource["Type"]]])
        for resource in default_template["Resources"].values()
        if resource["Type"] in NAME_PROPERTIES and NAME_PROPERTIES[resource["Type"]] in resource.get("Properties", {})
    ]
    assert len(names) >= 15
    for resource_type, name in names:
        assert follows_convention(name, environment="staging", suffix="main"), (resource_type, name)


def test_outputs_expose_connection_details_with_suffixed_exports(default_template: dict[str, Any]) -> None:
    outputs = default_template["Outputs"]
    expected = {
        "DatabaseEndpointAddress": "export-endpoint-staging-main",
        "DatabasePort": "export-port-staging-main",
        "DatabaseSecretArn": "export-secret-arn-staging-main",
        "DatabaseSecurityGroupId": "export-sg-id-staging-main",
        "VpcId": "export-vpc-id-staging-main",
        "KmsKeyArn": "export-kms-arn-staging-main",
    }
    assert {k: outputs[k]["Export"]["Name"] for k in expected} == expected
    assert outputs["DatabaseEndpointAddress"]["Value"] == {
        "Fn::GetAtt": ["DatabaseInstanceAA8A5FDE", "Endpoint.Address"]
    }
    assert outputs["DatabaseSecretArn"]["Value"] == {
        "Fn::GetAtt": ["DatabaseInstanceAA8A5FDE", "MasterUserSecret.SecretArn"]
    }


def test_no_retain_policy_anywhere(default_template: dict[str, Any]) -> None:
    for logical_id, resource in default_template["Resources"].items():
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
            assert resource.get(attribute, "Delete") in ("Delete", "Snapshot"), (logical_id, attribute)


def test_stateful_logical_ids_do_not_depend_on_the_suffix(default_template: dict[str, Any]) -> None:
    # A changed logical id replaces the resource: the DB and key ids must be fixed.
    assert "DatabaseInstanceAA8A5FDE" in default_template["Resources"]
    assert "EncryptionKey3A692D6E" in default_template["Resources"]


def test_rule_errors_surface_as_one_line_for_the_cli(tmp_path: Any) -> None:
    app = new_app(outdir=str(tmp_path), builtin_validation=False)
    (stack,) = add_staging_stacks(app)
    Tags.of(sns.Topic(stack, "RogueTopic")).remove("Environment")
    with pytest.raises(Exception) as caught:
        app.synth()
    rule_error = as_synthesis_rule_error(caught.value)
    assert rule_error is not None
    assert (
        str(rule_error)
        == "StagingDatabase/RogueTopic/Resource (AWS::SNS::Topic) lacks required tag(s) Environment=staging"
    )
