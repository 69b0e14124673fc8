"""CKV_STG_RDS_9: RDS DB instances have enhanced monitoring at 60-second granularity.

The interval alone publishes nothing: RDS must be able to assume the monitoring role (its trust
policy, decided for the service principal monitoring.rds.amazonaws.com) and the role's policies
must let it write to the RDSOSMetrics log group with no Deny in the way. A role the template does
not define cannot be judged (not evaluated).

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

import fnmatch
import re
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_9",
    "name": "RDS DB instances have enhanced monitoring at 60-second granularity",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": "The spec requires enhanced monitoring with 60-second granularity. RDS needs both the interval and "
    "a monitoring role it can assume (trust for monitoring.rds.amazonaws.com) whose policies let it write to the "
    "RDSOSMetrics log group; without the role the interval is rejected at deploy time. The built-in "
    "CKV_AWS_118 accepts any non-zero interval, so it does not enforce 60 s. The value is read from "
    "infra/spec.toml.",
    "requirements": ["REQ-MON-01"],
    "remediation": "Set monitoring_interval=Duration.seconds(60) and a monitoring role on rds.DatabaseInstance "
    "(MonitoringInterval: 60, MonitoringRoleArn).",
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
}


MONITORING_SERVICE = "monitoring.rds.amazonaws.com"
_ASSUME = iam.Request(
    actions=("sts:AssumeRole",),
    context={"aws:sourceaccount": iam.ACCOUNT},
    purpose="RDS assuming the enhanced monitoring role",
    service=MONITORING_SERVICE,
)
PUBLISH_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
_AWS_MANAGED = re.compile(r"^arn:[^:]+:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole$")
# What the AWS managed AmazonRDSEnhancedMonitoringRole policy grants (AWS documentation).
AWS_MANAGED_DOCUMENT = {"Statement": [
    {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutRetentionPolicy"],
     "Resource": "arn:aws:logs:*:*:log-group:RDS*"},
    {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams",
                                   "logs:GetLogEvents"], "Resource": "arn:aws:logs:*:*:log-group:RDS*:log-stream:*"},
]}  # fmt: skip


def _os_metrics_stream(arn: str) -> bool:
    """Whether a Resource pattern covers a log stream of this account's RDSOSMetrics log group."""
    if arn == "*":
        return True
    parts = arn.split(":", 5)
    return (
        len(parts) == 6
        and fnmatch.fnmatchcase("logs", parts[2])
        and parts[4] in (iam.ACCOUNT, "*")
        and fnmatch.fnmatchcase("log-group:RDSOSMetrics:log-stream:db-instance", parts[5])
    )


def _identity_documents(ctx: lib.Context, role_id: str) -> list[Any] | str:
    """Every identity policy document of the role (inline, managed, attached); a reason when one is not known."""
    documents: list[Any] = []
    for inline in lib.as_list(ctx.value(role_id, "Policies")):
        documents.append(inline.get("PolicyDocument") if isinstance(inline, dict) else inline)
    for arn in lib.as_list(ctx.value(role_id, "ManagedPolicyArns")):
        managed = lib.points_at(arn, "AWS::IAM::ManagedPolicy")
        text = iam.text_of(ctx, arn)
        if managed is not None and managed.origin == "this":
            documents.append(ctx.value(managed.name, "PolicyDocument"))
        elif text is not None and _AWS_MANAGED.match(text):
            documents.append(AWS_MANAGED_DOCUMENT)
        else:
            return f"its ManagedPolicyArns entry {lib.describe(arn)} is a policy the template does not hold"
    for policy_id in ctx.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        roles = lib.as_list(ctx.value(policy_id, "Roles"))
        if any(lib.names(role, role_id) for role in roles):
            documents.append(ctx.value(policy_id, "PolicyDocument"))
        elif any(cfn.unknowns(role) for role in roles):
            return f"whether {policy_id} is attached to it is not determined"
    return documents


def _role_works(ctx: lib.Context, role: Any) -> lib.Verdict:
    """Whether RDS can assume the monitoring role and publish OS metrics with it."""
    found = lib.points_at(role, "AWS::IAM::Role")
    if found is None or found.origin != "this":
        return lib.unknown_in(role, "MonitoringRoleArn") or lib.not_evaluated(
            f"MonitoringRoleArn is {lib.describe(role)}: a role this template does not define, so whether RDS can "
            "assume it and publish with it cannot be judged"
        )
    where = f"monitoring role {found.name}"
    trust = iam.decide(ctx, ctx.value(found.name, "AssumeRolePolicyDocument"), _ASSUME, where=f"{where} trust policy")
    documents = _identity_documents(ctx, found.name)
    if isinstance(documents, str):
        return lib.worst([trust, lib.not_evaluated(f"{where}: {documents}")])
    verdicts = [trust]
    for action in PUBLISH_ACTIONS:
        allowed = iam.identity_allows(ctx, documents, action, _os_metrics_stream)
        if allowed is False:
            verdicts.append(lib.failed(f"{where}'s policies do not let it call {action} on the RDSOSMetrics log group "
                                       "(or a Deny forbids it): RDS publishes no enhanced monitoring"))  # fmt: skip
        elif allowed is None:
            verdicts.append(lib.not_evaluated(f"whether {where}'s policies let it call {action} cannot be told"))
    return lib.worst(verdicts)


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    seconds = lib.spec().monitoring.enhanced_monitoring_interval_seconds
    interval = lib.expect(ctx, logical_id, "MonitoringInterval", wanted=lib.same_text(seconds), expected=f"{seconds}")
    role = ctx.value(logical_id, "MonitoringRoleArn")
    if role is cfn.NO_VALUE:
        return lib.worst([interval, lib.failed("MonitoringRoleArn is not set: RDS cannot publish enhanced monitoring")])
    return lib.worst([interval, lib.unknown_in(role, "MonitoringRoleArn") or _role_works(ctx, role)])


check = lib.make_check(METADATA, rule)
