"""The network reachability model (policies/lib/stg_network.py): each source and path kind, reaching and not.

Every case edits the staging-shaped network of ``network_base`` and states what the model must
conclude: no finding at all (the path does not reach), or a finding of one policy (reach,
isolation, plan), carried by one resource, with its status and a word of its reason. The
"does not reach" twin of each kind sits next to it, so a model that fails everything fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network as network
from policies.lib import stg_policy_lib as lib
from tests.policies.network_base import (
    Template,
    add,
    getatt,
    ingress,
    props,
    ref,
    route,
    staging_network,
)

Edit = Callable[[Template], Any]
R, ISO, P = network.REACH, network.ISOLATION, network.PLAN
F, NE = lib.FAILED, lib.NOT_EVALUATED
IMPORT = {"Fn::ImportValue": "shared-value"}
APP_SUBNETS = [ref("App1"), ref("App2"), ref("App3")]
DB_SUBNETS = [ref("Db1"), ref("Db2"), ref("Db3")]


def findings(template: Template, world: dict[str, Any] | None = None) -> list[network.Finding]:
    if world is not None:
        template = {**template, "Metadata": {cfn.WORLD_METADATA_KEY: {"world": world, "environment": {}}}}
    return list(network.build(lib.Context(template, raw=template)).findings)


def rule_on(group: Any, **source: Any) -> dict[str, Any]:
    return {"GroupId": group, "IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, **source}


def db_ingress(**source: Any) -> Edit:
    return lambda t: add(t, "Extra", "AWS::EC2::SecurityGroupIngress", **rule_on(getatt("DbSg", "GroupId"), **source))


def lambda_in(subnets: list[Any], groups: list[Any], name: str = "Worker") -> Edit:
    return lambda t: add(t, name, "AWS::Lambda::Function", Runtime="python3.12", Handler="i.h", Role="arn:aws:iam::1:role/r",
                         Code={"ZipFile": "x"}, VpcConfig={"SubnetIds": subnets, "SecurityGroupIds": groups})  # fmt: skip


def group(name: str, *rules: dict[str, Any]) -> Edit:
    return lambda t: add(t, name, "AWS::EC2::SecurityGroup", GroupDescription=name, VpcId=ref("Vpc"),
                         SecurityGroupIngress=list(rules))  # fmt: skip


def public_subnet(t: Template) -> None:
    add(t, "Igw", "AWS::EC2::InternetGateway")
    add(t, "IgwAttach", "AWS::EC2::VPCGatewayAttachment", VpcId=ref("Vpc"), InternetGatewayId=ref("Igw"))
    add(t, "Pub", "AWS::EC2::Subnet", VpcId=ref("Vpc"), CidrBlock="10.1.100.0/24", MapPublicIpOnLaunch=True,
        AvailabilityZone="us-east-1a")  # fmt: skip
    add(t, "PubRt", "AWS::EC2::RouteTable", VpcId=ref("Vpc"))
    add(t, "PubRta", "AWS::EC2::SubnetRouteTableAssociation", SubnetId=ref("Pub"), RouteTableId=ref("PubRt"))
    route(t, "PubDefault", "PubRt", GatewayId=ref("Igw"))


def nlb_to(address: Any, groups: list[Any] | None = None) -> Edit:
    """An internal load balancer in the application subnets forwarding to ``address`` on 5432."""

    def edit(t: Template) -> None:
        extra = {"SecurityGroups": groups} if groups else {}
        add(
            t,
            "Nlb",
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            Type="network",
            Scheme="internal",
            Subnets=APP_SUBNETS,
            **extra,
        )
        add(t, "NlbTargets", "AWS::ElasticLoadBalancingV2::TargetGroup", TargetType="ip", Protocol="TCP", Port=5432,
            VpcId=ref("Vpc"), Targets=[{"Id": address, "Port": 5432}])  # fmt: skip
        add(t, "NlbListener", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn=ref("Nlb"), Port=5432, Protocol="TCP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": ref("NlbTargets")}])  # fmt: skip

    return edit


def swap_tiers(t: Template) -> None:
    for index in (1, 2, 3):
        app, database = props(t, f"App{index}"), props(t, f"Db{index}")
        app["CidrBlock"], database["CidrBlock"] = database["CidrBlock"], app["CidrBlock"]


def both(*edits: Edit) -> Edit:
    def edit(t: Template) -> None:
        for step in edits:
            step(t)

    return edit


def nacl(
    *entries: tuple[int, bool, str, str, tuple[int, int]], subnets: tuple[str, ...] = ("Db1", "Db2", "Db3")
) -> Edit:
    """A NACL on ``subnets`` with entries (rule, egress, action, cidr, ports)."""

    def edit(t: Template) -> None:
        add(t, "Acl", "AWS::EC2::NetworkAcl", VpcId=ref("Vpc"))
        for subnet in subnets:
            add(
                t,
                f"AclOn{subnet}",
                "AWS::EC2::SubnetNetworkAclAssociation",
                SubnetId=ref(subnet),
                NetworkAclId=ref("Acl"),
            )
        for number, (rule, egress, action, cidr, (low, high)) in enumerate(entries):
            add(t, f"AclEntry{number}", "AWS::EC2::NetworkAclEntry", NetworkAclId=ref("Acl"), RuleNumber=rule, Protocol=6,
                RuleAction=action, Egress=egress, CidrBlock=cidr, PortRange={"From": low, "To": high})  # fmt: skip

    return edit


OPEN_ACL = ((100, False, "allow", "10.1.0.0/16", (0, 65535)), (100, True, "allow", "10.1.0.0/16", (0, 65535)))

Expected = tuple[str, str, str, str] | None  # (policy, culprit, status, word) or None: no finding at all
CASES: list[tuple[str, Edit, Expected]] = [
    ("the staging network as it is", lambda t: None, None),
    # --- CIDR sources --------------------------------------------------------------
    ("CIDR spanning two application subnets", db_ingress(CidrIp="10.1.0.0/23"), None),
    ("CIDR of a database subnet", db_ingress(CidrIp="10.1.10.0/24"), (R, "Extra", F, "database tier")),
    ("CIDR 0.0.0.0/0", db_ingress(CidrIp="0.0.0.0/0"), (R, "Extra", F, "wider than any subnet")),
    ("CIDR in the VPC but in no subnet", db_ingress(CidrIp="10.1.0.0/22"), (R, "Extra", F, "none of its subnets")),
    ("CIDR of the dev VPC", db_ingress(CidrIp="10.0.0.0/16"), (R, "Extra", F, "outside the VPC")),
    ("CIDR from a parameter", db_ingress(CidrIp={"Ref": "Cidr"}), (R, "Extra", NE, "Cidr")),
    ("CIDR by GetAtt of an application subnet", db_ingress(CidrIp=getatt("App2", "CidrBlock")), None),
    ("CIDR by GetAtt of a database subnet", db_ingress(CidrIp=getatt("Db2", "CidrBlock")), (R, "Extra", F, "Db2")),
    ("inline IPv6 ::/0", lambda t: props(t, "DbSg")["SecurityGroupIngress"].append({"IpProtocol": "-1", "CidrIpv6": "::/0"}),
     (R, "DbSg", F, "::/0")),
    ("IPv6 inside an application subnet's block",
     both(lambda t: props(t, "App1").__setitem__("Ipv6CidrBlock", "2600:1f18:1:100::/64"),
          db_ingress(CidrIpv6="2600:1f18:1:100::/64")), None),
    ("IPv6 outside the application tier", db_ingress(CidrIpv6="2600:1f18:1:200::/64"), (R, "Extra", F, "outside the VPC")),
    # --- prefix lists ----------------------------------------------------------------
    ("prefix list of the template holding the application subnets",
     both(lambda t: add(t, "Pl", "AWS::EC2::PrefixList", AddressFamily="IPv4", MaxEntries=3, PrefixListName="app",
                        Entries=[{"Cidr": c} for c in ("10.1.0.0/24", "10.1.1.0/24")]),
          db_ingress(SourcePrefixListId=getatt("Pl", "PrefixListId"))), None),
    ("prefix list of the template with an outside entry",
     both(lambda t: add(t, "Pl", "AWS::EC2::PrefixList", AddressFamily="IPv4", MaxEntries=3, PrefixListName="app",
                        Entries=[{"Cidr": "10.1.0.0/24"}, {"Cidr": "192.168.0.0/24"}]),
          db_ingress(SourcePrefixListId=ref("Pl"))), (R, "Extra", F, "192.168.0.0/24")),
    ("prefix list defined elsewhere", db_ingress(SourcePrefixListId="pl-0123456789abcdef0"), (R, "Extra", F, "whoever edits it")),
    ("prefix list imported", db_ingress(SourcePrefixListId=IMPORT), (R, "Extra", NE, "Fn::ImportValue")),
    # --- source security groups and their members ---------------------------------------
    ("source group whose member sits in an application subnet",
     both(group("AppSg"), lambda_in([ref("App1")], [ref("AppSg")]), db_ingress(SourceSecurityGroupId=ref("AppSg"))),
     (R, "Extra", F, "Worker (AWS::Lambda::Function) in App1")),
    ("source group whose member sits in a public subnet",
     both(public_subnet, group("AppSg"), lambda_in([ref("Pub")], [ref("AppSg")]),
          db_ingress(SourceSecurityGroupId=getatt("AppSg", "GroupId"))), (R, "Extra", F, "Pub")),
    ("source group without members", both(group("AppSg"), db_ingress(SourceSecurityGroupId=ref("AppSg"))),
     (R, "Extra", F, "no member in the template")),
    ("source group of a proxy in front of the database (a door)",
     both(group("ProxySg", ingress("10.1.0.0/24")),
          lambda t: add(t, "Proxy", "AWS::RDS::DBProxy", DBProxyName="p", EngineFamily="POSTGRESQL", RoleArn="arn:r",
                        Auth=[], VpcSubnetIds=DB_SUBNETS, VpcSecurityGroupIds=[ref("ProxySg")]),
          db_ingress(SourceSecurityGroupId=ref("ProxySg"))), None),
    ("source group: the VPC default group", db_ingress(SourceSecurityGroupId=getatt("Vpc", "DefaultSecurityGroup")),
     (R, "Extra", F, "names no group joins it")),
    ("source group defined elsewhere", db_ingress(SourceSecurityGroupId="sg-0123456789abcdef0"), (R, "Extra", F, "not defined")),
    ("source group imported", db_ingress(SourceSecurityGroupId=IMPORT), (R, "Extra", NE, "Fn::ImportValue")),
    ("source group by name", db_ingress(SourceSecurityGroupName="legacy"), (R, "Extra", F, "another VPC or account")),
    ("the database's own group, owned by another account",
     db_ingress(SourceSecurityGroupId=ref("DbSg"), SourceSecurityGroupOwnerId="999988887777"),
     (R, "Extra", F, "another account")),
    ("an application-tier CIDR with another account's group owner beside it",
     db_ingress(CidrIp="10.1.0.0/24", SourceSecurityGroupOwnerId="999988887777"), (R, "Extra", F, "another account")),
    ("an application-tier CIDR beside a group of the template without members",
     both(group("AppSg"), db_ingress(CidrIp="10.1.0.0/24", SourceSecurityGroupId=ref("AppSg"))),
     (R, "Extra", F, "no member in the template")),
    ("the database's own group, owned by this account",
     db_ingress(SourceSecurityGroupId=ref("DbSg"), SourceSecurityGroupOwnerId={"Ref": "AWS::AccountId"}), None),
    ("source group owner imported", db_ingress(SourceSecurityGroupId=ref("DbSg"), SourceSecurityGroupOwnerId=IMPORT),
     (R, "Extra", NE, "Fn::ImportValue")),
    # --- the group itself ---------------------------------------------------------------
    ("self-reference with only the database in the group", db_ingress(SourceSecurityGroupId=ref("DbSg")), None),
    ("self-reference and a function in a public subnet joins the group",
     both(public_subnet, db_ingress(SourceSecurityGroupId=ref("DbSg")), lambda_in([ref("Pub")], [ref("DbSg")])),
     (R, "Extra", F, "Worker")),
    # --- stand-alone rules ----------------------------------------------------------------
    ("stand-alone rule by GroupName",
     lambda t: add(t, "ByName", "AWS::EC2::SecurityGroupIngress", GroupName="sg-db-staging-main", IpProtocol="-1", CidrIp="10.0.0.0/8"),
     (R, "ByName", F, "10.0.0.0/8")),
    ("stand-alone rule on a group the template does not define",
     lambda t: add(t, "Foreign", "AWS::EC2::SecurityGroupIngress", **rule_on("sg-0123456789abcdef0", CidrIp="0.0.0.0/0")),
     (R, "Foreign", NE, "may be the database's")),
    ("the migration's rule on the dev database's group",
     lambda t: add(t, "DevIngress", "AWS::EC2::SecurityGroupIngress", **rule_on("sg-0123456789abcdef0", CidrIp="10.1.11.0/24")),
     None),
    ("a rule on a group no door uses", both(group("Other"), lambda t: add(t, "OtherIn", "AWS::EC2::SecurityGroupIngress",
                                                                         **rule_on(ref("Other"), CidrIp="0.0.0.0/0"))), None),
    ("rule hidden behind an undecidable condition (the world where it exists)",
     lambda t: t["Resources"].__setitem__("Cond", {**add({"Resources": {}}, "Cond", "AWS::EC2::SecurityGroupIngress",
                                                         **rule_on(ref("DbSg"), CidrIp="0.0.0.0/0"))["Resources"]["Cond"],
                                                  "Condition": "Debug"}),
     (R, "Cond", F, "0.0.0.0/0")),
    # --- doors on the default group, foreign groups -------------------------------------------
    ("database naming no group", lambda t: props(t, "Db").pop("VPCSecurityGroups"), (R, "Db", F, "names no VPCSecurityGroups")),
    ("database on the default group explicitly", lambda t: props(t, "Db").__setitem__("VPCSecurityGroups", [getatt("Vpc", "DefaultSecurityGroup")]),
     (R, "Db", F, "default security group")),
    ("database in a group the template does not define", lambda t: props(t, "Db").__setitem__("VPCSecurityGroups", ["sg-0abc"]),
     (R, "Db", NE, "not defined in the template")),
    ("proxy naming no group",
     lambda t: add(t, "Proxy", "AWS::RDS::DBProxy", DBProxyName="p", EngineFamily="POSTGRESQL", RoleArn="arn:r", Auth=[],
                   VpcSubnetIds=DB_SUBNETS), (R, "Proxy", F, "default group")),
    ("proxy whose group admits the dev VPC",
     both(group("ProxySg", ingress("10.0.0.0/16")),
          lambda t: add(t, "Proxy", "AWS::RDS::DBProxy", DBProxyName="p", EngineFamily="POSTGRESQL", RoleArn="arn:r",
                        Auth=[], VpcSubnetIds=DB_SUBNETS, VpcSecurityGroupIds=[ref("ProxySg")])), (R, "ProxySg", F, "10.0.0.0/16")),
    ("database without a subnet group", lambda t: props(t, "Db").pop("DBSubnetGroupName"), (R, "Db", NE, "default VPC")),
    # --- the VPC default group ---------------------------------------------------------------
    ("restrict custom resource on another group",
     both(group("Other"), lambda t: props(t, "Restrict").__setitem__("DefaultSecurityGroupId", getatt("Other", "GroupId"))),
     (R, "Restrict", F, "stays open")),
    ("restrict custom resource by a literal id", lambda t: props(t, "Restrict").__setitem__("DefaultSecurityGroupId", "sg-0abc"),
     (R, "Restrict", NE, "stays open")),
    ("no restrict custom resource", lambda t: t["Resources"].pop("Restrict"), (R, "Vpc", F, "no Custom::VpcRestrictDefaultSG")),
    ("a rule re-opening the default group",
     lambda t: add(t, "Reopen", "AWS::EC2::SecurityGroupIngress", **rule_on(getatt("Vpc", "DefaultSecurityGroup"), CidrIp="10.1.0.0/24")),
     (R, "Reopen", F, "re-opens")),
    # --- the application tier is private ----------------------------------------------------
    ("internet gateway route from an application subnet", both(public_subnet, lambda t: route(t, "Out", "AppRt3", GatewayId=ref("Igw"))),
     (R, "Out", F, "both ways")),
    ("NAT gateway route from an application subnet (outbound only)",
     both(public_subnet, lambda t: add(t, "Nat", "AWS::EC2::NatGateway", SubnetId=ref("Pub")),
          lambda t: route(t, "Out", "AppRt1", NatGatewayId=ref("Nat"))), None),
    ("transit gateway route from an application subnet", lambda t: route(t, "Tgw", "AppRt2", "172.16.0.0/12", TransitGatewayId="tgw-1"),
     (R, "Tgw", F, "TransitGatewayId")),
    ("peering route from an application subnet", lambda t: route(t, "Peer", "AppRt1", "10.0.0.0/16", VpcPeeringConnectionId="pcx-1"),
     (R, "Peer", F, "VpcPeeringConnectionId")),
    ("VPN routes propagated into an application table",
     lambda t: add(t, "Vpn", "AWS::EC2::VPNGatewayRoutePropagation", RouteTableIds=[ref("AppRt1")], VpnGatewayId="vgw-1"),
     (R, "Vpn", F, "VPNGatewayRoutePropagation")),
    ("application subnet mapping public IPs", lambda t: props(t, "App2").__setitem__("MapPublicIpOnLaunch", "true"),
     (R, "App2", F, "MapPublicIpOnLaunch")),
    ("gateway endpoint on the application tables", lambda t: add(t, "S3", "AWS::EC2::VPCEndpoint", ServiceName="com.amazonaws.us-east-1.s3",
                                                                 VpcId=ref("Vpc"), RouteTableIds=[ref("AppRt1")]), None),
    ("Client VPN associated with an application subnet",
     lambda t: add(t, "VpnAssoc", "AWS::EC2::ClientVpnTargetNetworkAssociation", ClientVpnEndpointId="cvpn-1", SubnetId=ref("App1")),
     (R, "VpnAssoc", F, "from outside the VPC")),
    ("EC2 Instance Connect endpoint in an application subnet",
     lambda t: add(t, "Eic", "AWS::EC2::InstanceConnectEndpoint", SubnetId=ref("App3")), (R, "Eic", F, "from outside the VPC")),
    ("Lattice resource gateway in the application subnets",
     lambda t: add(t, "Rgw", "AWS::VpcLattice::ResourceGateway", Name="rgw", VpcIdentifier=ref("Vpc"), SubnetIds=APP_SUBNETS),
     (R, "Rgw", F, "from outside the VPC")),
    ("internet-facing load balancer (no Scheme) in the application subnets",
     lambda t: add(t, "Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", Subnets=APP_SUBNETS), (R, "Alb", F, "internet-facing")),
    ("internal load balancer in the application subnets",
     lambda t: add(t, "Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer", Scheme="internal", Subnets=APP_SUBNETS), None),
    ("internal NLB exposed through an endpoint service (PrivateLink)",
     both(lambda t: add(t, "Nlb", "AWS::ElasticLoadBalancingV2::LoadBalancer", Type="network", Scheme="internal", Subnets=APP_SUBNETS),
          lambda t: add(t, "Svc", "AWS::EC2::VPCEndpointService", NetworkLoadBalancerArns=[ref("Nlb")], AcceptanceRequired=False)),
     (R, "Nlb", F, "Svc")),
    ("instance with a public IP in an application subnet",
     lambda t: add(t, "Box", "AWS::EC2::Instance", ImageId="ami-1",
                   NetworkInterfaces=[{"DeviceIndex": "0", "SubnetId": ref("App1"), "AssociatePublicIpAddress": True}]),
     (R, "Box", F, "AssociatePublicIpAddress")),
    ("Elastic IP on an instance in an application subnet",
     both(lambda t: add(t, "Box", "AWS::EC2::Instance", ImageId="ami-1", SubnetId=ref("App2"), SecurityGroupIds=[ref("DbSg")]),
          lambda t: add(t, "Address", "AWS::EC2::EIP", Domain="vpc", InstanceId=ref("Box"))), (R, "Box", F, "Address")),
    ("instance without public address in an application subnet",
     lambda t: add(t, "Box", "AWS::EC2::Instance", ImageId="ami-1", SubnetId=ref("App2"), SecurityGroupIds=[ref("DbSg")]), None),
    ("RAM share of an application subnet",
     lambda t: add(t, "Share", "AWS::RAM::ResourceShare", Name="s", Principals=["111122223333"],
                   ResourceArns=[{"Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:subnet/${App1}"}]),
     (R, "Share", F, "other accounts")),
    ("a type the model does not know in an application subnet",
     lambda t: add(t, "Cache", "AWS::ElastiCache::ServerlessCache", Engine="redis", ServerlessCacheName="c", SubnetIds=APP_SUBNETS),
     (R, "Cache", NE, "not a type the network model knows")),
    # --- load balancers in front of the database ----------------------------------------------
    ("internal NLB without groups forwarding to the database's address", nlb_to("10.1.10.10"), (R, "Nlb", F, "no security group")),
    ("internal NLB forwarding to an application address", nlb_to("10.1.1.10"), None),
    ("internal NLB whose group admits the application tier, forwarding to the database",
     both(group("NlbSg", ingress("10.1.0.0/24")), nlb_to("10.1.10.10", groups=[ref("NlbSg")])), None),
    ("internal NLB whose group admits the dev VPC, forwarding to the database",
     both(group("NlbSg", ingress("10.0.0.0/16")), nlb_to("10.1.10.10", groups=[ref("NlbSg")])), (R, "NlbSg", F, "10.0.0.0/16")),
    ("NLB forwarding to an address the template does not fix", nlb_to({"Ref": "Target"}), (R, "NlbTargets", NE, "may be the database's")),
    ("ALB behind another load balancer's alb target group, forwarding to the database",
     both(nlb_to("10.1.10.10", groups=[ref("DbSg")]),
          lambda t: add(t, "Front", "AWS::ElasticLoadBalancingV2::LoadBalancer", Type="network", Scheme="internal", Subnets=APP_SUBNETS),
          lambda t: add(t, "FrontTargets", "AWS::ElasticLoadBalancingV2::TargetGroup", TargetType="alb", Protocol="TCP", Port=5432,
                        VpcId=ref("Vpc"), Targets=[{"Id": ref("Nlb")}]),
          lambda t: add(t, "FrontListener", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn=ref("Front"), Port=5432,
                        Protocol="TCP", DefaultActions=[{"Type": "forward", "TargetGroupArn": ref("FrontTargets")}])),
     (R, "Front", F, "no security group")),
    # --- routers, bridges, launch templates, defaults --------------------------------------------
    ("instance forwarding traffic (SourceDestCheck false) in an application subnet",
     lambda t: add(t, "Router", "AWS::EC2::Instance", ImageId="ami-1", SubnetId=ref("App1"), SourceDestCheck=False),
     (R, "Router", F, "SourceDestCheck")),
    ("another table routes through an instance in an application subnet",
     both(public_subnet, lambda t: add(t, "Box", "AWS::EC2::Instance", ImageId="ami-1", SubnetId=ref("App1")),
          lambda t: route(t, "ViaBox", "PubRt", "10.1.10.0/24", InstanceId=ref("Box"))), (R, "Box", F, "ViaBox")),
    ("an interface in an application subnet attached to a public instance",
     both(public_subnet, lambda t: add(t, "Box", "AWS::EC2::Instance", ImageId="ami-1", SubnetId=ref("Pub")),
          lambda t: add(t, "Eni", "AWS::EC2::NetworkInterface", SubnetId=ref("App2"), GroupSet=[ref("DbSg")]),
          lambda t: add(t, "Attach", "AWS::EC2::NetworkInterfaceAttachment", InstanceId=ref("Box"), NetworkInterfaceId=ref("Eni"), DeviceIndex="1")),
     (R, "Eni", F, "reachable from outside the VPC")),
    ("an auto scaling group whose launch template gives public IPs, in the application subnets",
     both(lambda t: add(t, "Lt", "AWS::EC2::LaunchTemplate", LaunchTemplateData={"NetworkInterfaces": [
              {"DeviceIndex": 0, "AssociatePublicIpAddress": True, "Groups": [ref("DbSg")]}]}),
          lambda t: add(t, "Asg", "AWS::AutoScaling::AutoScalingGroup", MinSize="1", MaxSize="2", VPCZoneIdentifier=APP_SUBNETS,
                        LaunchTemplate={"LaunchTemplateId": ref("Lt"), "Version": "1"})), (R, "Asg", F, "AssociatePublicIpAddress")),
    ("an auto scaling group of private application servers",
     both(group("AppSg"), lambda t: add(t, "Lt", "AWS::EC2::LaunchTemplate", LaunchTemplateData={"SecurityGroupIds": [ref("AppSg")]}),
          lambda t: add(t, "Asg", "AWS::AutoScaling::AutoScalingGroup", MinSize="1", MaxSize="2", VPCZoneIdentifier=APP_SUBNETS,
                        LaunchTemplate={"LaunchTemplateId": ref("Lt"), "Version": "1"})), None),
    ("a DMS replication instance in the application subnets (public unless told otherwise)",
     both(lambda t: add(t, "DmsSubnets", "AWS::DMS::ReplicationSubnetGroup", ReplicationSubnetGroupDescription="d", SubnetIds=APP_SUBNETS),
          lambda t: add(t, "Dms", "AWS::DMS::ReplicationInstance", ReplicationInstanceClass="dms.t3.medium",
                        ReplicationSubnetGroupIdentifier=ref("DmsSubnets"), VpcSecurityGroupIds=[ref("DbSg")])),
     (R, "Dms", F, "PubliclyAccessible is not set")),
    ("a private DMS replication instance in the application subnets",
     both(lambda t: add(t, "DmsSubnets", "AWS::DMS::ReplicationSubnetGroup", ReplicationSubnetGroupDescription="d", SubnetIds=APP_SUBNETS),
          lambda t: add(t, "Dms", "AWS::DMS::ReplicationInstance", ReplicationInstanceClass="dms.t3.medium", PubliclyAccessible=False,
                        ReplicationSubnetGroupIdentifier=ref("DmsSubnets"), VpcSecurityGroupIds=[ref("DbSg")])), None),
    # --- the database tier is isolated ------------------------------------------------------
    ("peering route from the database tier to the dev VPC (the migration)",
     lambda t: route(t, "Peer", "DbRt1", "10.0.0.0/16", VpcPeeringConnectionId="pcx-1"), None),
    ("peering route from the database tier to another range",
     lambda t: route(t, "Peer", "DbRt1", "172.16.0.0/16", VpcPeeringConnectionId="pcx-1"), (ISO, "Peer", F, "approved")),
    ("a second peering connection into the database tier",
     both(lambda t: route(t, "Peer", "DbRt1", "10.0.0.0/16", VpcPeeringConnectionId="pcx-1"),
          lambda t: route(t, "Peer2", "DbRt2", "10.0.0.0/16", VpcPeeringConnectionId="pcx-2")), (ISO, "Peer2", F, "second path")),
    ("NAT route from the database tier", lambda t: route(t, "Nat", "DbRt2", NatGatewayId="nat-1"), (ISO, "Nat", F, "outbound path")),
    ("transit gateway route into the database tier", lambda t: route(t, "Tgw", "DbRt3", "172.16.0.0/12", TransitGatewayId="tgw-1"),
     (ISO, "Tgw", F, "both ways")),
    ("gateway endpoint on a database table", lambda t: add(t, "S3", "AWS::EC2::VPCEndpoint", ServiceName="com.amazonaws.us-east-1.s3",
                                                           VpcId=ref("Vpc"), RouteTableIds=[ref("DbRt2")]), (ISO, "S3", F, "GatewayEndpoint")),
    ("internet route into a route table known only by its id",
     lambda t: add(t, "Lit", "AWS::EC2::Route", RouteTableId="rtb-0abc", DestinationCidrBlock="0.0.0.0/0", GatewayId="igw-1"),
     (ISO, "Lit", NE, "may be a database subnet's")),
    ("a route toward this VPC in a table known only by its id (the dev side of the migration)",
     lambda t: add(t, "DevSide", "AWS::EC2::Route", RouteTableId="rtb-0abc", DestinationCidrBlock="10.1.10.0/24", VpcPeeringConnectionId="pcx-1"),
     None),
    ("interface endpoint in the database subnets",
     lambda t: add(t, "Ssm", "AWS::EC2::VPCEndpoint", VpcEndpointType="Interface", ServiceName="com.amazonaws.us-east-1.ssm",
                   VpcId=ref("Vpc"), SubnetIds=DB_SUBNETS, SecurityGroupIds=[ref("DbSg")]), (ISO, "Ssm", F, "holds only the database")),
    ("function in a database subnet", lambda_in([ref("Db1")], [ref("DbSg")]), (ISO, "Worker", F, "holds only the database")),
    ("proxy in the database subnets (a door: allowed)",
     both(group("ProxySg", ingress("10.1.0.0/24")),
          lambda t: add(t, "Proxy", "AWS::RDS::DBProxy", DBProxyName="p", EngineFamily="POSTGRESQL", RoleArn="arn:r",
                        Auth=[], VpcSubnetIds=DB_SUBNETS, VpcSecurityGroupIds=[ref("ProxySg")])), None),
    ("transit gateway attachment in the database subnets",
     lambda t: add(t, "Attach", "AWS::EC2::TransitGatewayVpcAttachment", TransitGatewayId="tgw-1", VpcId=ref("Vpc"), SubnetIds=DB_SUBNETS),
     (ISO, "Attach", F, "holds only the database")),
    ("RAM share of a database subnet",
     lambda t: add(t, "Share", "AWS::RAM::ResourceShare", Name="s", Principals=["111122223333"],
                   ResourceArns=[{"Fn::Join": ["", ["arn:aws:ec2:us-east-1:123456789012:subnet/", ref("Db2")]]}]),
     (ISO, "Share", F, "database subnet Db2")),
    ("RAM share of a subnet named by its id",
     lambda t: add(t, "Share", "AWS::RAM::ResourceShare", Name="s", ResourceArns=["arn:aws:ec2:us-east-1:1:subnet/subnet-0abc"]),
     (ISO, "Share", NE, "names a subnet by its id")),
    ("the DB subnet group lists an application subnet", lambda t: props(t, "DbSubnetGroup")["SubnetIds"].append(ref("App1")),
     (ISO, "DbSubnetGroup", F, "application tier")),
    ("database subnet mapping public IPs", lambda t: props(t, "Db3").__setitem__("MapPublicIpOnLaunch", True),
     (ISO, "Db3", F, "MapPublicIpOnLaunch")),
    ("database subnet on the main table of an imported VPC",
     both(lambda t: t["Resources"].pop("DbRta1"), lambda t: props(t, "Db1").__setitem__("VpcId", IMPORT)),
     (ISO, "Db1", NE, "main route table")),
    # --- network ACLs: the application tier must get through --------------------------------------
    ("a NACL on the database subnets that lets the application tier through", nacl(*OPEN_ACL), None),
    ("a NACL on the database subnets that denies the application tier",
     nacl((50, False, "deny", "10.1.0.0/24", (5432, 5432)), *OPEN_ACL), (R, "AclEntry0", F, "blocks")),
    ("a NACL without return ports", nacl((100, False, "allow", "10.1.0.0/16", (5432, 5432)), (100, True, "allow", "10.1.0.0/16", (5432, 5432))),
     (R, "Acl", F, "replies")),
    ("a deny entry on the VPC's default NACL",
     lambda t: add(t, "Deny", "AWS::EC2::NetworkAclEntry", NetworkAclId=getatt("Vpc", "DefaultNetworkAcl"), RuleNumber=10, Protocol=-1,
                   RuleAction="deny", Egress=False, CidrBlock="10.1.1.0/24"), (R, "Deny", F, "blocks")),
    ("a deny entry on a NACL known only by its id",
     lambda t: add(t, "Deny", "AWS::EC2::NetworkAclEntry", NetworkAclId="acl-0abc", RuleNumber=10, Protocol=-1,
                   RuleAction="deny", Egress=False, CidrBlock="10.1.1.0/24"), (R, "Deny", NE, "does not define")),
    # --- the plan --------------------------------------------------------------------------
    ("application and database CIDRs swapped", swap_tiers, (R, "DbSg", F, "database tier")),
    ("an application subnet re-tagged out of the tier",
     lambda t: props(t, "App3")["Tags"].__setitem__(0, {"Key": "aws-cdk:subnet-name", "Value": "public"}), (R, "DbSg", F, "App3")),
]  # fmt: skip


@pytest.mark.parametrize(("case", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_model_follows_each_path(case: str, edit: Edit, expected: Expected) -> None:
    template = staging_network()
    edit(template)
    world = {"conditions": {"Debug": True}} if "Debug" in str(template) else None
    found = findings(template, world)
    if expected is None:
        assert found == [], found
        return
    policy, culprit, status, word = expected
    matching = [f for f in found if (f.policy, f.culprit, f.status) == (policy, culprit, status)]
    assert matching, found
    assert any(word in f.reason for f in matching), matching


PLAN_CASES = [
    ("application and database CIDRs swapped", "Db1", "holds the plan's application subnet 10.1.0.0/24"),
    ("an application subnet re-tagged out of the tier", "App3", "not in the application tier"),
]


@pytest.mark.parametrize(("case", "culprit", "word"), PLAN_CASES)
def test_the_plan_catches_tier_changes(case: str, culprit: str, word: str) -> None:
    template = staging_network()
    dict((c[0], c[1]) for c in CASES)[case](template)
    plan = [f for f in findings(template) if f.policy == P]
    assert any(f.culprit == culprit and f.status == F and word in f.reason for f in plan), plan


def test_an_application_subnet_outside_the_plan() -> None:
    template = staging_network()
    props(template, "App2")["CidrBlock"] = "10.1.5.0/24"
    props(template, "DbSg")["SecurityGroupIngress"][1]["CidrIp"] = "10.1.5.0/24"
    found = findings(template)
    assert [(f.policy, f.culprit) for f in found if f.status == F] == [(P, "App2"), (P, "Vpc")], found


def test_a_second_vpc_leaves_the_database_vpc_undecided_for_the_plan() -> None:
    template = staging_network()
    add(template, "Other", "AWS::EC2::VPC", CidrBlock="10.9.0.0/16")
    props(template, "Db2")["VpcId"] = ref("Other")
    plan = [f for f in findings(template) if f.policy == P]
    assert [(f.culprit, f.status) for f in plan] == [("Other", NE)], plan


def test_the_condition_false_world_has_no_such_rule() -> None:
    template = staging_network()
    dict((c[0], c[1]) for c in CASES)["rule hidden behind an undecidable condition (the world where it exists)"](
        template
    )
    assert findings(template, {"conditions": {"Debug": False}}) == []


def test_verdicts_land_on_the_culprit_and_the_subjects_pass() -> None:
    template = staging_network()
    db_ingress(CidrIp="0.0.0.0/0")(template)
    built = network.build(lib.Context(template, raw=template))
    assert built.verdict(R, "Extra").status == F
    assert built.verdict(R, "Db").status == lib.PASSED
    assert "10.1.0.0/24 (application tier)" in built.verdict(R, "Db").reason
    assert built.verdict(ISO, "DbSubnetGroup").status == lib.PASSED
    assert built.verdict(R, "Restrict").status == lib.NOT_APPLICABLE


def test_the_model_is_built_once_per_template() -> None:
    template = staging_network()
    first = network.model(lib.Context(template, raw=template))
    assert network.model(lib.Context(template, raw=template)) is first
    other = staging_network()
    assert network.model(lib.Context(other, raw=other)) is not first


def test_the_application_tier_is_the_one_infra_names() -> None:
    from infra.domains.network import APP_SUBNET_GROUP  # noqa: PLC0415
    from policies.lib import stg_network_topology as topo  # noqa: PLC0415

    assert topo.APP_TIER == APP_SUBNET_GROUP
