"""Monitoring and logging: disguises where the alarm exists but never fires, or the logs go somewhere not kept.

Each case edits the real synthesized template so that what a property-at-a-time rule reads
still holds (an alarm on CPUUtilization of this instance, > 80, with an action; log exports on;
a flow log on the VPC) while another property defeats the behaviour: a dimension RDS never
publishes, a statistic or a window that cannot cross the threshold in time, a unit no
datapoint has, a topic of another account, a log group RDS never writes to, a flow log of
rejected traffic only or delivered to a group outside the stack. Before these policies judged
the behaviour, no Python policy failed any case but the upper-case group (CKV_STG_NAME_1); the
alarm cases other than unit and percentile (properties the registry did not list: not
evaluated) and the log-group and flow-log cases used only properties the registry called neutral.

Cases locate what they edit by type and shape, never by a hard-coded logical id.
"""

from __future__ import annotations

from typing import Any

from harness.verdict.mutations import properties_of, resources_of
from tests.harness.evasions import FAILED, Evasion, Template

OTHER_ACCOUNT = "111122223333"
CATEGORY = "behaviour-monitoring"


def _alarm(t: Template, metric: str) -> dict[str, Any]:
    return properties_of(t, "AWS::CloudWatch::Alarm", lambda r: r.get("Properties", {}).get("MetricName") == metric)


def _cpu(t: Template) -> dict[str, Any]:
    return _alarm(t, "CPUUtilization")


def _storage(t: Template) -> dict[str, Any]:
    return _alarm(t, "FreeStorageSpace")


def _group(t: Template, suffix: str) -> dict[str, Any]:
    return properties_of(
        t, "AWS::Logs::LogGroup", lambda r: str(r.get("Properties", {}).get("LogGroupName")).endswith(suffix)
    )


def _flow_log(t: Template) -> dict[str, Any]:
    return properties_of(t, "AWS::EC2::FlowLog")


def _extra_dimension(t: Template) -> None:
    _cpu(t)["Dimensions"].append({"Name": "Role", "Value": "WRITER"})


def _minimum_statistic(t: Template) -> None:
    _cpu(t)["Statistic"] = "Minimum"


def _one_day_period(t: Template) -> None:
    _storage(t)["Period"] = 86400


def _eight_hour_window(t: Template) -> None:
    _cpu(t)["EvaluationPeriods"] = 96
    _cpu(t)["DatapointsToAlarm"] = 96


def _foreign_topic(t: Template) -> None:
    topic = f"arn:aws:sns:us-east-1:{OTHER_ACCOUNT}:sns-alarms-staging-main"
    for alarm in (_cpu(t), _storage(t)):
        alarm["AlarmActions"] = [topic]


def _unit_gigabytes(t: Template) -> None:
    _storage(t)["Unit"] = "Gigabytes"


def _low_percentile(t: Template) -> None:
    del _cpu(t)["Statistic"]
    _cpu(t)["ExtendedStatistic"] = "p1"


def _postgresql_group_renamed(t: Template) -> None:
    group = _group(t, "/postgresql")
    group["LogGroupName"] = str(group["LogGroupName"]).replace("/postgresql", "/postgresql-archive")


def _upgrade_group_upper_case(t: Template) -> None:
    group = _group(t, "/upgrade")
    name = str(group["LogGroupName"])
    identifier = name.split("/")[-2]
    group["LogGroupName"] = name.replace(identifier, identifier.upper())


def _rejected_traffic_only(t: Template) -> None:
    _flow_log(t)["TrafficType"] = "REJECT"


def _group_outside_the_stack(t: Template) -> None:
    _flow_log(t)["LogGroupName"] = "/aws/vpc/flowlogs-staging-archive"


def _foreign_delivery_role(t: Template) -> None:
    _flow_log(t)["DeliverLogsPermissionArn"] = f"arn:aws:iam::{OTHER_ACCOUNT}:role/role-flowlogs-staging-main"


def _flow_log_on_a_subnet(t: Template) -> None:
    subnet = next(lid for lid, _ in resources_of(t, "AWS::EC2::Subnet"))
    _flow_log(t).update({"ResourceType": "Subnet", "ResourceId": {"Ref": subnet}})


def _case(name: str, disguise: str, rule: str, apply: Any) -> Evasion:
    return Evasion(name=name, category=CATEGORY, disguise=disguise, expected=frozenset({(rule, FAILED)}), apply=apply)


CASES: tuple[Evasion, ...] = (
    _case(
        "cpu-alarm-extra-dimension",
        "the CPU alarm adds Role=WRITER: a series RDS never publishes",
        "CKV_STG_CW_1",
        _extra_dimension,
    ),
    _case(
        "cpu-alarm-minimum-statistic", "the CPU alarm on the Minimum of each period", "CKV_STG_CW_1", _minimum_statistic
    ),
    _case(
        "storage-alarm-one-day-period",
        "free storage judged once a day, three days running",
        "CKV_STG_CW_2",
        _one_day_period,
    ),
    _case("cpu-alarm-eight-hour-window", "96 five-minute periods must all breach", "CKV_STG_CW_1", _eight_hour_window),
    _case(
        "alarms-notify-another-accounts-topic",
        "both alarms notify a topic of the same name in another account",
        "CKV_STG_CW_2",
        _foreign_topic,
    ),
    _case(
        "storage-alarm-in-gigabytes",
        "Unit Gigabytes on a metric published in Bytes: no datapoint matches",
        "CKV_STG_CW_2",
        _unit_gigabytes,
    ),
    _case("cpu-alarm-first-percentile", "ExtendedStatistic p1 instead of the Average", "CKV_STG_CW_1", _low_percentile),
    _case(
        "postgresql-log-group-of-another-name",
        "the kept group is .../postgresql-archive, RDS writes .../postgresql",
        "CKV_STG_RDS_10",
        _postgresql_group_renamed,
    ),
    _case(
        "upgrade-log-group-in-upper-case",
        "the group names the identifier in upper case; RDS spells it lower case",
        "CKV_STG_RDS_10",
        _upgrade_group_upper_case,
    ),
    _case(
        "flow-log-of-rejected-traffic-only",
        "TrafficType REJECT: accepted connections are not recorded",
        "CKV_STG_NET_2",
        _rejected_traffic_only,
    ),
    _case(
        "flow-log-into-a-group-outside-the-stack",
        "LogGroupName a group the stack neither keeps nor encrypts",
        "CKV_STG_NET_2",
        _group_outside_the_stack,
    ),
    _case(
        "flow-log-delivered-by-another-accounts-role",
        "DeliverLogsPermissionArn a role of another account",
        "CKV_STG_NET_2",
        _foreign_delivery_role,
    ),
    _case(
        "flow-log-on-one-subnet", "the flow log covers one subnet, not the VPC", "CKV_STG_NET_2", _flow_log_on_a_subnet
    ),
)
