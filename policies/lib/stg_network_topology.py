"""The network facts of one template: VPCs, subnets and their tiers, route tables, routes, network ACLs.

Pure reading, no judgement: :mod:`policies.lib.stg_network` builds the reachability model
on top of it. Every value is read through the shared resolver (``ctx.props``, once per
resource), so parameters, conditions and intrinsics mean here what they mean to every other
policy. What the template does not determine is kept with its reason (``why``), never guessed.

The application tier is identified from the template, not from the spec: a subnet belongs to
the tier its ``aws-cdk:subnet-name`` tag names (CDK writes the subnet group's name there;
``infra/domains/network.py`` names the application group ``app``). The database tier is the
set of subnets of the template's DB subnet groups.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

VPC = "AWS::EC2::VPC"
SUBNET = "AWS::EC2::Subnet"
ROUTE_TABLE = "AWS::EC2::RouteTable"
ROUTE = "AWS::EC2::Route"
ASSOCIATION = "AWS::EC2::SubnetRouteTableAssociation"
PROPAGATION = "AWS::EC2::VPNGatewayRoutePropagation"
ENDPOINT = "AWS::EC2::VPCEndpoint"
NACL = "AWS::EC2::NetworkAcl"
NACL_ENTRY = "AWS::EC2::NetworkAclEntry"
NACL_ASSOCIATION = "AWS::EC2::SubnetNetworkAclAssociation"
DB_SUBNET_GROUP = "AWS::RDS::DBSubnetGroup"

# The tag CDK writes on every subnet with the name of its subnet group, and the application
# tier's group name (infra/domains/network.py APP_SUBNET_GROUP; a unit test keeps them equal).
TIER_TAG = "aws-cdk:subnet-name"
APP_TIER = "app"

# Route targets. Outbound-only targets cannot carry a connection opened from outside.
OUTBOUND_ONLY = frozenset({"NatGatewayId", "EgressOnlyInternetGatewayId"})
TARGETS = (
    "GatewayId",
    "NatGatewayId",
    "EgressOnlyInternetGatewayId",
    "CarrierGatewayId",
    "TransitGatewayId",
    "InstanceId",
    "NetworkInterfaceId",
    "VpcEndpointId",
    "LocalGatewayId",
    "CoreNetworkArn",
    "VpcPeeringConnectionId",
)
DESTINATIONS = ("DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId")


def network(value: Any) -> Network | None:
    """A literal CIDR as a network, else None."""
    if not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


def within(inner: Network, outer: Iterable[Network]) -> bool:
    """True if ``inner`` lies inside the union of ``outer`` (same IP version)."""
    if inner.version == 4:
        merged: list[Network] = list(
            ipaddress.collapse_addresses(n for n in outer if isinstance(n, ipaddress.IPv4Network))
        )
    else:
        merged = list(ipaddress.collapse_addresses(n for n in outer if isinstance(n, ipaddress.IPv6Network)))
    return any(inner.subnet_of(n) for n in merged)  # type: ignore[arg-type]


def overlaps(inner: Network, outer: Iterable[Network]) -> bool:
    return any(n.version == inner.version and inner.overlaps(n) for n in outer)


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc: str | None  # logical id of a VPC of the template, None when it is not one
    cidrs: tuple[Network, ...]
    tier: str | None  # the aws-cdk:subnet-name tag
    unknown: tuple[str, ...] = ()  # what the template leaves open about it (CIDR, tier, VPC...)
    public_ip: bool | None = False  # maps public IPs on launch (None: undetermined)


@dataclass(frozen=True)
class Route:
    id: str  # the resource that makes it: a Route, a VPN route propagation, a gateway endpoint
    table: str  # route table key (see Topology.tables_of)
    target: str  # the target property (GatewayId...), "VPNGatewayRoutePropagation" or "GatewayEndpoint"
    target_value: Any
    destinations: tuple[Any, ...] = ()


@dataclass(frozen=True)
class AclEntry:
    id: str  # logical id ("" for a default NACL's implicit rule)
    rule: int
    egress: bool
    allow: bool
    protocol: int  # -1: all
    cidr: Network
    ports: tuple[int, int] = (0, 65535)


@dataclass
class Topology:
    """The template's network resources, resolved once (see the module docstring)."""

    ctx: lib.Context
    _props: dict[str, Any] = field(default_factory=dict)

    # -- resources ------------------------------------------------------------------------

    @cached_property
    def types(self) -> dict[str, str]:
        """Logical id -> type of every resource that may exist in this world (a false Condition: absent)."""
        found = {}
        for logical_id, resource in lib.resources(self.ctx.template).items():
            if isinstance(resource, Mapping) and self.ctx.exists(logical_id) is not False:
                found[logical_id] = str(resource.get("Type", ""))
        return found

    def of_type(self, *types: str) -> list[str]:
        return sorted(lid for lid, kind in self.types.items() if kind in types)

    def props(self, logical_id: str) -> Mapping[str, Any] | cfn.Unknown:
        if logical_id not in self._props:
            resolved = self.ctx.props(logical_id)
            self._props[logical_id] = resolved if isinstance(resolved, Mapping | cfn.Unknown) else {}
        found: Mapping[str, Any] | cfn.Unknown = self._props[logical_id]
        return found

    def prop(self, logical_id: str, key: str) -> Any:
        props = self.props(logical_id)
        return props if isinstance(props, cfn.Unknown) else props.get(key, cfn.NO_VALUE)

    def named(self, value: Any, *types: str, attributes: tuple[str, ...] = ("",)) -> str | None:
        """The logical id of this template's resource of ``types`` that ``value`` names (Ref/GetAtt), else None."""
        found = lib.points_at(value, *types)
        if found is None or found.origin != "this" or found.attribute not in attributes or found.name not in self.types:
            return None
        return found.name

    def subnet_ref(self, value: Any) -> str | None:
        return self.named(value, SUBNET, attributes=("", "SubnetId"))

    def vpc_ref(self, value: Any) -> str | None:
        return self.named(value, VPC, attributes=("", "VpcId"))

    # -- VPCs and subnets -----------------------------------------------------------------

    @cached_property
    def vpc_ranges(self) -> dict[str, tuple[Network, ...]]:
        """Every VPC's primary IPv4 range (empty when the template does not fix it)."""
        ranges: dict[str, tuple[Network, ...]] = {}
        for vpc in self.of_type(VPC):
            cidr = network(self.prop(vpc, "CidrBlock"))
            ranges[vpc] = (cidr,) if cidr is not None else ()
        return ranges

    @cached_property
    def subnets(self) -> dict[str, Subnet]:
        return {lid: self._subnet(lid) for lid in self.of_type(SUBNET)}

    def _subnet(self, logical_id: str) -> Subnet:
        unknown: list[str] = []
        vpc_value = self.prop(logical_id, "VpcId")
        vpc = self.vpc_ref(vpc_value)
        if vpc is None:
            unknown.append(
                f"its VpcId {lib.undetermined(vpc_value) or lib.describe(vpc_value)} is not a VPC of the template"
            )
        cidrs: list[Network] = []
        for key in ("CidrBlock", "Ipv6CidrBlock"):
            value = self.prop(logical_id, key)
            if value is cfn.NO_VALUE:
                continue
            parsed = network(value)
            if parsed is None:
                unknown.append(f"{key} {lib.undetermined(value) or lib.describe(value)}")
            else:
                cidrs.append(parsed)
        for key in ("Ipv4IpamPoolId", "Ipv6IpamPoolId", "Ipv6CidrBlocks"):
            if self.prop(logical_id, key) is not cfn.NO_VALUE:
                unknown.append(f"{key}: its addresses are allocated at deploy time")
        tier = self._tier(logical_id, unknown)
        public = lib.truth(self.prop(logical_id, "MapPublicIpOnLaunch"))
        if self.prop(logical_id, "MapPublicIpOnLaunch") is cfn.NO_VALUE:
            public = False
        return Subnet(logical_id, vpc, tuple(cidrs), tier, tuple(unknown), public)

    def _tier(self, logical_id: str, unknown: list[str]) -> str | None:
        tags, open_ended = lib.tags_of(self.prop(logical_id, "Tags"))
        values = tags.get(TIER_TAG, [])
        if open_ended:
            unknown.append(f"its tags: {open_ended[0]}")
        if len(values) == 1 and isinstance(values[0], str):
            return values[0]
        if values:
            unknown.append(f"its {TIER_TAG} tag is {lib.describe(values)}")
        return None

    def tier_subnets(self, tier: str) -> list[str]:
        return [s.id for s in self.subnets.values() if s.tier == tier]

    @cached_property
    def subnet_groups(self) -> dict[str, tuple[list[str], list[str]]]:
        """DB subnet group -> (subnets of the template it lists, what else it lists, described)."""
        found = {}
        for group in self.of_type(DB_SUBNET_GROUP):
            listed = self.prop(group, "SubnetIds")
            ours, others = self.subnet_list(listed)
            found[group] = (ours, others)
        return found

    def subnet_list(self, listed: Any) -> tuple[list[str], list[str]]:
        """(subnets of the template, descriptions of the other entries) of a resolved subnet id list."""
        if listed is cfn.NO_VALUE:
            return [], []
        if not isinstance(listed, list):
            return [], [f"the list {lib.undetermined(listed) or lib.describe(listed)}"]
        ours, others = [], []
        for entry in listed:
            subnet = self.subnet_ref(entry)
            if subnet is None:
                others.append(lib.undetermined(entry) or f"{lib.describe(entry)} (not a subnet of the template)")
            else:
                ours.append(subnet)
        return ours, others

    @cached_property
    def database_tier(self) -> list[str]:
        """Every subnet of the template's DB subnet groups."""
        return sorted({s for ours, _ in self.subnet_groups.values() for s in ours})

    # -- route tables ---------------------------------------------------------------------

    def table_key(self, value: Any) -> str | None:
        return self.named(value, ROUTE_TABLE, attributes=("", "RouteTableId"))

    @cached_property
    def _associations(self) -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
        """(subnet -> [(association, table key or "" when undetermined)], [(association, why)] naming no subnet of ours)."""
        by_subnet: dict[str, list[tuple[str, str]]] = {}
        stray: list[tuple[str, str]] = []
        for association in self.of_type(ASSOCIATION):
            subnet_value = self.prop(association, "SubnetId")
            subnet = self.subnet_ref(subnet_value)
            table = self.table_key(self.prop(association, "RouteTableId"))
            if subnet is None:
                if lib.undetermined(subnet_value) is not None and lib.symbol(subnet_value) is None:
                    stray.append((association, f"SubnetId {lib.undetermined(subnet_value)}"))
                continue
            by_subnet.setdefault(subnet, []).append((association, table or ""))
        return by_subnet, stray

    def tables_of(self, subnet: str) -> tuple[list[str], list[tuple[str, str]]]:
        """(route table keys a subnet uses, [(culprit, why)] for what the template leaves open about them).

        A subnet without an association uses its VPC's main table (key ``<vpc>.main``): a VPC of
        the template starts with its local routes only; routes reach it only by a literal id.
        """
        associations, stray = self._associations
        tables: list[str] = []
        open_ended = [(a, f"{a}: {why}: it may associate {subnet} with another route table") for a, why in stray]
        for association, table in associations.get(subnet, []):
            if table:
                tables.append(table)
            else:
                value = self.prop(association, "RouteTableId")
                why = lib.undetermined(value) or f"{lib.describe(value)} is not a route table of the template"
                open_ended.append((association, f"{subnet}'s route table ({association}): {why}"))
        if not associations.get(subnet):
            vpc = self.subnets[subnet].vpc if subnet in self.subnets else None
            if vpc is None:
                open_ended.append(
                    (subnet, f"subnet {subnet} uses the main route table of a VPC the template does not define")
                )
            else:
                tables.append(f"{vpc}.main")
        return tables, open_ended

    @cached_property
    def routes(self) -> dict[str, list[Route]]:
        """Route table key -> its routes beyond the local ones; key "" holds routes into tables the template
        does not define or determine (a literal id may be one of this VPC's tables)."""
        found: dict[str, list[Route]] = {}
        for route in self.of_type(ROUTE):
            props = self.props(route)
            props = props if isinstance(props, Mapping) else {}
            table = self.table_key(props.get("RouteTableId"))
            targets = [t for t in TARGETS if t in props] or ["(none)"]
            destinations = tuple(props[d] for d in DESTINATIONS if d in props)
            for target in targets:
                found.setdefault(table or "", []).append(
                    Route(route, table or "", target, props.get(target, cfn.NO_VALUE), destinations)
                )
        for propagation in self.of_type(PROPAGATION):
            listed = self.prop(propagation, "RouteTableIds")
            for entry in listed if isinstance(listed, list) else [listed]:
                table = self.table_key(entry)
                gateway = self.prop(propagation, "VpnGatewayId")
                found.setdefault(table or "", []).append(
                    Route(propagation, table or "", "VPNGatewayRoutePropagation", gateway)
                )
        for endpoint in self.of_type(ENDPOINT):
            listed = self.prop(endpoint, "RouteTableIds")
            if listed is cfn.NO_VALUE:
                continue
            for entry in listed if isinstance(listed, list) else [listed]:
                table = self.table_key(entry)
                service = self.prop(endpoint, "ServiceName")
                found.setdefault(table or "", []).append(Route(endpoint, table or "", "GatewayEndpoint", service))
        return found

    # -- network ACLs ---------------------------------------------------------------------

    def acl_key(self, value: Any) -> str | None:
        """A NACL of the template (its logical id) or a VPC's default NACL (``<vpc>.DefaultNetworkAcl``)."""
        own = self.named(value, NACL, attributes=("", "Id"))
        if own is not None:
            return own
        vpc = self.named(value, VPC, attributes=("DefaultNetworkAcl",))
        return f"{vpc}.DefaultNetworkAcl" if vpc is not None else None

    def acl_of(self, subnet: str) -> tuple[str | None, str]:
        """(NACL key of a subnet, the association that sets it or why it cannot be told)."""
        for association in self.of_type(NACL_ASSOCIATION):
            if self.subnet_ref(self.prop(association, "SubnetId")) != subnet:
                continue
            value = self.prop(association, "NetworkAclId")
            key = self.acl_key(value)
            return (
                key,
                association if key else f"{association}: NetworkAclId {lib.undetermined(value) or lib.describe(value)}",
            )
        vpc = self.subnets[subnet].vpc if subnet in self.subnets else None
        return (
            (f"{vpc}.DefaultNetworkAcl", "")
            if vpc
            else (None, f"subnet {subnet} is in a VPC the template does not define")
        )

    @cached_property
    def acl_entries(self) -> tuple[dict[str, list[AclEntry]], list[tuple[str, str]]]:
        """(NACL key -> entries, [(entry, why)] for entries the template does not determine, or that deny on a NACL
        it does not define: that NACL may be the default NACL of a VPC of the template)."""
        entries: dict[str, list[AclEntry]] = {
            f"{vpc}.DefaultNetworkAcl": [
                AclEntry("", 100, egress, True, -1, ipaddress.ip_network("0.0.0.0/0")) for egress in (False, True)
            ]
            for vpc in self.of_type(VPC)
        }
        open_ended: list[tuple[str, str]] = []
        for entry_id in self.of_type(NACL_ENTRY):
            props = self.props(entry_id)
            key = self.acl_key(props.get("NetworkAclId") if isinstance(props, Mapping) else props)
            parsed = _acl_entry(entry_id, props)
            if isinstance(parsed, str):
                open_ended.append((entry_id, parsed))
            elif key is None:
                if not parsed.allow:
                    open_ended.append(
                        (entry_id, f"{entry_id} denies traffic on a network ACL the template does not define")
                    )
            else:
                entries.setdefault(key, []).append(parsed)
        return entries, open_ended


