"""Who sits where: the resources of a template that attach security groups or place network interfaces.

A *member* is a resource that puts network interfaces in subnets (its *placement*) and/or
attaches security groups (its *groups*). Each known type says where it names both, whether
naming no group means the VPC's default group, and what makes it reachable from outside the
VPC (a public IP, an internet-facing scheme). A resource of a type this table does not know
that still names a subnet or a security group of the template is a member the model cannot
place: judgements that depend on it are NOT EVALUATED.

*Doors* are the database itself and what the template says forwards to it (RDS proxies and
their endpoints); *relays* forward connections from outside the VPC into it with their own
addresses (a Client VPN association, an EC2 Instance Connect endpoint, a VPC Lattice resource
gateway, a Verified Access endpoint, an API Gateway VPC link): placed in a tier, they give
whoever reaches them that tier's addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib

SECURITY_GROUP = "AWS::EC2::SecurityGroup"
DOOR_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::RDS::DBProxy", "AWS::RDS::DBProxyEndpoint")
DATABASE_TYPES = DOOR_TYPES[:2]


@dataclass(frozen=True)
class Kind:
    """Where a member type names its groups and subnets (paths into its resolved properties, ``*`` for list items)."""

    groups: tuple[str, ...] = ()
    subnets: tuple[str, ...] = ()
    subnet_groups: tuple[str, ...] = ()  # a property naming a subnet group (by Ref or by name)
    default_group: bool = False  # naming no group means the VPC's default group
    relay: bool = False  # forwards connections from outside the VPC with its own addresses
    # (path, value, absent means public): the member is reachable from the internet
    public: tuple[tuple[str, Any, bool], ...] = ()


_PUBLIC_IP = (("NetworkInterfaces.*.AssociatePublicIpAddress", True, False),)
_SCHEME = (("Scheme", "internet-facing", True),)
KINDS: dict[str, Kind] = {
    "AWS::RDS::DBInstance": Kind(("VPCSecurityGroups",), (), ("DBSubnetGroupName",), True, public=(("PubliclyAccessible", True, False),)),
    "AWS::RDS::DBCluster": Kind(("VpcSecurityGroupIds",), (), ("DBSubnetGroupName",), True, public=(("PubliclyAccessible", True, False),)),
    "AWS::RDS::DBProxy": Kind(("VpcSecurityGroupIds",), ("VpcSubnetIds",), default_group=True),
    "AWS::RDS::DBProxyEndpoint": Kind(("VpcSecurityGroupIds",), ("VpcSubnetIds",), default_group=True),
    "AWS::EC2::Instance": Kind(
        ("SecurityGroupIds", "SecurityGroups", "NetworkInterfaces.*.GroupSet"),
        ("SubnetId", "NetworkInterfaces.*.SubnetId"), default_group=True, public=_PUBLIC_IP,
    ),
    "AWS::EC2::NetworkInterface": Kind(("GroupSet",), ("SubnetId",), default_group=True),
    "AWS::EC2::VPCEndpoint": Kind(("SecurityGroupIds",), ("SubnetIds",), default_group=True),
    "AWS::Lambda::Function": Kind(("VpcConfig.SecurityGroupIds",), ("VpcConfig.SubnetIds",), default_group=True),
    # An application load balancer without groups gets the default group; a network one has none.
    "AWS::ElasticLoadBalancingV2::LoadBalancer": Kind(("SecurityGroups",), ("Subnets", "SubnetMappings.*.SubnetId"), public=_SCHEME),
    "AWS::ElasticLoadBalancing::LoadBalancer": Kind(("SecurityGroups",), ("Subnets",), default_group=True, public=_SCHEME),
    "AWS::AutoScaling::AutoScalingGroup": Kind(("SecurityGroupIds",), ("VPCZoneIdentifier",), default_group=True, public=_PUBLIC_IP),
    "AWS::ECS::Service": Kind(
        ("NetworkConfiguration.AwsvpcConfiguration.SecurityGroups",),
        ("NetworkConfiguration.AwsvpcConfiguration.Subnets",), default_group=True,
        public=(("NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp", "ENABLED", False),),
    ),
    "AWS::EFS::MountTarget": Kind(("SecurityGroups",), ("SubnetId",), default_group=True),
    "AWS::ElastiCache::CacheCluster": Kind(("VpcSecurityGroupIds",), (), ("CacheSubnetGroupName",), True),
    "AWS::ElastiCache::ReplicationGroup": Kind(("SecurityGroupIds",), (), ("CacheSubnetGroupName",), True),
    "AWS::DMS::ReplicationInstance": Kind(
        ("VpcSecurityGroupIds",), (), ("ReplicationSubnetGroupIdentifier",), True, public=(("PubliclyAccessible", True, True),)
    ),
    "AWS::CodeBuild::Project": Kind(("VpcConfig.SecurityGroupIds",), ("VpcConfig.Subnets",)),
    "AWS::EKS::Cluster": Kind(("ResourcesVpcConfig.SecurityGroupIds",), ("ResourcesVpcConfig.SubnetIds",)),
    "AWS::Route53Resolver::ResolverEndpoint": Kind(("SecurityGroupIds",), ("IpAddresses.*.SubnetId",)),
    "AWS::EC2::TransitGatewayAttachment": Kind((), ("SubnetIds",)),
    "AWS::EC2::TransitGatewayVpcAttachment": Kind((), ("SubnetIds",)),
    "AWS::EC2::NatGateway": Kind((), ("SubnetId",)),
    "AWS::NetworkFirewall::Firewall": Kind((), ("SubnetMappings.*.SubnetId",)),
    "AWS::EC2::ClientVpnEndpoint": Kind(("SecurityGroupIds",), (), relay=True),
    "AWS::EC2::ClientVpnTargetNetworkAssociation": Kind((), ("SubnetId",), relay=True),
    "AWS::EC2::InstanceConnectEndpoint": Kind(("SecurityGroupIds",), ("SubnetId",), default_group=True, relay=True),
    "AWS::VpcLattice::ResourceGateway": Kind(("SecurityGroupIds",), ("SubnetIds",), default_group=True, relay=True),
    "AWS::EC2::VerifiedAccessEndpoint": Kind(
        ("SecurityGroupIds",),
        ("LoadBalancerOptions.SubnetIds", "NetworkInterfaceOptions.SubnetIds", "RdsOptions.SubnetIds", "CidrOptions.SubnetIds"),
        relay=True,
    ),
    "AWS::ApiGatewayV2::VpcLink": Kind(("SecurityGroupIds",), ("SubnetIds",), relay=True),
}  # fmt: skip
# Subnet groups: a member naming one sits in its subnets.
SUBNET_GROUPS = {
    "AWS::RDS::DBSubnetGroup": ("DBSubnetGroupName", "SubnetIds"),
    "AWS::ElastiCache::SubnetGroup": ("CacheSubnetGroupName", "SubnetIds"),
    "AWS::DMS::ReplicationSubnetGroup": ("ReplicationSubnetGroupIdentifier", "SubnetIds"),
}
# Types that name subnets or groups without placing anything there (judged elsewhere or harmless).
NOT_PLACING = frozenset(
    {
        topo.ASSOCIATION, topo.NACL_ASSOCIATION, topo.SUBNET, "AWS::EC2::SubnetCidrBlock", "AWS::EC2::FlowLog",
        "AWS::RAM::ResourceShare", SECURITY_GROUP, "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
        "AWS::EC2::RouteTable", topo.ROUTE, *SUBNET_GROUPS, "AWS::EC2::NetworkInterfaceAttachment",
        # Templates for instances: what they attach is read where an instance or group launches them.
        "AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration",
    }
)  # fmt: skip
# Something in front of a load balancer, instance or interface that takes traffic from outside the VPC to it.
EXPOSURES = {
    "AWS::EC2::VPCEndpointService": ("NetworkLoadBalancerArns", "GatewayLoadBalancerArns"),
    "AWS::ApiGateway::VpcLink": ("TargetArns",),
    "AWS::GlobalAccelerator::EndpointGroup": ("EndpointConfigurations.*.EndpointId",),
    "AWS::CloudFront::VpcOrigin": ("VpcOriginEndpointConfig.Arn",),
    "AWS::EC2::EIP": ("InstanceId",),  # a public address on an instance or interface
    "AWS::EC2::EIPAssociation": ("InstanceId", "NetworkInterfaceId"),
}


@dataclass(frozen=True)
class GroupRef:
    """A security group a value names: ``key`` is a template group's logical id, ``<vpc>.DefaultSecurityGroup``
    or ``parent:<name>`` (a group of the parent stack); None for a group the template does not define."""

    key: str | None
    text: str
    unknown: str | None = None  # why the template does not determine it


def group_ref(value: Any) -> GroupRef:
    found = lib.symbol(value)
    if found is not None and found.kind in ("ref", "getatt"):
        if found.resource_type == SECURITY_GROUP and found.attribute in ("", "GroupId"):
            return GroupRef(found.name if found.origin == "this" else f"parent:{found.name}", found.name)
        if found.resource_type == topo.VPC and found.attribute == "DefaultSecurityGroup":
            return GroupRef(f"{found.name}.DefaultSecurityGroup", f"the default security group of {found.name}")
    return GroupRef(None, lib.describe(value), lib.undetermined(value) if found is None else None)


def is_default(key: str | None) -> bool:
    return bool(key) and str(key).endswith(".DefaultSecurityGroup")


@dataclass(frozen=True)
class Member:
    id: str
    type: str
    groups: tuple[GroupRef, ...]
    subnets: tuple[str, ...]  # subnets of the template it places interfaces in
    unplaced: tuple[str, ...]  # placements the template does not determine, or outside its subnets
    public: str = ""  # why it is reachable from the internet ("" if not)
    door: bool = False
    relay: bool = False
    known: bool = True  # its type is in KINDS
    router: str = ""  # why it forwards traffic not addressed to it ("" if it does not)


@dataclass
class Members:
    topology: topo.Topology

    @cached_property
    def all(self) -> dict[str, Member]:
        found = {}
        for logical_id, kind_name in self.topology.types.items():
            member = self._member(logical_id, kind_name)
            if member is not None:
                found[logical_id] = member
        self._add_exposures(found)
        self._join_attachments(found)
        self._add_routers(found)
        return found

    def of_group(self, key: str) -> list[Member]:
        return [m for m in self.all.values() if any(g.key == key for g in m.groups)]

    def in_subnet(self, subnet: str) -> list[Member]:
        return [m for m in self.all.values() if subnet in m.subnets]

    def _member(self, logical_id: str, kind_name: str) -> Member | None:
        props = self.topology.props(logical_id)
        kind = KINDS.get(kind_name)
        if kind_name in NOT_PLACING:
            return None
        if isinstance(props, cfn.Unknown):
            return Member(logical_id, kind_name, (), (), (f"its properties: {props.reason}",), known=kind is not None)
        if kind is None:
            return self._unknown_kind(logical_id, kind_name, props)
        if kind_name == "AWS::RDS::DBInstance" and props.get("DBClusterIdentifier", cfn.NO_VALUE) is not cfn.NO_VALUE:
            return None  # an instance of a DB cluster sits where the cluster does, in the cluster's groups
        props = {**self._launched(props), **props}
        groups, missing = self._groups(props, kind)
        subnets, unplaced = self._placement(props, kind)
        default_group = kind.default_group or (
            kind_name == "AWS::ElasticLoadBalancingV2::LoadBalancer"
            and props.get("Type", "application") == "application"
        )
        if not groups and not missing and default_group and (subnets or unplaced or kind_name in DATABASE_TYPES):
            vpc = self._vpc_of(subnets)
            groups = [GroupRef(f"{vpc or '(its VPC)'}.DefaultSecurityGroup", "the VPC default security group")]
        router = "SourceDestCheck is false" if lib.truth(props.get("SourceDestCheck")) is False else ""
        member = Member(
            logical_id, kind_name, tuple(groups + missing), tuple(subnets), tuple(unplaced),
            public=_public(props, kind), door=kind_name in DOOR_TYPES, relay=kind.relay, router=router,
        )  # fmt: skip
        return member if member.groups or member.subnets or member.unplaced or member.door else None

    def _groups(self, props: Mapping[str, Any], kind: Kind) -> tuple[list[GroupRef], list[GroupRef]]:
        groups: list[GroupRef] = []
        missing: list[GroupRef] = []
        for path in kind.groups:
            for _, value in lib.values_at(props, path):
                for item in value if isinstance(value, list) else [value]:
                    ref = group_ref(item)
                    (groups if ref.key else missing).append(ref)
        return groups, missing

    def _placement(self, props: Mapping[str, Any], kind: Kind) -> tuple[list[str], list[str]]:
        subnets: list[str] = []
        unplaced: list[str] = []
        for path in kind.subnets:
            for where, value in lib.values_at(props, path):
                ours, others = self.topology.subnet_list(value if isinstance(value, list) else [value])
                subnets += ours
                unplaced += [f"{where}: {o}" for o in others]
        for path in kind.subnet_groups:
            value = props.get(path, cfn.NO_VALUE)
            if value is cfn.NO_VALUE:
                unplaced.append(f"it names no {path}, so it sits in the default VPC's subnets")
                continue
            group = self.subnet_group(value)
            if group is None:
                unplaced.append(
                    f"{path} {lib.undetermined(value) or lib.describe(value)} is not a subnet group of the template"
                )
                continue
            ours, others = self.topology.subnet_list(
                self.topology.prop(group, SUBNET_GROUPS[self.topology.types[group]][1])
            )
            subnets += ours
            unplaced += [f"subnet group {group}: {o}" for o in others]
        return list(dict.fromkeys(subnets)), unplaced

    def subnet_group(self, value: Any) -> str | None:
        """The subnet group of the template a value names (by Ref, or by its literal name)."""
        found = self.topology.named(value, *SUBNET_GROUPS)
        if found is not None:
            return found
        if isinstance(value, str):
            for group in self.topology.of_type(*SUBNET_GROUPS):
                name = self.topology.prop(group, SUBNET_GROUPS[self.topology.types[group]][0])
                if isinstance(name, str) and name.lower() == value.lower():
                    return group
        return None

    def _vpc_of(self, subnets: list[str]) -> str | None:
        vpcs = {self.topology.subnets[s].vpc for s in subnets if s in self.topology.subnets}
        if len(vpcs) == 1:
            return vpcs.pop()
        template_vpcs = self.topology.of_type(topo.VPC)
        return template_vpcs[0] if not subnets and len(template_vpcs) == 1 else None

    def _unknown_kind(self, logical_id: str, kind_name: str, props: Mapping[str, Any]) -> Member | None:
        """A type the table does not know that names a subnet or group of the template: placed where the model cannot tell."""
        subnets, groups = _scan(self.topology, props)
        if not subnets and not groups:
            return None
        unplaced = (
            f"{kind_name} is not a type the network model knows: where it sits and what it opens are not decided",
        )
        return Member(logical_id, kind_name, tuple(groups), tuple(subnets), unplaced, known=False)

    def _launched(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """What a launch template or configuration an instance or group names adds to it (its groups, public IPs)."""
        template = props.get("LaunchTemplate")
        reference = (
            template.get("LaunchTemplateId", template.get("LaunchTemplateName"))
            if isinstance(template, Mapping)
            else None
        )
        configuration = props.get("LaunchConfigurationName")
        found = self.topology.named(reference, "AWS::EC2::LaunchTemplate", attributes=("", "LaunchTemplateId"))
        if found is not None:
            data = self.topology.prop(found, "LaunchTemplateData")
            data = data if isinstance(data, Mapping) else {}
            interfaces = data.get("NetworkInterfaces", [])
            groups = list(lib.as_list(data.get("SecurityGroupIds"))) + [
                g
                for i in (interfaces if isinstance(interfaces, list) else [])
                if isinstance(i, Mapping)
                for g in lib.as_list(i.get("Groups"))
            ]
            return {"SecurityGroupIds": groups, "NetworkInterfaces": interfaces}
        if configuration is not None:
            named = self.topology.named(configuration, "AWS::AutoScaling::LaunchConfiguration")
            if named is None:
                return {
                    "SecurityGroupIds": [
                        cfn.Unknown(f"launch configuration {lib.describe(configuration)} is not in the template")
                    ]
                }
            launch = self.topology.props(named)
            launch = launch if isinstance(launch, Mapping) else {}
            public = launch.get("AssociatePublicIpAddress", cfn.NO_VALUE)
            interfaces = [{"AssociatePublicIpAddress": public}] if public is not cfn.NO_VALUE else []
            return {"SecurityGroupIds": lib.as_list(launch.get("SecurityGroups")), "NetworkInterfaces": interfaces}
        if reference is not None:
            return {
                "SecurityGroupIds": [cfn.Unknown(f"launch template {lib.describe(reference)} is not in the template")]
            }
        return {}

    def _join_attachments(self, found: dict[str, Member]) -> None:
        """An interface attached to an instance: each sits where the other does, and is as public."""
        for attachment in self.topology.of_type("AWS::EC2::NetworkInterfaceAttachment"):
            symbols = [lib.symbol(self.topology.prop(attachment, k)) for k in ("InstanceId", "NetworkInterfaceId")]
            pair = [s.name for s in symbols if s is not None and s.origin == "this" and s.name in found]
            if len(pair) == 2:
                a, b = (found[lid] for lid in pair)
                subnets = tuple(dict.fromkeys(a.subnets + b.subnets))
                public = a.public or b.public
                found[pair[0]] = replace(a, subnets=subnets, public=public)
                found[pair[1]] = replace(b, subnets=subnets, public=public)

    def _add_routers(self, found: dict[str, Member]) -> None:
        """Instances and interfaces a route table sends traffic through forward what is not addressed to them."""
        for routes in self.topology.routes.values():
            for route in routes:
                if route.target not in ("InstanceId", "NetworkInterfaceId"):
                    continue
                target = lib.symbol(route.target_value)
                if target is not None and target.origin == "this" and target.name in found:
                    member = found[target.name]
                    why = f"route {route.id} sends traffic of route table {route.table or '(not in the template)'} through it"
                    found[target.name] = replace(member, router=member.router or why)

    def _add_exposures(self, found: dict[str, Member]) -> None:
        """Load balancers (and instances) that something outside the VPC forwards to are reachable from outside."""
        for exposer in self.topology.of_type(*EXPOSURES):
            props = self.topology.props(exposer)
            if not isinstance(props, Mapping):
                continue
            for path in EXPOSURES[self.topology.types[exposer]]:
                for _, value in lib.values_at(props, path):
                    for item in value if isinstance(value, list) else [value]:
                        target = lib.symbol(item)
                        if target is not None and target.origin == "this" and target.name in found:
                            member = found[target.name]
                            why = f"{exposer} ({self.topology.types[exposer]}) forwards traffic from outside the VPC to it"
                            found[target.name] = replace(member, public=member.public or why)


def _public(props: Mapping[str, Any], kind: Kind) -> str:
    if props.get("Type") == "gateway":
        return ""  # a Gateway Load Balancer has no scheme: it takes traffic only from its endpoints' routes
    for path, wanted, absent_means_public in kind.public:
        found = lib.values_at(props, path)
        if absent_means_public and not found:
            return f"its {path} is not set, so it is {wanted if isinstance(wanted, str) else 'public'}"
        for where, value in found:
            truth = lib.truth(value)
            if value == wanted or (isinstance(wanted, bool) and truth is wanted):
                return f"{where} is {lib.describe(value)}"
    return ""


def _scan(topology: topo.Topology, value: Any) -> tuple[list[str], list[GroupRef]]:
    """Subnets and security groups of the template a resolved value names anywhere inside it."""
    subnets: list[str] = []
    groups: list[GroupRef] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, cfn.Text):
            stack.extend(item.symbols)
        elif isinstance(item, cfn.Symbol):
            subnet = topology.subnet_ref(item)
            if subnet:
                subnets.append(subnet)
            ref = group_ref(item)
            if ref.key:
                groups.append(ref)
    return sorted(set(subnets)), groups
