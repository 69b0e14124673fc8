"""CKV_STG_NET_1: every network path into the stack admits only the staging application subnets.

Python because a path has many shapes and each must be followed: inline ingress rules of a
security group, stand-alone ``AWS::EC2::SecurityGroupIngress`` rules (on a group of this
template, on the VPC's default group, or on a group known only by a literal id), EC2-Classic
``AWS::RDS::DBSecurityGroup``(Ingress), and the groups a database actually uses; sources as
IPv4 or IPv6 CIDRs, prefix lists or source security groups; values resolved through
parameters, conditions and intrinsics by the shared resolver.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_NET_1",
    "name": "Network paths into the stack admit only the staging application subnets",
    "category": "NETWORKING",
    "severity": "CRITICAL",
    "rationale": (
        "The spec allows database access only from the staging application subnets. Any other source is a "
        "hole: 0.0.0.0/0 or ::/0 (the internet), the dev VPC 10.0.0.0/16 (a lower-trust environment), the whole "
        "staging VPC (it includes the database subnets), a prefix list nobody reviews here, or a source security "
        "group (whatever joins that group gets in, from any subnet). A stand-alone rule may add such a source to a "
        "group far from the security group resource; a database may use a group the template does not define, the "
        "VPC default group, or an EC2-Classic DB security group. Every one of these is judged. The only other "
        "source allowed is this stack's database group on another group: that opens a path out of the database, "
        "not into it (the migration's rule on the dev database's group)."
    ),
    "requirements": ["REQ-NET-03", "REQ-NET-04", "REQ-CON-02", "REQ-NET-01", "REQ-TECH-03"],
    "remediation": (
        "Add ingress rules per application subnet CIDR (cdk.json appSubnetCidrs: 10.1.0.0/24, 10.1.1.0/24, "
        "10.1.2.0/24) on the stack's own security groups; never ec2.Peer.any_ipv4(), IPv6 sources, prefix lists, "
        "source security groups or the VPC CIDR; give the database vpc_security_groups defined in this stack."
    ),
    "resource_types": [
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::RDS::DBSecurityGroup",
        "AWS::RDS::DBSecurityGroupIngress",
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBProxy",
        "AWS::RDS::DBProxyEndpoint",
    ],
    "requires": ["AWS::EC2::SecurityGroup"],
}

# The staging application subnets: the network plan in infra/spec.toml (network.app_subnet_cidrs),
# which the app's config reads too.
STAGING_APP_SUBNET_CIDRS = tuple(lib.spec().network.app_subnet_cidrs)
SECURITY_GROUP = "AWS::EC2::SecurityGroup"
DATABASES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
# RDS proxies and their endpoints reach the database on the clients' behalf: whoever reaches
# them reaches it, so their groups are judged like the database's (_BY_TYPE).
PROXIES = ("AWS::RDS::DBProxy", "AWS::RDS::DBProxyEndpoint")
SOURCE_GROUP_KEYS = ("SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId")


def within_app_subnets(cidr: str) -> bool:
    return lib.cidr_within(cidr, STAGING_APP_SUBNET_CIDRS)


def database_subnet_cidrs(ctx: lib.Context) -> list[str]:
    """CIDRs of the subnets this template's DB subnet groups place the database in."""
    cidrs = []
    for group in ctx.of_type("AWS::RDS::DBSubnetGroup"):
        subnets = ctx.value(group, "SubnetIds")
        for subnet in subnets if isinstance(subnets, list) else []:
            found = lib.points_at(subnet, "AWS::EC2::Subnet")
            cidr = ctx.value(found.name, "CidrBlock") if found is not None else None
            if isinstance(cidr, str):
                cidrs.append(cidr)
    return cidrs


def group_of(ctx: lib.Context, value: Any) -> str | None:
    """The logical id of a security group of the assembly a value names (this template's, or a nested stack's
    parent's; the VPC default group counts), else None."""
    found = lib.symbol(value)
    if found is None:
        return None
    if found.resource_type == SECURITY_GROUP and found.attribute in ("", "GroupId"):
        return found.name
    if found.resource_type == "AWS::EC2::VPC" and found.attribute == "DefaultSecurityGroup":
        return f"{found.name}.DefaultSecurityGroup"
    return None


def database_groups(ctx: lib.Context) -> set[str]:
    """Security groups of this template that a database of this template uses."""
    groups: set[str] = set()
    for database in ctx.of_type(*DATABASES):
        used = ctx.value(database, "VPCSecurityGroups")
        for value in used if isinstance(used, list) else []:
            group = group_of(ctx, value)
            if group:
                groups.add(group)
    return groups


def cidr_source(value: Any, key: str, ctx: lib.Context) -> lib.Verdict:
    if isinstance(value, cfn.Unknown):
        return lib.not_evaluated(f"{key} {value.reason}")
    found = lib.points_at(value, "AWS::EC2::Subnet")
    if found is not None and found.attribute == "CidrBlock":
        value = ctx.value(found.name, "CidrBlock")
        if isinstance(value, cfn.Unknown):
            return lib.not_evaluated(f"{key} is the CIDR of subnet {found.name}: {value.reason}")
    if not isinstance(value, str):
        return lib.not_evaluated(f"{key} {lib.describe(value)} is not determined by the template")
    if within_app_subnets(value):
        return lib.passed()
    return lib.failed(
        f"{key} {value} is not one of the staging application subnets {', '.join(STAGING_APP_SUBNET_CIDRS)}"
    )


