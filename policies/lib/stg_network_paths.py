"""Paths into the VPC: which subnets of each tier can be reached from outside it.

- **The application tier must be private** (REACH): no public IP mapping; no route table of an
  application subnet (its explicit association, else the VPC's main table) routes to anything that
  carries connections both ways (internet, carrier, transit, VPN or local gateway, core network,
  peering, a middlebox instance, interface or endpoint), nor receives VPN routes; NAT and egress-only
  gateways and gateway endpoints are outbound only and allowed; nothing sits in it that takes
  connections from outside (a relay, a public IP, an internet-facing or exposed load balancer);
  no RAM share hands it to another account. A security-group CIDR inside the application tier
  then means "the application subnets", and nothing else.
- **The database tier must be isolated** (ISOLATION): every subnet of a DB subnet group is a
  subnet of the template outside the application tier, maps no public IP, routes nowhere but its
  VPC except the spec's one approved path (peering to the dev VPC's range, the migration: one
  peering connection), hosts nothing but the database and its proxies, and is not shared.
- **The application tier reaches the database** (REACH): the network ACLs of both tiers (the
  VPC's default NACL unless a subnet is associated with another) let the database port through,
  and the replies back (the ephemeral ports of the Linux clients: 32768-60999).
- **The tiers are the spec's plan** (PLAN): the application tier's CIDRs are exactly the plan's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network_acls as acls
from policies.lib import stg_network_members as mem
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib

RESOURCE_SHARE = "AWS::RAM::ResourceShare"
EDGE_ASSOCIATION = "AWS::EC2::GatewayRouteTableAssociation"


@dataclass
class Paths:
    topology: topo.Topology
    members: mem.Members
    tiers: topo.Tiers

    def findings(self) -> list[topo.Finding]:
        found: list[topo.Finding] = []
        for subnet in self.tiers.app:
            found += self._subnet(subnet, topo.REACH, "application")
        found += self._database_groups()
        for subnet in self.tiers.database:
            found += self._subnet(subnet, topo.ISOLATION, "database")
        found += self._approved_peering()
        found += self._foreign_routes()
        found += self._shares()
        found += acls.acl_findings(self.topology, self.members, self.tiers)
        found += self._plan()
        return found

    # -- one subnet -------------------------------------------------------------------

    def _subnet(self, subnet: str, policy: str, tier: str) -> list[topo.Finding]:
        facts = self.topology.subnets[subnet]
        found = []
        if facts.public_ip is not False:
            status = lib.FAILED if facts.public_ip else lib.NOT_EVALUATED
            value = self.topology.prop(subnet, "MapPublicIpOnLaunch")
            found.append(
                topo.Finding(
                    policy, subnet, status, f"{tier} subnet {subnet}: MapPublicIpOnLaunch {lib.describe(value)}"
                )
            )
        tables, open_ended = self.topology.tables_of(subnet)
        found += [topo.Finding(policy, culprit, lib.NOT_EVALUATED, why) for culprit, why in open_ended]
        for table in tables:
            for route in self.topology.routes.get(table, []):
                problem = self._route(route, tier)
                if problem is not None:
                    status, why = problem
                    found.append(
                        topo.Finding(policy, route.id, status, f"{tier} subnet {subnet}'s route table {table}: {why}")
                    )
        for edge in self.topology.of_type(EDGE_ASSOCIATION):
            if self.topology.table_key(self.topology.prop(edge, "RouteTableId")) in tables:
                found.append(
                    topo.Finding(
                        policy,
                        edge,
                        lib.FAILED,
                        f"{edge} sends a gateway's inbound traffic through {tier} subnet {subnet}'s route table",
                    )
                )
        for member in self.members.in_subnet(subnet):
            why_placed = self._placed(member, tier)
            if why_placed:
                found.append(
                    topo.Finding(
                        policy,
                        member.id,
                        lib.FAILED if member.known else lib.NOT_EVALUATED,
                        f"{member.id} ({member.type}) in {tier} subnet {subnet}: {why_placed}",
                    )
                )
        return found

    def _exposed(self, subnet: str) -> str:
        """Why a subnet outside the application tier is reachable from outside the VPC ("" if it is not)."""
        if self.topology.subnets[subnet].public_ip:
            return "it maps public IPs"
        for table in self.topology.tables_of(subnet)[0]:
            for route in self.topology.routes.get(table, []):
                problem = self._route(route, "application")
                if problem is not None and problem[0] == lib.FAILED:
                    return problem[1]
        return ""

    def _route(self, route: topo.Route, tier: str) -> tuple[str, str] | None:
        target, value = route.target, route.target_value
        if target == "(none)":
            return lib.NOT_EVALUATED, f"route {route.id} has no target the model knows"
        if target == "GatewayId" and value == "local":
            return None
        outbound = target in topo.OUTBOUND_ONLY or target == "GatewayEndpoint"
        what = (
            f"{route.id} propagates VPN routes (VPNGatewayRoutePropagation {lib.describe(value)}) into it"
            if target == "VPNGatewayRoutePropagation"
            else f"{route.id} routes to {target} {lib.describe(value)}"
        )
        if tier == "application":
            if outbound:
                return None
            return lib.FAILED, f"{what}: a path both ways between the tier and outside the VPC"
        if target == "VpcPeeringConnectionId":
            return self._database_peering(route)
        kind = "an outbound path" if outbound else "a path both ways"
        return lib.FAILED, f"{what}: {kind} out of the database tier"

    def _database_peering(self, route: topo.Route) -> tuple[str, str] | None:
        dev = topo.network(lib.spec().network.dev_vpc_cidr)
        if not route.destinations:
            return lib.NOT_EVALUATED, f"peering route {route.id} has no destination"
        for destination in route.destinations:
            cidr = topo.network(destination)
            if cidr is None:
                return (
                    lib.NOT_EVALUATED,
                    f"peering route {route.id}: destination {lib.undetermined(destination) or lib.describe(destination)}",
                )
            if cidr.prefixlen == 0:
                return (
                    lib.FAILED,
                    f"peering route {route.id} is a default route ({cidr}): everything leaves the database tier",
                )
            if dev is None or not topo.within(cidr, [dev]):
                return (
                    lib.FAILED,
                    f"peering route {route.id} to {cidr}: the one approved path out of the database tier is the migration's peering to the dev VPC ({dev})",
                )
        return None

    def _placed(self, member: mem.Member, tier: str) -> str:
        """Why a member in a subnet of the tier breaks it ("" if it does not)."""
        if tier == "database":
            if member.door:
                return ""
            unknown = f" ({member.unplaced[0]})" if not member.known else ""
            return f"the database tier holds only the database and its proxies{unknown}"
        bridged = [s for s in member.subnets if s not in self.tiers.app and self._exposed(s)]
        reasons = [
            (member.relay, "forwards connections from outside the VPC with the application tier's addresses"),
            (bool(member.public), f"reachable from outside the VPC: {member.public}"),
            (bool(member.router), f"forwards traffic not addressed to it into the tier ({member.router})"),
            (
                bool(bridged),
                f"it also sits in {bridged[0] if bridged else ''}, which is reachable from outside the VPC",
            ),
            (not member.known, member.unplaced[0] if member.unplaced else ""),
        ]
        return next((why for applies, why in reasons if applies), "")

    # -- the database tier ------------------------------------------------------------

    def _database_groups(self) -> list[topo.Finding]:
        found = []
        app = set(self.tiers.app)
        for group, (ours, others) in self.topology.subnet_groups.items():
            listed = self.topology.prop(group, "SubnetIds")
            if not ours and not others:
                found.append(topo.Finding(topo.ISOLATION, group, lib.FAILED, "the subnet group lists no subnets"))
            found += [
                topo.Finding(topo.ISOLATION, group, lib.NOT_EVALUATED, f"subnet {o}: its routes cannot be checked")
                for o in others
            ]
            found += [
                topo.Finding(
                    topo.ISOLATION,
                    group,
                    lib.FAILED,
                    f"lists {s}, a subnet of the application tier ({topo.TIER_TAG}={topo.APP_TIER})",
                )
                for s in ours
                if s in app
            ]
            if isinstance(listed, cfn.Unknown):
                found.append(topo.Finding(topo.ISOLATION, group, lib.NOT_EVALUATED, f"SubnetIds {listed.reason}"))
        return found

    def _approved_peering(self) -> list[topo.Finding]:
        """The migration is one peering: database routes through a second connection are a second path."""
        used: dict[str, str] = {}
        for subnet in self.tiers.database:
            for table in self.topology.tables_of(subnet)[0]:
                for route in self.topology.routes.get(table, []):
                    if route.target == "VpcPeeringConnectionId":
                        used.setdefault(lib.describe(route.target_value), route.id)
        if len(used) <= 1:
            return []
        first, *others = sorted(used.items())
        return [
            topo.Finding(
                topo.ISOLATION,
                route,
                lib.FAILED,
                f"{route} routes the database tier through peering {connection}, a second path besides {first[0]}",
            )
            for connection, route in others
        ]

    def _foreign_routes(self) -> list[topo.Finding]:
        """Routes into route tables the template does not define: a literal id may be one of this VPC's tables."""
        ranges = [n for r in self.topology.vpc_ranges.values() for n in r]
        found = []
        for route in self.topology.routes.get("", []):
            destinations = [topo.network(d) for d in route.destinations]
            if destinations and all(d is not None and topo.within(d, ranges) for d in destinations):
                continue  # toward this VPC: the far side of a path (the migration's routes in the dev VPC)
            if route.target in topo.OUTBOUND_ONLY and not self.tiers.database:
                continue
            table = self.topology.prop(route.id, "RouteTableId")
            where = lib.undetermined(table) or f"{lib.describe(table)}, which the template does not define"
            policy, tier = (topo.ISOLATION, "a database") if self.tiers.database else (topo.REACH, "an application")
            found.append(
                topo.Finding(
                    policy,
                    route.id,
                    lib.NOT_EVALUATED,
                    f"{route.id} routes to {route.target} {lib.describe(route.target_value)} in route table {where}: it may be {tier} subnet's",
                )
            )
        return found

    def _shares(self) -> list[topo.Finding]:
        """RAM shares: another account may place interfaces in a shared subnet."""
        found = []
        for share in self.topology.of_type(RESOURCE_SHARE):
            arns = self.topology.prop(share, "ResourceArns")
            for arn in arns if isinstance(arns, list) else [arns]:
                found += self._shared(share, arn)
        return found

    def _shared(self, share: str, arn: Any) -> list[topo.Finding]:
        if arn is cfn.NO_VALUE:
            return []
        symbols = arn.symbols if isinstance(arn, cfn.Text) else ((arn,) if isinstance(arn, cfn.Symbol) else ())
        subnets = [s for s in (self.topology.subnet_ref(x) for x in symbols) if s]
        found = []
        for subnet in subnets:
            if subnet in self.tiers.database:
                found.append(
                    topo.Finding(
                        topo.ISOLATION,
                        share,
                        lib.FAILED,
                        f"{share} shares database subnet {subnet} with other accounts, which may place interfaces in it",
                    )
                )
            elif subnet in self.tiers.app:
                found.append(
                    topo.Finding(
                        topo.REACH,
                        share,
                        lib.FAILED,
                        f"{share} shares application subnet {subnet} with other accounts: their interfaces get the tier's addresses",
                    )
                )
        text = str(arn) if isinstance(arn, str | cfn.Text) else ""
        if not subnets and (isinstance(arn, cfn.Unknown) or ":subnet/" in text):
            why = lib.undetermined(arn) if isinstance(arn, cfn.Unknown) else f"{text} names a subnet by its id"
            policy = topo.ISOLATION if self.tiers.database else topo.REACH
            found.append(
                topo.Finding(
                    policy,
                    share,
                    lib.NOT_EVALUATED,
                    f"{share} shares {why}: it may be a subnet of the database or application tier",
                )
            )
        return found

    # -- the spec's network plan ------------------------------------------------------

    def _plan(self) -> list[topo.Finding]:
        if self.tiers.vpc is None:
            vpcs = self.topology.of_type(topo.VPC)
            why = "the database subnets are in several VPCs" if self.tiers.database else "the template has several VPCs"
            return (
                [
                    topo.Finding(
                        topo.PLAN, vpcs[0], lib.NOT_EVALUATED, f"which VPC holds the database cannot be told ({why})"
                    )
                ]
                if vpcs
                else []
            )
        plan = {topo.network(c) for c in lib.spec().network.app_subnet_cidrs}
        found = []
        held: set[topo.Network] = set()
        open_ended = False
        for subnet in self.tiers.app:
            facts = self.topology.subnets[subnet]
            if facts.unknown:
                open_ended = True
                found.append(
                    topo.Finding(
                        topo.PLAN, subnet, lib.NOT_EVALUATED, f"application subnet {subnet}: {facts.unknown[0]}"
                    )
                )
            for cidr in (n for n in facts.cidrs if n.version == 4):
                held.add(cidr)
                if cidr not in plan:
                    found.append(
                        topo.Finding(
                            topo.PLAN,
                            subnet,
                            lib.FAILED,
                            f"application subnet {subnet} is {cidr}, which is not in the network plan ({_plan_text()})",
                        )
                    )
        for missing in sorted(n for n in plan - held if n is not None):
            holder = next((s.id for s in self.topology.subnets.values() if missing in s.cidrs), None)
            if holder is not None:
                tier = self.topology.subnets[holder].tier
                found.append(
                    topo.Finding(
                        topo.PLAN,
                        holder,
                        lib.FAILED,
                        f"subnet {holder} holds the plan's application subnet {missing} but is not in the application tier ({topo.TIER_TAG} {tier!r})",
                    )
                )
            elif not open_ended:
                found.append(
                    topo.Finding(
                        topo.PLAN,
                        self.tiers.vpc,
                        lib.FAILED,
                        f"no application-tier subnet holds the plan's {missing} ({_plan_text()})",
                    )
                )
        return found


def _plan_text() -> str:
    return "infra/spec.toml network.app_subnet_cidrs: " + ", ".join(lib.spec().network.app_subnet_cidrs)
