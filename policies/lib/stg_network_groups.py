"""Who the database's security groups admit, on any port (the REACH findings of the network model).

The *doors* into the database are the database itself and what forwards to it (RDS proxies
and their endpoints). Each door's groups are read (naming none means the VPC default group);
each group's ingress is every rule that can land on it: inline rules, stand-alone
``AWS::EC2::SecurityGroupIngress`` resources (by ``GroupId`` or ``GroupName``), and rules on a
group the template does not define (which may be one of the doors' groups by its physical id).
Each source is judged:

- an IPv4/IPv6 CIDR passes only inside the CIDRs of the template's application-tier subnets;
- a prefix list of the template is judged entry by entry; another one is managed elsewhere;
- a source security group admits its members from wherever they sit, so it passes only when every
  member in the template is one of the database's own doors (a proxy's group on the database's);
  the VPC default group as a source admits everything in the VPC that names no group;
- a rule on a group outside the template whose source lies in the database tier opens a path out
  of the database (the migration's rule on the dev database's group), not into it.

Ports do not matter: a source reaches the database on any port it is admitted on. The VPC
default group of the database's VPC must be closed: CDK's ``Custom::VpcRestrictDefaultSG``
must name *that VPC's* ``DefaultSecurityGroup``, and no rule may re-open it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network_members as mem
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib

INGRESS = "AWS::EC2::SecurityGroupIngress"
PREFIX_LIST = "AWS::EC2::PrefixList"
CLASSIC = ("AWS::RDS::DBSecurityGroup", "AWS::RDS::DBSecurityGroupIngress")
RESTRICT_DEFAULT = "Custom::VpcRestrictDefaultSG"
SOURCE_GROUP_KEYS = ("SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId")
MIN_PREFIX = {4: 16, 6: 44}  # the widest subnet AWS allows: a wider source cannot lie inside one
WHAT = {
    "AWS::RDS::DBInstance": "the database",
    "AWS::RDS::DBCluster": "the cluster",
    "AWS::RDS::DBProxy": "the proxy",
    "AWS::RDS::DBProxyEndpoint": "the proxy endpoint",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "the load balancer",
}


POSTGRES_PORT = 5432  # RDS for PostgreSQL's default Port


def _covers_port(rule: Mapping[str, Any], port: int) -> bool | None:
    """Whether an ingress rule admits TCP ``port`` (None: its protocol or ports are not fixed)."""
    protocol = str(rule.get("IpProtocol", "")).lower()
    if protocol in ("-1", "all"):
        return True
    if protocol not in ("tcp", "6"):
        return False if isinstance(rule.get("IpProtocol"), str | int) else None
    low, high = lib.as_number(rule.get("FromPort")), lib.as_number(rule.get("ToPort"))
    if low is None or high is None:
        return None
    return low == -1 or low <= port <= high


def _inside(inner: topo.Network, outer: topo.Network) -> bool:
    return inner.version == outer.version and inner.subnet_of(outer)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rule:
    culprit: str  # the security group (inline rule) or the stand-alone rule resource
    where: str
    spec: Any  # the resolved rule
    target: mem.GroupRef


@dataclass
class Reach:
    topology: topo.Topology
    members: mem.Members
    tiers: topo.Tiers
    forwarders: Mapping[str, str] = field(default_factory=dict)  # load balancer -> why it forwards to the database

    @cached_property
    def doors(self) -> list[mem.Member]:
        return [m for m in self.members.all.values() if m.door or m.id in self.forwarders]

    @cached_property
    def door_groups(self) -> set[str]:
        return {g.key for d in self.doors for g in d.groups if g.key}

    @cached_property
    def rules(self) -> list[Rule]:
        found = []
        for group in self.topology.of_type(mem.SECURITY_GROUP):
            inline = self.topology.prop(group, "SecurityGroupIngress")
            target = mem.GroupRef(group, group)
            if isinstance(inline, list):
                found += [Rule(group, f"ingress #{i}", r, target) for i, r in enumerate(inline)]
            elif inline is not cfn.NO_VALUE:
                found.append(Rule(group, "SecurityGroupIngress", inline, target))
        for rule in self.topology.of_type(INGRESS):
            props = self.topology.props(rule)
            target = self._rule_target(props)
            found.append(Rule(rule, f"rule on {target.text}", props, target))
        return found

    def _rule_target(self, props: Mapping[str, Any] | cfn.Unknown) -> mem.GroupRef:
        if isinstance(props, cfn.Unknown):
            return mem.GroupRef(None, "a group", props.reason)
        if "GroupId" in props:
            return mem.group_ref(props["GroupId"])
        name = props.get("GroupName")
        for group in self.topology.of_type(mem.SECURITY_GROUP):
            if isinstance(name, str) and self.topology.prop(group, "GroupName") == name:
                return mem.GroupRef(group, group)
        return mem.GroupRef(None, f"group named {lib.describe(name)}", lib.undetermined(name))

    # -- findings ---------------------------------------------------------------------

    def findings(self) -> tuple[list[topo.Finding], dict[str, str]]:
        """(findings, door -> what reaches it) for every door and every rule that may land on a door's group."""
        found: list[topo.Finding] = []
        admitted: dict[str, list[str]] = {}
        rules_passed: dict[str, str] = {}
        for door in self.doors:
            found += self._door(door)
        for rule in self.rules:
            finding, passed = self._rule(rule)
            if finding is not None:
                found.append(finding)
            elif passed:
                if rule.target.key in self.door_groups:
                    admitted.setdefault(str(rule.target.key), []).append(passed)
                if rule.culprit != rule.target.key:
                    rules_passed[rule.culprit] = f"admits {passed}"
        for classic in self.topology.of_type(*CLASSIC):
            found.append(
                self._fail(
                    classic, "EC2-Classic DB security groups admit CIDRs and groups outside any VPC security group"
                )
            )
        found += self._default_groups()
        found += [f for door in self.doors if (f := self._app_tier_shut_out(door)) is not None]
        summary = {
            door.id: "reachable only from: " + "; ".join(
                dict.fromkeys(a for g in door.groups for a in admitted.get(g.key or "", []))
            ) if any(admitted.get(g.key or "") for g in door.groups) else "no security group rule admits anything"
            for door in self.doors
        }  # fmt: skip
        return found, {**rules_passed, **summary}

    def _fail(self, culprit: str, reason: str) -> topo.Finding:
        return topo.Finding(topo.REACH, culprit, lib.FAILED, reason)

    def _unknown(self, culprit: str, reason: str) -> topo.Finding:
        return topo.Finding(topo.REACH, culprit, lib.NOT_EVALUATED, reason)

    def _door(self, door: mem.Member) -> list[topo.Finding]:
        what = WHAT.get(door.type, door.type)
        props = self.topology.props(door.id)
        found = []
        if isinstance(props, Mapping) and props.get("DBSecurityGroups"):
            found.append(self._fail(door.id, f"{what} uses EC2-Classic DBSecurityGroups"))
        key = mem.KINDS[door.type].groups[0]
        if door.id in self.forwarders:
            found += self._forwarder(door, what)
        for group in door.groups:
            if mem.is_default(group.key):
                named = isinstance(props, Mapping) and bool(props.get(key))
                why = (
                    f"{what} is in {group.text}"
                    if named
                    else f"{what} names no {key}, so it uses the VPC's default group"
                )
                found.append(
                    self._fail(
                        door.id,
                        f"{why}: every resource of the VPC that names no group joins it, and anyone may add rules to it",
                    )
                )
            elif group.key is None:
                reason = (
                    f"{key}: {group.unknown}"
                    if group.unknown
                    else f"security group {group.text} is not defined in the template: its rules cannot be judged"
                )
                found.append(self._unknown(door.id, reason))
            elif group.key.startswith("parent:"):
                found.append(
                    self._unknown(
                        door.id,
                        f"security group {group.text} is defined in the parent stack: its rules are not in this template",
                    )
                )
        for where in door.unplaced:
            found.append(
                self._unknown(door.id, f"cannot tell where {what} sits ({where}): who reaches it cannot be judged")
            )
        return found

    def _app_tier_shut_out(self, door: mem.Member) -> topo.Finding | None:
        """The other half of "only the application subnets": the database instance admits each of them on its port.

        A database whose groups admit no application subnet on the port it listens on (a port moved
        without its rules, rules for another protocol) passes every "nothing else reaches it" test
        while the application cannot use it. Only CIDR rules are counted; a group or prefix-list
        source on the port may admit the tier, so the check then stays silent.
        """
        props = self.topology.props(door.id)
        if door.type != "AWS::RDS::DBInstance" or not isinstance(props, Mapping) or not self.tiers.app_networks:
            return None
        if self.tiers.app_unknown or props.get("Engine") != "postgres" or "SourceDBInstanceIdentifier" in props:
            return None
        port = lib.as_number(props.get("Port", POSTGRES_PORT))
        own = {g.key for g in door.groups}
        if port is None or None in own:
            return None
        admitted: list[topo.Network] = []
        for rule in self.rules:
            if rule.target.key not in own or not isinstance(rule.spec, Mapping) or self._rule(rule)[0] is not None:
                continue
            covers = _covers_port(rule.spec, int(port))
            cidr = topo.network(rule.spec.get("CidrIp", rule.spec.get("CidrIpv6")))
            if covers is None or (covers and cidr is None):
                return None  # a rule the check cannot read, or another source kind on the port
            if covers and cidr is not None:
                admitted.append(cidr)
        shut = [n for n in self.tiers.app_networks if not any(_inside(n, a) for a in admitted)]
        if not shut:
            return None
        return self._fail(
            door.id,
            f"no rule of its security groups admits the application subnet(s) {', '.join(map(str, shut))} on "
            f"port {int(port)}, where the database listens: the application tier cannot reach it",
        )

    def _forwarder(self, door: mem.Member, what: str) -> list[topo.Finding]:
        """A load balancer in front of the database: reachable only as the database may be."""
        why = self.forwarders[door.id]
        if door.public:
            return [self._fail(door.id, f"{what} is reachable from outside the VPC ({door.public}) and {why}")]
        if not door.groups:
            return [
                self._fail(door.id, f"{what} has no security group, so it admits every source routed to it, and {why}")
            ]
        return []

    def _rule(self, rule: Rule) -> tuple[topo.Finding | None, str]:
        """A finding for one ingress rule (None when harmless), and what it admits when it passes."""
        target = rule.target
        parent = bool(target.key) and str(target.key).startswith("parent:")
        if not (target.key in self.door_groups or target.key is None or parent):
            return None, ""  # a group no door of the database uses: whom it admits does not reach the database
        if isinstance(rule.spec, Mapping):
            verdict = self._source(rule.spec, target)
        else:
            verdict = lib.not_evaluated(lib.undetermined(rule.spec) or f"the rule is {lib.describe(rule.spec)}")
        if verdict.status == lib.PASSED:
            return None, verdict.reason
        if target.key is None and isinstance(rule.spec, Mapping):
            # The group is known only by an id: it may be one of the doors' groups, so a failing source is unknown.
            on = f"the group {target.unknown}" if target.unknown else "a security group the template does not define"
            verdict = lib.not_evaluated(f"{verdict.reason}, on {on} (it may be the database's)")
        return topo.Finding(topo.REACH, rule.culprit, verdict.status, f"{rule.where}: {verdict.reason}"), ""

    def _source(self, rule: Mapping[str, Any], target: mem.GroupRef) -> lib.Verdict:
        """Every source the rule names is judged, the worst verdict stands: a rule that adds a group key
        (an owner account, say) beside its CIDR must not be judged by the CIDR alone."""
        verdicts = []
        if "CidrIp" in rule:
            verdicts.append(self._cidr(rule["CidrIp"], "CidrIp", target))
        if "CidrIpv6" in rule:
            verdicts.append(self._cidr(rule["CidrIpv6"], "CidrIpv6", target))
        if "SourcePrefixListId" in rule:
            verdicts.append(self._prefix_list(rule["SourcePrefixListId"], target))
        if not verdicts or any(key in rule for key in SOURCE_GROUP_KEYS):
            verdicts.append(self._group_source(rule, target))
        return verdicts[0] if len(verdicts) == 1 else lib.worst(verdicts)

    def _cidr(self, value: Any, key: str, target: mem.GroupRef) -> lib.Verdict:
        subnet = self.topology.named(value, topo.SUBNET, attributes=("CidrBlock", "Ipv6CidrBlock"))
        if subnet is not None:
            value = self.topology.prop(subnet, "CidrBlock")
        cidr = topo.network(value)
        if cidr is None:
            return lib.not_evaluated(
                f"{key} {lib.undetermined(value) or lib.describe(value)} is not a CIDR the template fixes"
            )
        if target.key is None and topo.within(cidr, self.tiers.database_networks):
            return lib.passed(f"{cidr}: a path out of the database subnets, not into them")
        if cidr.prefixlen < MIN_PREFIX[cidr.version]:
            return lib.failed(f"{key} {cidr} is wider than any subnet, so it is not the application tier")
        if topo.within(cidr, self.tiers.app_networks):
            return lib.passed(f"{cidr} (application tier)")
        return self._outside_the_tier(cidr, key)

    def _outside_the_tier(self, cidr: topo.Network, key: str) -> lib.Verdict:
        if self.tiers.app_unknown:
            return lib.not_evaluated(f"{key} {cidr}: {self.tiers.app_unknown[0]}")
        if not self.tiers.app and self.topology.ctx.bindings:
            return lib.not_evaluated(f"{key} {cidr}: the application tier is not in this (nested) template")
        return lib.failed(f"{key} {cidr} is {self._where_is(cidr)}, not the application tier ({self._app_text()})")

    def _app_text(self) -> str:
        if not self.tiers.app:
            return f"the template has no subnet tagged {topo.TIER_TAG}={topo.APP_TIER}"
        return ", ".join(str(n) for n in self.tiers.app_networks)

    def _where_is(self, cidr: topo.Network) -> str:
        inside = [s for s in self.topology.subnets.values() if topo.overlaps(cidr, s.cidrs)]
        named = ", ".join(f"{s.id} ({self._tier_text(s.id)})" for s in inside)
        if inside and topo.within(cidr, [n for s in inside for n in s.cidrs]):
            return f"in {named}"
        ranges = [n for r in self.topology.vpc_ranges.values() for n in r]
        rest = "inside the VPC but in none of its subnets" if topo.overlaps(cidr, ranges) else "outside the VPC"
        return f"{named} and addresses {rest}" if inside else rest

    def _tier_text(self, subnet: str) -> str:
        return (
            "database tier"
            if subnet in self.tiers.database
            else f"{self.topology.subnets[subnet].tier or 'untiered'} subnet"
        )

    def _prefix_list(self, value: Any, target: mem.GroupRef) -> lib.Verdict:
        listed = self.topology.named(value, PREFIX_LIST, attributes=("", "PrefixListId"))
        if listed is None:
            return lib.unknown_in(value, "SourcePrefixListId") or lib.failed(
                f"prefix list {lib.describe(value)} is not defined in the template: whoever edits it decides who reaches the database"
            )
        entries = self.topology.prop(listed, "Entries")
        if not isinstance(entries, list):
            return lib.unknown_in(entries, f"prefix list {listed}") or lib.failed(
                f"prefix list {listed} has no entries the template fixes"
            )
        verdicts = [
            self._cidr(e.get("Cidr") if isinstance(e, Mapping) else e, f"prefix list {listed} entry", target)
            for e in entries
        ]
        worst = lib.worst(verdicts)
        return (
            worst
            if worst.status != lib.PASSED
            else lib.passed(f"prefix list {listed}: " + ", ".join(v.reason for v in verdicts))
        )

    def _group_source(self, rule: Mapping[str, Any], target: mem.GroupRef) -> lib.Verdict:
        owner = self._foreign_owner(rule)
        if owner is not None:
            return owner
        source = mem.group_ref(rule.get("SourceSecurityGroupId"))
        if source.key is None or mem.is_default(source.key) or source.key.startswith("parent:"):
            return self._outside_group_source(rule, source)
        members = self.members.of_group(source.key)
        if members and all(m.door or m.id in self.forwarders for m in members):
            doors = ", ".join(m.id for m in members)
            return lib.passed(f"group {source.key}, whose members are the database's own doors ({doors})")
        if not members:
            return lib.failed(
                f"source security group {source.key} has no member in the template: whatever joins it "
                "(anything, from any subnet) reaches the database"
            )
        others = ", ".join(self._member_text(m) for m in members if not m.door)
        return lib.failed(f"source security group {source.key} admits its members from wherever they sit: {others}")

    def _foreign_owner(self, rule: Mapping[str, Any]) -> lib.Verdict | None:
        """SourceSecurityGroupOwnerId names the account whose group the rule admits, whatever the group id says:
        only this stack's account keeps the members in the template."""
        if "SourceSecurityGroupOwnerId" not in rule:
            return None
        owner = rule["SourceSecurityGroupOwnerId"]
        if isinstance(owner, cfn.Symbol) and owner.kind == "pseudo" and owner.name == "AWS::AccountId":
            return None
        account = self.topology.ctx.environment.account
        if isinstance(owner, str) and account is not None and owner == account:
            return None
        unknown = lib.unknown_in([owner], "SourceSecurityGroupOwnerId")
        if unknown is not None:
            return unknown
        return lib.failed(
            f"SourceSecurityGroupOwnerId {lib.describe(owner)}: the source group belongs to another account, "
            "whose members the template does not list"
        )

    def _outside_group_source(self, rule: Mapping[str, Any], source: mem.GroupRef) -> lib.Verdict:
        """A source group whose members the template does not list: another VPC's or account's, the default, the parent's."""
        keys = [k for k in SOURCE_GROUP_KEYS if k in rule]
        if not keys:
            return lib.failed("a rule without a source")
        unknown = lib.unknown_in([rule[k] for k in keys], keys[0])
        if unknown is not None:
            return unknown
        if mem.is_default(source.key):
            return lib.failed(
                f"source {source.text}: every resource of the VPC that names no group joins it, from any subnet"
            )
        if source.key is not None:
            return lib.not_evaluated(
                f"source security group {source.text} is defined in the parent stack: its members are not in this template"
            )
        if "SourceSecurityGroupId" not in rule:
            return lib.failed(
                f"source security group {lib.describe(rule[keys[0]])} named by {keys[0]}: a group of another VPC or account"
            )
        return lib.failed(
            f"source security group {source.text} is not defined in the template: whatever joins it reaches the database, from any subnet"
        )

    def _member_text(self, member: mem.Member) -> str:
        places = [f"{s} ({self._tier_text(s)})" for s in member.subnets]
        where = ", ".join(places + list(member.unplaced)) or "nowhere the template says"
        public = f"; reachable from outside: {member.public}" if member.public else ""
        return f"{member.id} ({member.type}) in {where}{public}"

    # -- the VPC default group --------------------------------------------------------

    def _default_groups(self) -> list[topo.Finding]:
        vpcs = sorted({v for d in self.doors for s in d.subnets if (v := self.topology.subnets[s].vpc) is not None})
        if not vpcs and self.doors and self.tiers.vpc:
            vpcs = [self.tiers.vpc]
        found = []
        restrictors = self.topology.of_type(RESTRICT_DEFAULT)
        for vpc in vpcs:
            key = f"{vpc}.DefaultSecurityGroup"
            closing = [
                r for r in restrictors if mem.group_ref(self.topology.prop(r, "DefaultSecurityGroupId")).key == key
            ]
            for rule in self.rules:
                if rule.target.key == key:
                    found.append(
                        self._fail(
                            rule.culprit,
                            f"{rule.where}: re-opens the default security group of {vpc}, the group of everything in the VPC that names none",
                        )
                    )
            if closing:
                continue
            members = [m for m in self.members.of_group(key)]
            who = (
                ", ".join(self._member_text(m) for m in members)
                or "none in the template; any resource of the VPC that names no group"
            )
            open_text = f"the default security group of {vpc} stays open: its implicit rule admits every member on every port (members: {who})"
            wrong = [r for r in restrictors if r not in closing]
            if wrong:
                value = self.topology.prop(wrong[0], "DefaultSecurityGroupId")
                ref = mem.group_ref(value)
                named = ref.unknown or f"names {ref.text}"
                status = lib.NOT_EVALUATED if ref.key is None else lib.FAILED
                found.append(
                    topo.Finding(
                        topo.REACH,
                        wrong[0],
                        status,
                        f"{wrong[0]} DefaultSecurityGroupId {named}, not {vpc}'s DefaultSecurityGroup: {open_text}",
                    )
                )
            else:
                found.append(self._fail(vpc, f"{open_text}; no {RESTRICT_DEFAULT} closes it"))
        return found