def judge_rule(ctx: lib.Context, rule: Any, *, target: str | None, where: str) -> lib.Verdict:
    """One ingress rule on group ``target`` (a template group id, or None when the group is not in the template)."""
    if isinstance(rule, cfn.Unknown):
        return lib.not_evaluated(f"{where}: {rule.reason}")
    if not isinstance(rule, Mapping):
        return lib.not_evaluated(f"{where}: the rule is {lib.describe(rule)}")
    verdict = _source_verdict(ctx, rule, target=target, where=where)
    if target is None and verdict.status == lib.FAILED:
        # The group is known only at deploy time: it may be the database's, so the gate cannot pass it.
        return lib.not_evaluated(f"{verdict.reason}, on a security group the template does not define")
    return verdict


def _source_verdict(ctx: lib.Context, rule: Mapping[str, Any], *, target: str | None, where: str) -> lib.Verdict:
    if "CidrIpv6" in rule:
        return lib.failed(f"{where}: IPv6 source {lib.describe(rule['CidrIpv6'])} (the application subnets are IPv4)")
    if "SourcePrefixListId" in rule:
        return lib.failed(f"{where}: prefix list {lib.describe(rule['SourcePrefixListId'])} as a source")
    if "CidrIp" in rule:
        return _cidr_verdict(ctx, rule["CidrIp"], target=target, where=where)
    return _group_source_verdict(ctx, rule, target=target, where=where)


def _cidr_verdict(ctx: lib.Context, cidr: Any, *, target: str | None, where: str) -> lib.Verdict:
    verdict = cidr_source(cidr, "CidrIp", ctx)
    out_of_database = isinstance(cidr, str) and lib.cidr_within(cidr, database_subnet_cidrs(ctx))
    if target is None and verdict.status == lib.FAILED and out_of_database:
        return lib.passed(f"{where}: opens a path out of this stack's database subnets ({cidr}), not into them")
    return lib.Verdict(verdict.status, f"{where}: {verdict.reason}") if verdict.reason else verdict


def _group_source_verdict(ctx: lib.Context, rule: Mapping[str, Any], *, target: str | None, where: str) -> lib.Verdict:
    sources = [k for k in SOURCE_GROUP_KEYS if k in rule]
    if not sources:
        return lib.failed(f"{where}: a rule without a source")
    source = group_of(ctx, rule.get("SourceSecurityGroupId"))
    databases = database_groups(ctx)
    if source is not None and source in databases and target not in databases:
        return lib.passed(f"{where}: opens a path out of this stack's database group {source}, not into it")
    return lib.unknown_in([rule.get(k) for k in sources], where) or lib.failed(
        f"{where}: source security group {lib.describe(rule.get(sources[0]))} admits whatever joins it, from any subnet"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    props = ctx.props(logical_id)
    if isinstance(props, cfn.Unknown):
        return lib.not_evaluated(props.reason)
    judge = _BY_TYPE.get(ctx.type_of(logical_id), _database)
    return judge(ctx, logical_id, props)


def _group(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    rules = props.get("SecurityGroupIngress", [])
    if not isinstance(rules, list):
        return lib.unknown_in(rules, "SecurityGroupIngress") or lib.not_evaluated("SecurityGroupIngress is not a list")
    return lib.worst([judge_rule(ctx, r, target=logical_id, where=f"ingress #{i}") for i, r in enumerate(rules)])


def _standalone(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    group = props.get("GroupId")
    target = group_of(ctx, group)
    if target is None and "GroupName" in props:
        target = next((g for g in ctx.of_type(SECURITY_GROUP) if ctx.value(g, "GroupName") == props["GroupName"]), None)
    where = f"rule on {lib.describe(group if group else props.get('GroupName'))}"
    return judge_rule(ctx, props, target=target, where=where)


def _classic(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    return lib.failed("EC2-Classic DB security groups admit CIDRs and groups outside any VPC security group")


def _database(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    if props.get("DBSecurityGroups"):
        return lib.failed("the database uses EC2-Classic DBSecurityGroups")
    return _groups_used(ctx, props, key="VPCSecurityGroups", what="the database")


def _cluster(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    return _groups_used(ctx, props, key="VpcSecurityGroupIds", what="the cluster")


def _proxy(ctx: lib.Context, logical_id: str, props: Mapping[str, Any]) -> lib.Verdict:
    return _groups_used(ctx, props, key="VpcSecurityGroupIds", what="the proxy")


def _groups_used(ctx: lib.Context, props: Mapping[str, Any], *, key: str, what: str) -> lib.Verdict:
    """The groups a door into the database uses: none means the VPC default group; each must be
    a group of this template, whose own rules are then judged."""
    groups = props.get(key, cfn.NO_VALUE)
    if groups is cfn.NO_VALUE or groups == []:
        if props.get("DBClusterIdentifier") is not None:
            return lib.not_applicable("an instance of a DB cluster uses the cluster's security groups")
        return lib.failed(f"{what} names no {key}, so it uses the VPC's default group")
    if not isinstance(groups, list):
        return lib.unknown_in(groups, key) or lib.not_evaluated(f"{key} is not a list")
    outside = [g for g in groups if group_of(ctx, g) is None]
    if outside:
        return lib.not_evaluated(
            f"security group {lib.describe(outside[0])} is not defined in the template: its rules cannot be judged"
        )
    return lib.passed()


_BY_TYPE = {
    SECURITY_GROUP: _group,
    "AWS::EC2::SecurityGroupIngress": _standalone,
    "AWS::RDS::DBSecurityGroup": _classic,
    "AWS::RDS::DBSecurityGroupIngress": _classic,
    "AWS::RDS::DBCluster": _cluster,  # a cluster names its groups VpcSecurityGroupIds, an instance VPCSecurityGroups
    **dict.fromkeys(PROXIES, _proxy),
}

check = lib.make_check(METADATA, rule)
