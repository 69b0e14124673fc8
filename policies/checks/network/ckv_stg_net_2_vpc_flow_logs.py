"""CKV_STG_NET_2: each VPC has a flow log of all its traffic into a kept, encrypted log group of the stack.

Python because a flow log is another resource, and "the VPC's traffic is recorded" is decided
by all of its properties at once: ``ResourceType``/``ResourceId`` must name this VPC (a flow
log on another VPC, a subnet or an interface records other traffic), ``TrafficType`` must be
ALL (ACCEPT or REJECT alone misses half the flows), the destination must be a CloudWatch log
group of the stack (``LogDestinationType``, ``LogGroupName``/``LogDestination``), delivered
with a role of the stack (``DeliverLogsPermissionArn``), and that group kept and encrypted
(policies/lib/stg_logs.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_logs
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_2",
    "name": "VPCs have flow logs of all traffic into a kept, encrypted log group of the stack",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": (
        "Flow logs record which addresses talk to the database subnets: the network audit trail PCI DSS "
        "requirement 10 and NIST AU-12 ask for. Only a flow log on this VPC, of ALL traffic, delivered to a log "
        "group of the stack that is kept and encrypted, is that trail. checkov has no built-in CloudFormation "
        "check for it."
    ),
    "requirements": ["REQ-NET-03", "REQ-CON-10"],
    "remediation": (
        "Add ec2.FlowLog(resource_type=ec2.FlowLogResourceType.from_vpc(vpc), traffic_type=ALL, "
        "destination=FlowLogDestination.to_cloud_watch_logs(log_group, role)) with a kept, encrypted log group."
    ),
    "resource_types": ["AWS::EC2::VPC"],
    "requires": ["AWS::EC2::VPC"],
    # Every property that decides whether this VPC's traffic is recorded, and kept.
    "judges": {
        "AWS::EC2::FlowLog": [
            "ResourceId",
            "ResourceType",
            "TrafficType",
            "LogDestinationType",
            "LogDestination",
            "LogGroupName",
            "DeliverLogsPermissionArn",
        ],
        "AWS::Logs::LogGroup": ["RetentionInDays", "KmsKeyId"],
    },
}

FLOW_LOG = "AWS::EC2::FlowLog"
ROLE = "AWS::IAM::Role"
CLOUDWATCH = "cloud-watch-logs"


def _problems(ctx: lib.Context, flow_log: str) -> list[str]:
    """What keeps a flow log on this VPC from recording all its traffic into a kept group of the stack."""
    problems = []
    traffic = ctx.value(flow_log, "TrafficType")
    if traffic != "ALL":
        problems.append(f"TrafficType is {lib.describe(traffic)}, not ALL")
    destination_type = ctx.value(flow_log, "LogDestinationType")
    if destination_type not in (cfn.NO_VALUE, CLOUDWATCH):
        problems.append(f"LogDestinationType is {lib.describe(destination_type)}: the reviewed destination is "
                        "a CloudWatch log group of the stack")  # fmt: skip
    destination = ctx.value(flow_log, "LogDestination")
    if destination is cfn.NO_VALUE:
        destination = ctx.value(flow_log, "LogGroupName")
    group = stg_logs.group_named(ctx, destination)
    if isinstance(group, cfn.Unknown):
        problems.append(group.reason)
    elif group is None:
        problems.append(f"it delivers to {lib.describe(destination)}, not a log group of this stack "
                        "(LogGroupName/LogDestination)")  # fmt: skip
    else:
        problems += stg_logs.kept_problems(ctx, group)
    role = lib.points_at(ctx.value(flow_log, "DeliverLogsPermissionArn"), ROLE)
    if role is None or role.origin != "this":
        problems.append(
            f"DeliverLogsPermissionArn is {lib.describe(ctx.value(flow_log, 'DeliverLogsPermissionArn'))}, "
            "not a role of this stack: no record is delivered"
        )
    return [f"{flow_log}: {problem}" for problem in problems]


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    problems: list[str] = []
    undecided: list[str] = []
    covering = 0
    for flow_log in ctx.of_type(FLOW_LOG):
        target = ctx.value(flow_log, "ResourceId")
        kind = ctx.value(flow_log, "ResourceType")
        if cfn.unknowns([target, kind]):
            undecided.append(f"{flow_log}: ResourceId/ResourceType are not determined by the template")
            continue
        if not lib.names(target, logical_id, attributes=("", "VpcId")) or kind != "VPC":
            continue
        covering += 1
        found = _problems(ctx, flow_log)
        if not found:
            return lib.passed(flow_log)
        unknown = lib.unknown_in(ctx.props(flow_log), flow_log)
        (undecided if unknown is not None else problems).extend([unknown.reason] if unknown else found)
    if undecided:
        return lib.not_evaluated("; ".join(undecided))
    if not covering:
        return lib.failed(f"no {FLOW_LOG} has ResourceType VPC and ResourceId this VPC")
    return lib.failed("; ".join(problems))


check = lib.make_check(METADATA, rule)
