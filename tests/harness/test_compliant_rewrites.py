"""No over-blocking (issue 16 item 6): rewrites of the staging stack that mean the same stack pass the gate.

Each rewrite changes how the template is written, never what deploys: keys and lists reordered,
numbers and booleans as strings, identifiers built with ``Fn::Join``/``Fn::Sub`` that resolve to
the same names, the stack's key by ``Ref`` instead of by ARN (and by an ARN built with
``Fn::Sub``), the alarm's instance by its identifier, an added tagged, compliant resource. The
policies follow what a property means and the gate settles what a tool cannot read from the
resolved value, so each must exit 0. One gate run judges them all.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import tests.harness.evasions  # noqa: F401  (first: it registers the corpus modules, which import it back)
from harness.verdict.mutations import db_instance, properties_of, resources_of
from tests.harness import corpus_crypto, corpus_redteam
from tests.harness.conftest import GateRun, run_gate, write_assembly
from tests.harness.evasions import Rewrite

pytestmark = pytest.mark.slow
Template = dict[str, Any]


def _id(t: Template, kind: str) -> str:
    return next(lid for lid, _ in resources_of(t, kind))


def _alarms(t: Template) -> list[dict[str, Any]]:
    return [r["Properties"] for _, r in resources_of(t, "AWS::CloudWatch::Alarm")]


def _log_groups(t: Template) -> list[dict[str, Any]]:
    return [r["Properties"] for _, r in resources_of(t, "AWS::Logs::LogGroup")]


# Lists whose order CloudFormation ignores (a set of subnets, tags, actions, rules, statements).
UNORDERED = ("Tags", "SubnetIds", "SecurityGroupIds", "VPCSecurityGroups", "SecurityGroupIngress", "AlarmActions",
             "OKActions", "EnableCloudwatchLogsExports", "ManagedPolicyArns", "RouteTableIds")  # fmt: skip


def _reordered(t: Template) -> None:
    def reverse(mapping: dict[str, Any]) -> dict[str, Any]:
        return dict(reversed(list(mapping.items())))

    t["Resources"] = reverse(t["Resources"])
    for resource in t["Resources"].values():
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        for name in UNORDERED:
            if isinstance(properties.get(name), list):
                properties[name] = list(reversed(properties[name]))
        resource["Properties"] = reverse(properties)
        for document in ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument"):
            if isinstance(properties.get(document), dict) and isinstance(properties[document].get("Statement"), list):
                properties[document]["Statement"].reverse()
    for alarm in _alarms(t):
        alarm["Dimensions"] = list(reversed(alarm["Dimensions"]))


def _strings_for_scalars(t: Template) -> None:
    for alarm in _alarms(t):
        for name in ("Threshold", "EvaluationPeriods", "DatapointsToAlarm", "Period"):
            alarm[name] = str(alarm[name])
        alarm["ActionsEnabled"] = "true"
    for group in _log_groups(t):
        group["RetentionInDays"] = str(group["RetentionInDays"])
    db = db_instance(t)
    db["Port"] = "5432"
    for name in ("DeletionProtection", "MultiAZ", "StorageEncrypted", "EnableIAMDatabaseAuthentication",
                 "CopyTagsToSnapshot", "PubliclyAccessible"):  # fmt: skip
        db[name] = str(db[name]).lower()
    for name in ("BackupRetentionPeriod", "MonitoringInterval", "MaxAllocatedStorage"):
        db[name] = str(db[name])
    properties_of(t, "AWS::EC2::FlowLog")["MaxAggregationInterval"] = "60"
    properties_of(t, "AWS::KMS::Key")["EnableKeyRotation"] = "true"


def _names_built_with_join_and_sub(t: Template) -> None:
    identifier = str(db_instance(t)["DBInstanceIdentifier"])
    kind, env, suffix = identifier.split("-", 2)
    for group in _log_groups(t):
        name = str(group["LogGroupName"])
        if name.startswith("/aws/rds/instance/"):  # not by the instance's Ref: the instance depends on its groups
            log = name.rsplit("/", 1)[1]
            group["LogGroupName"] = {"Fn::Join": ["/", ["", "aws", "rds", "instance", f"{kind}-{env}-{suffix}", log]]}
        else:
            head, tail = name.rsplit("-", 1)
            group["LogGroupName"] = {"Fn::Sub": [f"{head}-${{Suffix}}", {"Suffix": tail}]}
    for alarm in _alarms(t):
        alarm["Dimensions"] = [{"Name": "DBInstanceIdentifier", "Value": {"Fn::Join": ["-", [kind, env, suffix]]}}]
        name = str(alarm["AlarmName"]).removesuffix(f"-{env}-{suffix}")
        alarm["AlarmName"] = {"Fn::Sub": [f"{name}-${{Env}}-{suffix}", {"Env": env}]}
    flow_log = properties_of(t, "AWS::EC2::FlowLog")
    flow_log["LogGroupName"] = "/aws/vpc/flowlogs-staging-main"  # the group by its name, not its Ref
    topic = str(properties_of(t, "AWS::SNS::Topic")["TopicName"])
    for alarm in _alarms(t):
        alarm["AlarmActions"] = [{"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:" + topic}]


def _numbers_built_with_join(t: Template) -> None:
    """Values a tool cannot read as written (an intrinsic), which the resolver determines."""
    db = db_instance(t)
    for name in ("BackupRetentionPeriod", "MonitoringInterval", "Port", "AllocatedStorage"):
        db[name] = {"Fn::Join": ["", [str(db[name])]]}
    for name in ("DeletionProtection", "MultiAZ", "StorageEncrypted"):
        db[name] = {"Fn::Join": ["", [str(db[name]).lower()]]}


def _key_by_ref_and_by_arn(t: Template) -> None:
    key = _id(t, "AWS::KMS::Key")
    db = db_instance(t)
    arn = {"Fn::Sub": f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/${{{key}}}"}
    db["KmsKeyId"] = arn
    db["PerformanceInsightsKMSKeyId"] = {"Ref": key}
    db["MasterUserSecret"] = {"KmsKeyId": {"Ref": key}}
    properties_of(t, "AWS::SNS::Topic")["KmsMasterKeyId"] = {"Ref": key}
    properties_of(t, "AWS::KMS::Alias")["TargetKeyId"] = {"Ref": key}
    for group in _log_groups(t):
        group["KmsKeyId"] = {
            "Fn::Sub": f"arn:${{AWS::Partition}}:kms:${{AWS::Region}}:${{AWS::AccountId}}:key/${{{key}}}"
        }


def _added_tagged_alarm(t: Template) -> None:
    cpu = next(
        r for _, r in resources_of(t, "AWS::CloudWatch::Alarm") if r["Properties"]["MetricName"] == "CPUUtilization"
    )
    added = copy.deepcopy(cpu)
    added["Properties"].update({
        "AlarmName": "alarm-connections-staging-main", "MetricName": "DatabaseConnections", "Threshold": 180,
        "Statistic": "Maximum", "AlarmDescription": "connections of the staging database above 90 % of 200",
    })  # fmt: skip
    added.get("Metadata", {}).pop("aws:cdk:path", None)
    t["Resources"]["MonitoringConnectionsAlarm"] = added


COMPLIANT: tuple[Rewrite, ...] = (
    Rewrite(
        name="rewrite-reordered",
        change="resources, properties, unordered lists and statements reversed",
        apply=_reordered,
    ),
    Rewrite(
        name="rewrite-strings-for-scalars",
        change='"80", "300", "365", "5432", "true" as strings',
        apply=_strings_for_scalars,
    ),
    Rewrite(
        name="rewrite-names-by-join-and-sub",
        change="log group names, the alarm's instance and topic built "
        "with Fn::Join/Fn::Sub; the flow log's group by its name",
        apply=_names_built_with_join_and_sub,
    ),
    Rewrite(
        name="rewrite-numbers-by-join",
        change="backup retention, monitoring interval, port, storage and flags as Fn::Join of their literal",
        apply=_numbers_built_with_join,
    ),
    Rewrite(
        name="rewrite-key-by-ref-and-arn",
        change="the stack key by Ref, and by an ARN built with Fn::Sub",
        apply=_key_by_ref_and_by_arn,
    ),
    Rewrite(
        name="rewrite-added-tagged-alarm",
        change="a third alarm (connections), tagged, named, notifying the topic",
        apply=_added_tagged_alarm,
    ),
)


# This module's rewrites and every corpus module's COMPLIANT: one gate run judges them all.
EVERY_REWRITE: tuple[Rewrite, ...] = (*COMPLIANT, *corpus_crypto.COMPLIANT, *corpus_redteam.COMPLIANT)


@pytest.fixture(scope="module")
def rewrite_run(synthesized: Path, clean_template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    base = tmp_path_factory.mktemp("compliant-rewrites")
    paths = []
    for rewrite in EVERY_REWRITE:
        template = copy.deepcopy(clean_template)
        rewrite.apply(template)
        paths.append(write_assembly(synthesized, base / rewrite.name, template))
    return run_gate([arg for path in paths for arg in ("--assembly", str(path))], reports=base / "reports")


@pytest.mark.parametrize("rewrite", EVERY_REWRITE, ids=lambda r: r.name)
def test_a_compliant_rewrite_passes(rewrite_run: GateRun, rewrite: Rewrite) -> None:
    gating = [
        (f["rule_id"], f["logical_id"], f["message"])
        for f in rewrite_run.report["findings"]
        if f["assembly"] == rewrite.name and f["status"] in ("failed", "not-evaluated")
    ]
    assert rewrite_run.assembly(rewrite.name)["exit_code"] == 0, (rewrite.change, gating)
