"""The properties can fail: hand-broken templates and bugs planted in copies of infra code.

A property that passes on everything proves nothing. Each case below breaks one rule and
asserts that the matching property reports it (and, for planted bugs, that the Hypothesis
test itself goes red).
"""

from __future__ import annotations

import copy
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, given, settings

import infra.app_builder
import infra.stacks.staging_database
from infra.stacks.staging_database import STACK_ID
from tests.property.compliance import describe, violations
from tests.property.strategies import DEFAULTS, Overrides, valid_overrides
from tests.property.synth import Synthesized, synth_stacks
from tests.property.template_checks import is_taggable, tags_of
from tests.snapshot.synth import synth_stack_templates

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_APP_SUBNETS = list(DEFAULTS["appSubnetCidrs"])


@pytest.fixture(scope="module")
def default_stack(synth_outdir: Path) -> Synthesized:
    (stack,) = synth_stacks({}, synth_outdir)
    return stack


def _resource(template: dict[str, Any], resource_type: str, index: int = 0) -> dict[str, Any]:
    matches = [r for r in template["Resources"].values() if r["Type"] == resource_type]
    assert len(matches) > index, f"no {resource_type} #{index} in the template"
    resource: dict[str, Any] = matches[index]
    return resource


def _db_security_group(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    group_id = _resource(template, "AWS::RDS::DBInstance")["Properties"]["VPCSecurityGroups"][0]["Fn::GetAtt"][0]
    return group_id, template["Resources"][group_id]


def _rename_db(t: dict[str, Any]) -> None:
    _resource(t, "AWS::RDS::DBInstance")["Properties"]["DBInstanceIdentifier"] = "rds-prod-main"


def _overlong_role(t: dict[str, Any]) -> None:
    _resource(t, "AWS::IAM::Role")["Properties"]["RoleName"] = (
        "role-rds-enhanced-monitoring-publisher-for-payments-db-staging-main"
    )


def _token_name(t: dict[str, Any]) -> None:
    _resource(t, "AWS::SNS::Topic")["Properties"]["TopicName"] = {"Fn::Join": ["-", ["sns", {"Ref": "AWS::StackName"}]]}


def _unnamed_alarm(t: dict[str, Any]) -> None:
    del _resource(t, "AWS::CloudWatch::Alarm")["Properties"]["AlarmName"]


def _bad_export(t: dict[str, Any]) -> None:
    next(iter(t["Outputs"].values()))["Export"]["Name"] = "export_endpoint_staging_main"


def _drop_cost_center(t: dict[str, Any]) -> None:
    tags = _resource(t, "AWS::Lambda::Function")["Properties"]["Tags"]
    tags[:] = [tag for tag in tags if tag["Key"] != "CostCenter"]


def _wrong_environment_tag(t: dict[str, Any]) -> None:
    for tag in _resource(t, "AWS::EC2::Subnet", 4)["Properties"]["Tags"]:
        if tag["Key"] == "Environment":
            tag["Value"] = "Staging"


def _log_group_default_key(t: dict[str, Any]) -> None:
    del _resource(t, "AWS::Logs::LogGroup", 2)["Properties"]["KmsKeyId"]


def _secret_aws_managed_key(t: dict[str, Any]) -> None:
    _resource(t, "AWS::RDS::DBInstance")["Properties"]["MasterUserSecret"]["KmsKeyId"] = "alias/aws/secretsmanager"


def _performance_insights_default_key(t: dict[str, Any]) -> None:
    del _resource(t, "AWS::RDS::DBInstance")["Properties"]["PerformanceInsightsKMSKeyId"]


def _topic_unencrypted(t: dict[str, Any]) -> None:
    del _resource(t, "AWS::SNS::Topic")["Properties"]["KmsMasterKeyId"]


def _storage_unencrypted(t: dict[str, Any]) -> None:
    _resource(t, "AWS::RDS::DBInstance")["Properties"]["StorageEncrypted"] = False


def _second_key(t: dict[str, Any]) -> None:
    t["Resources"]["OtherKey"] = copy.deepcopy(_resource(t, "AWS::KMS::Key"))


def _retain_log_group(t: dict[str, Any]) -> None:
    _resource(t, "AWS::Logs::LogGroup")["DeletionPolicy"] = "Retain"


def _retain_on_replace(t: dict[str, Any]) -> None:
    _resource(t, "AWS::KMS::Key")["UpdateReplacePolicy"] = "RetainExceptOnCreate"


def _public_db(t: dict[str, Any]) -> None:
    _resource(t, "AWS::RDS::DBInstance")["Properties"]["PubliclyAccessible"] = True


def _world_ingress(t: dict[str, Any]) -> None:
    _, group = _db_security_group(t)
    group["Properties"]["SecurityGroupIngress"].append(
        {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432}
    )


def _vpc_wide_ingress_resource(t: dict[str, Any]) -> None:
    group_id, _ = _db_security_group(t)
    t["Resources"]["ExtraIngress"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": {"Fn::GetAtt": [group_id, "GroupId"]},
            "CidrIp": "10.1.0.0/16",
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
        },
    }


def _all_ports(t: dict[str, Any]) -> None:
    _, group = _db_security_group(t)
    group["Properties"]["SecurityGroupIngress"][0].update({"IpProtocol": "-1", "FromPort": -1, "ToPort": -1})


def _security_group_source(t: dict[str, Any]) -> None:
    _, group = _db_security_group(t)
    group["Properties"]["SecurityGroupIngress"][0] = {
        "SourceSecurityGroupId": "sg-0123456789abcdef0",
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
    }