def _acl_entry(entry_id: str, props: Any) -> AclEntry | str:
    """One NACL entry read, or why it cannot be."""
    if not isinstance(props, Mapping):
        return f"{entry_id}: {lib.undetermined(props) or lib.describe(props)}"
    cidr = network(props.get("CidrBlock", props.get("Ipv6CidrBlock")))
    rule, protocol = lib.as_number(props.get("RuleNumber")), lib.as_number(props.get("Protocol"))
    action = props.get("RuleAction")
    egress = lib.truth(props.get("Egress", False))
    if cidr is None or rule is None or protocol is None or action not in ("allow", "deny") or egress is None:
        open_keys = [k for k, v in props.items() if lib.undetermined(v)]
        return f"{entry_id}: {', '.join(open_keys) or 'its CIDR, rule number, protocol or action'} not determined"
    ports = props.get("PortRange")
    low, high = 0, 65535
    if int(protocol) in (6, 17) and isinstance(ports, Mapping):
        low_n, high_n = lib.as_number(ports.get("From")), lib.as_number(ports.get("To"))
        if low_n is None or high_n is None:
            return f"{entry_id}: PortRange {lib.describe(ports)} not determined"
        low, high = int(low_n), int(high_n)
    return AclEntry(entry_id, int(rule), egress, action == "allow", int(protocol), cidr, (low, high))