BREAKAGES: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "DB identifier of another environment": (_rename_db, "names follow"),
    "role name over 64 characters": (_overlong_role, "names follow"),
    "name from a token": (_token_name, "names follow"),
    "alarm without a name": (_unnamed_alarm, "names follow"),
    "export name with underscores": (_bad_export, "names follow"),
    "Lambda without CostCenter": (_drop_cost_center, "required tags"),
    "Environment=Staging": (_wrong_environment_tag, "required tags"),
    "log group without the key": (_log_group_default_key, "encrypted"),
    "secret with the AWS managed key": (_secret_aws_managed_key, "encrypted"),
    "Performance Insights without the key": (_performance_insights_default_key, "encrypted"),
    "unencrypted topic": (_topic_unencrypted, "encrypted"),
    "unencrypted storage": (_storage_unencrypted, "encrypted"),
    "two keys": (_second_key, "encrypted"),
    "Retain log group": (_retain_log_group, "Retain"),
    "RetainExceptOnCreate on replace": (_retain_on_replace, "Retain"),
    "public DB": (_public_db, "DB is private"),
    "ingress from anywhere": (_world_ingress, "DB is private"),
    "ingress from the whole VPC (separate resource)": (_vpc_wide_ingress_resource, "DB is private"),
    "ingress on every port": (_all_ports, "DB is private"),
    "ingress from a security group": (_security_group_source, "DB is private"),
}


def test_the_untouched_template_passes(default_stack: Synthesized) -> None:
    assert violations(default_stack, {}) == {}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_a_hand_broken_template_fails_the_matching_property(breakage: str, default_stack: Synthesized) -> None:
    break_it, property_name = BREAKAGES[breakage]
    template = copy.deepcopy(default_stack.template)
    break_it(template)
    found = violations(Synthesized(default_stack.stack_name, default_stack.config, template), {})
    assert [name for name in found if property_name in name], f"{breakage} went unnoticed; found: {describe(found)}"
    assert len(found) == 1, f"{breakage} should break one property only: {describe(found)}"


def test_tag_schema_lookup_is_not_vacuous(default_stack: Synthesized) -> None:
    """If the schema files moved, nothing would be 'taggable' and the tag property would pass on anything."""
    assert (
        is_taggable("AWS::RDS::DBInstance")
        and is_taggable("AWS::Logs::LogGroup")
        and is_taggable("AWS::Lambda::Function")
    )
    assert (
        not is_taggable("AWS::KMS::Alias")
        and not is_taggable("AWS::EC2::SubnetRouteTableAssociation")
        and not is_taggable("Custom::X")
    )
    taggable = [r for r in default_stack.template["Resources"].values() if is_taggable(r["Type"])]
    assert len(taggable) >= 20 and all(tags_of(r) for r in taggable)


# ---------------------------------------------------------------- planted bugs in copies of infra code


def _patched_copy(module_path: str, old: str, new: str, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A copy of an infra module with one planted bug (the original stays untouched)."""
    source = (ROOT / module_path).read_text(encoding="utf-8")
    assert source.count(old) == 1, f"the bug cannot be planted: {old!r} not found exactly once in {module_path}"
    module = types.ModuleType(f"planted_bug_{Path(module_path).stem}")
    module.__file__ = str(ROOT / module_path)
    monkeypatch.setitem(sys.modules, module.__name__, module)  # dataclasses look their module up
    exec(compile(source.replace(old, new), module.__file__, "exec"), module.__dict__)
    return module


def _run_property_test(outdir: Path) -> None:
    """The real property, as test_template_properties runs it, on three random valid contexts."""

    @settings(max_examples=3, deadline=None, derandomize=True, database=None, phases=[Phase.generate])
    @given(overrides=valid_overrides())
    def every_template_is_compliant(overrides: Overrides) -> None:
        for stack in synth_stacks(overrides.values, outdir):
            found = violations(stack, overrides.values)
            assert not found, describe(found)

    every_template_is_compliant()


def test_property_catches_a_naming_bug(synth_outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: names drop the environment (``rds-main`` instead of ``rds-staging-main``)."""
    buggy = _patched_copy(
        "infra/naming.py", 'f"{resource_type}-{self.tail}"', 'f"{resource_type}-{self.suffix}"', monkeypatch
    )
    monkeypatch.setattr(infra.stacks.staging_database, "ResourceNamer", buggy.ResourceNamer)
    with pytest.raises(AssertionError, match=r"does not follow <type>-staging-"):
        _run_property_test(synth_outdir)


def test_property_catches_a_tagging_bug(synth_outdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted: raw CfnResources of CDK helpers (the Lambda) are no longer tagged, and the
    validator shares the blind spot, so synthesis still succeeds."""
    buggy = _patched_copy(
        "infra/aspects/required_tags.py",
        'RAW_TAGGABLE_TYPES = frozenset({"AWS::IAM::Role", "AWS::Lambda::Function"})',
        'RAW_TAGGABLE_TYPES = frozenset({"AWS::IAM::Role"})',
        monkeypatch,
    )
    monkeypatch.setattr(infra.app_builder, "TagRawCfnResources", buggy.TagRawCfnResources)
    monkeypatch.setattr(infra.app_builder, "RequiredTagsValidator", buggy.RequiredTagsValidator)
    with pytest.raises(AssertionError, match=r"AWS::Lambda::Function\) has CostCenter=None"):
        _run_property_test(synth_outdir)


def test_snapshot_default_is_what_the_properties_see(default_stack: Synthesized) -> None:
    """The property synths (cdk-nag off, reused outdir) see the template ``cdk synth`` makes
    (the snapshot tier's path: cdk-nag on, fresh outdir)."""
    assert synth_stack_templates()[STACK_ID] == default_stack.template