# --------------------------------------------------------------------------------------
# What the model concludes: findings, each carried by the one resource that causes it
# --------------------------------------------------------------------------------------

REACH = "reach"  # CKV_STG_NET_1: who reaches the database
ISOLATION = "isolation"  # CKV_STG_NET_3: the database subnets are isolated
PLAN = "plan"  # CKV_STG_NET_7: the template's tiers are the spec's network plan


@dataclass(frozen=True)
class Finding:
    policy: str  # REACH, ISOLATION or PLAN
    culprit: str  # the logical id of the resource whose properties open (or leave undecided) the path
    status: str  # lib.FAILED or lib.NOT_EVALUATED
    reason: str


@dataclass(frozen=True)
class Tiers:
    """The database's VPC and the subnets of its two tiers, as the template defines them."""

    vpc: str | None
    app: tuple[str, ...]
    app_networks: tuple[Network, ...]
    database: tuple[str, ...]
    database_networks: tuple[Network, ...]
    app_unknown: tuple[str, ...] = ()  # why some application-tier addresses (or members) are not known


def tiers_of(topology: Topology) -> Tiers:
    database = topology.database_tier
    vpcs = {topology.subnets[s].vpc for s in database}
    template_vpcs = topology.of_type(VPC)
    vpc = vpcs.pop() if len(vpcs) == 1 else (template_vpcs[0] if not database and len(template_vpcs) == 1 else None)
    app = [s for s in topology.tier_subnets(APP_TIER) if vpc is None or topology.subnets[s].vpc in (vpc, None)]
    unknown = [f"application subnet {s}: {topology.subnets[s].unknown[0]}" for s in app if topology.subnets[s].unknown]
    unknown += [
        f"subnet {s.id} may be in the application tier: {s.unknown[0]}"
        for s in topology.subnets.values()
        if s.tier is None and s.unknown and any("tag" in u for u in s.unknown)
    ]
    return Tiers(
        vpc,
        tuple(app),
        tuple(n for s in app for n in topology.subnets[s].cidrs),
        tuple(database),
        tuple(n for s in database for n in topology.subnets[s].cidrs),
        tuple(unknown),
    )
