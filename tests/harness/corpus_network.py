"""Network disguises: the real synthesized stack with a path into the database hidden in the template as a whole.

Every case here passed the gate (or passed for the wrong reason) while the network policies
judged security-group rules one by one against the spec's CIDR literals and followed only the
database subnets' route tables. Each now fails on the reachability model
(``policies/lib/stg_network.py``): CKV_STG_NET_1 (who reaches the database), CKV_STG_NET_3 (the
database tier is isolated), CKV_STG_NET_7 (the tiers are the spec's plan) or CKV_STG_NET_6 (the
VPC's range). Cases find what they edit by type, tag and shape, never by a logical id.
Registered in ``tests/harness/evasions.py``; gated by ``tests/harness/test_evasions.py``.
"""

from __future__ import annotations

from typing import Any

from harness.verdict.mutations import db_instance, db_port, resources_of
from policies.lib import stg_policy_lib as lib
from tests.harness.evasions import FAILED, Evasion, Template

F = FAILED
TIER_TAG = "aws-cdk:subnet-name"
# What a careful author adds to every new resource, so nothing but the hidden path can fail it.
TAGS = [{"Key": key, "Value": value} for key, value in sorted(lib.REQUIRED_TAGS.items())]
ACM = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100"


def _ref(name: str) -> dict[str, str]:
    return {"Ref": name}


def _getatt(name: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [name, attribute]}


def _add(t: Template, logical_id: str, resource_type: str, **properties: Any) -> None:
    if lib.taggable(resource_type):
        properties = {**properties, "Tags": TAGS}
    t["Resources"][logical_id] = {"Type": resource_type, "Properties": properties}


def _each(t: Template, resource_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, Properties) of every resource of a type, sorted by logical id."""
    return [(lid, r.get("Properties", {})) for lid, r in resources_of(t, resource_type)]


def _vpc(t: Template) -> str:
    return next(lid for lid, _ in resources_of(t, "AWS::EC2::VPC"))


def _tier(t: Template, name: str) -> list[str]:
    """The subnets CDK tagged with the subnet group ``name``, in template order."""
    return [
        lid for lid, props in _each(t, "AWS::EC2::Subnet") if {"Key": TIER_TAG, "Value": name} in props.get("Tags", [])
    ]


def _table(t: Template, subnet: str) -> str:
    return str(
        next(
            p["RouteTableId"]["Ref"]
            for _, p in _each(t, "AWS::EC2::SubnetRouteTableAssociation")
            if p["SubnetId"] == _ref(subnet)
        )
    )


def _group(t: Template, description_word: str) -> str:
    return next(lid for lid, p in _each(t, "AWS::EC2::SecurityGroup") if description_word in p["GroupDescription"])


def _database_group(t: Template) -> str:
    return str(db_instance(t)["VPCSecurityGroups"][0]["Fn::GetAtt"][0])


def _internet_gateway(t: Template) -> str:
    _add(t, "Gateway", "AWS::EC2::InternetGateway")
    _add(
        t, "GatewayAttachment", "AWS::EC2::VPCGatewayAttachment", VpcId=_ref(_vpc(t)), InternetGatewayId=_ref("Gateway")
    )
    return "Gateway"


def _route(t: Template, logical_id: str, table: str, destination: str, **target: Any) -> None:
    _add(t, logical_id, "AWS::EC2::Route", RouteTableId=_ref(table), DestinationCidrBlock=destination, **target)


def _halves_to(t: Template, prefix: str, table: str, **target: Any) -> None:
    """0.0.0.0/0 as two halves: no route reads as a default route, together they are one."""
    _route(t, f"{prefix}Low", table, "0.0.0.0/1", **target)
    _route(t, f"{prefix}High", table, "128.0.0.0/1", **target)


def _endpoint_policy(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        "Action": [f"{service}:GetObject"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceAccount": _ref("AWS::AccountId")}}}]}  # fmt: skip


# ------------------------------------------------------------------------------------------------ tiers


def _application_subnet_made_public(t: Template) -> None:
    # The security group keeps admitting the spec's 10.1.2.0/24: it is now a subnet the internet reaches.
    gateway = _internet_gateway(t)
    _halves_to(t, "Internet", _table(t, _tier(t, "app")[2]), GatewayId=_ref(gateway))


def _tiers_swapped(t: Template) -> None:
    # The database group's literal CIDRs (the spec's application range) now name the database subnets.
    for app, database in zip(_tier(t, "app"), _tier(t, "database"), strict=True):
        app_props, db_props = t["Resources"][app]["Properties"], t["Resources"][database]["Properties"]
        app_props["CidrBlock"], db_props["CidrBlock"] = db_props["CidrBlock"], app_props["CidrBlock"]


def _application_subnet_retagged(t: Template) -> None:
    # The third application subnet leaves the tier and faces the internet; the rule on its CIDR stays.
    subnet = _tier(t, "app")[2]
    tags = t["Resources"][subnet]["Properties"]["Tags"]
    tags[tags.index({"Key": TIER_TAG, "Value": "app"})] = {"Key": TIER_TAG, "Value": "ingress"}
    _halves_to(t, "Internet", _table(t, subnet), GatewayId=_ref(_internet_gateway(t)))


def _added_cidr_block(t: Template) -> None:
    _add(t, "ExtraRange", "AWS::EC2::VPCCidrBlock", VpcId=_ref(_vpc(t)), CidrBlock="100.64.0.0/16")
    template_subnet = t["Resources"][_tier(t, "app")[0]]
    extra = {**template_subnet, "Properties": {**template_subnet["Properties"], "CidrBlock": "100.64.0.0/24"},
             "DependsOn": ["ExtraRange"], "Metadata": {}}  # fmt: skip
    t["Resources"]["ExtraAppSubnet"] = extra


# ------------------------------------------------------------------------------------------------ paths in


def _second_peering_into_database(t: Template) -> None:
    _add(t, "PartnerPeering", "AWS::EC2::VPCPeeringConnection", VpcId=_ref(_vpc(t)), PeerVpcId="vpc-0fedcba9876543210")
    for index, subnet in enumerate(_tier(t, "database")):
        _route(
            t, f"PartnerRoute{index}", _table(t, subnet), "172.16.0.0/16", VpcPeeringConnectionId=_ref("PartnerPeering")
        )


def _peering_on_the_application_tier(t: Template) -> None:
    # The migration's peering, routed from the application tables instead of the database's.
    _add(t, "DevPeering", "AWS::EC2::VPCPeeringConnection", VpcId=_ref(_vpc(t)), PeerVpcId="vpc-0a1b2c3d4e5f60718")
    for index, subnet in enumerate(_tier(t, "app")):
        _route(t, f"DevRoute{index}", _table(t, subnet), "10.0.0.0/16", VpcPeeringConnectionId=_ref("DevPeering"))


def _transit_gateway_into_application(t: Template) -> None:
    app = _tier(t, "app")
    _add(t, "Transit", "AWS::EC2::TransitGatewayVpcAttachment", TransitGatewayId="tgw-0123456789abcdef0",
         VpcId=_ref(_vpc(t)), SubnetIds=[_ref(s) for s in app])  # fmt: skip
    for index, subnet in enumerate(app):
        t["Resources"][f"TransitRoute{index}"] = {"Type": "AWS::EC2::Route", "DependsOn": ["Transit"], "Properties": {
            "RouteTableId": _ref(_table(t, subnet)), "DestinationCidrBlock": "172.16.0.0/12",
            "TransitGatewayId": "tgw-0123456789abcdef0"}}  # fmt: skip


def _vpn_propagation_into_application(t: Template) -> None:
    _add(t, "Vpn", "AWS::EC2::VPNGateway", Type="ipsec.1")
    _add(t, "VpnAttachment", "AWS::EC2::VPCGatewayAttachment", VpcId=_ref(_vpc(t)), VpnGatewayId=_ref("Vpn"))
    t["Resources"]["VpnRoutes"] = {"Type": "AWS::EC2::VPNGatewayRoutePropagation", "DependsOn": ["VpnAttachment"],
                                   "Properties": {"VpnGatewayId": _ref("Vpn"),
                                                  "RouteTableIds": [_ref(_table(t, s)) for s in _tier(t, "app")]}}  # fmt: skip


def _endpoint_service_to_the_database(t: Template) -> None:
    # An internal NLB in the application subnets forwards to the database's address; PrivateLink exposes it.
    app = [_ref(s) for s in _tier(t, "app")]
    _add(t, "Forwarder", "AWS::ElasticLoadBalancingV2::LoadBalancer", Type="network", Scheme="internal", Subnets=app,
         LoadBalancerAttributes=[{"Key": "deletion_protection.enabled", "Value": "true"},
                                 {"Key": "access_logs.s3.enabled", "Value": "true"},
                                 {"Key": "access_logs.s3.bucket", "Value": "logs-staging-main"}])  # fmt: skip
    _add(t, "ForwarderTargets", "AWS::ElasticLoadBalancingV2::TargetGroup", TargetType="ip", Protocol="TCP",
         Port=db_port(t), VpcId=_ref(_vpc(t)), Targets=[{"Id": "10.1.10.10", "Port": db_port(t)}])  # fmt: skip
    _add(t, "ForwarderListener", "AWS::ElasticLoadBalancingV2::Listener", LoadBalancerArn=_ref("Forwarder"), Protocol="TLS",
         Port=db_port(t), Certificates=[{"CertificateArn": ACM}], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
         DefaultActions=[{"Type": "forward", "TargetGroupArn": _ref("ForwarderTargets")}])  # fmt: skip
    # Acceptance required: every consumer the owner accepts (any account) reaches the database through it.
    _add(
        t,
        "Exposure",
        "AWS::EC2::VPCEndpointService",
        NetworkLoadBalancerArns=[_ref("Forwarder")],
        AcceptanceRequired=True,
    )


def _lattice_resource_gateway(t: Template) -> None:
    database = next(lid for lid, _ in resources_of(t, "AWS::RDS::DBInstance"))
    _add(t, "Gateway", "AWS::VpcLattice::ResourceGateway", Name="gateway-staging-main", VpcIdentifier=_ref(_vpc(t)),
         SubnetIds=[_ref(s) for s in _tier(t, "app")], SecurityGroupIds=[_getatt(_group(t, "Secrets Manager"), "GroupId")])  # fmt: skip
    _add(t, "DatabaseResource", "AWS::VpcLattice::ResourceConfiguration", Name="database-staging-main",
         ResourceGatewayId=_ref("Gateway"), ResourceConfigurationType="ARN",
         ResourceConfigurationDefinition={"ArnResource": _getatt(database, "DBInstanceArn")})  # fmt: skip
    _add(t, "Network", "AWS::VpcLattice::ServiceNetwork", Name="network-staging-main")
    _add(t, "Published", "AWS::VpcLattice::ServiceNetworkResourceAssociation",
         ResourceConfigurationId=_ref("DatabaseResource"), ServiceNetworkId=_ref("Network"))  # fmt: skip


def _client_vpn_in_application(t: Template) -> None:
    _add(t, "RemoteAccess", "AWS::EC2::ClientVpnEndpoint", ClientCidrBlock="172.31.0.0/22",
         ServerCertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-0b0a-0908-0706-050403020100",
         AuthenticationOptions=[{"Type": "certificate-authentication", "MutualAuthentication": {
             "ClientRootCertificateChainArn": "arn:aws:acm:us-east-1:123456789012:certificate/00010203-0405-0607-0809-0a0b0c0d0e0f"}}],
         ConnectionLogOptions={"Enabled": False}, VpcId=_ref(_vpc(t)),
         SecurityGroupIds=[_getatt(_group(t, "Secrets Manager"), "GroupId")])  # fmt: skip
    _add(t, "RemoteAccessSubnet", "AWS::EC2::ClientVpnTargetNetworkAssociation", ClientVpnEndpointId=_ref("RemoteAccess"),
         SubnetId=_ref(_tier(t, "app")[0]))  # fmt: skip


def _instance_connect_in_application(t: Template) -> None:
    _add(t, "Jump", "AWS::EC2::InstanceConnectEndpoint", SubnetId=_ref(_tier(t, "app")[1]),
         SecurityGroupIds=[_getatt(_group(t, "Secrets Manager"), "GroupId")])  # fmt: skip


def _interface_endpoint_in_database_subnets(t: Template) -> None:
    endpoint = next(p for _, p in _each(t, "AWS::EC2::VPCEndpoint"))
    _add(t, "SsmEndpoint", "AWS::EC2::VPCEndpoint", **{**endpoint, "ServiceName": "com.amazonaws.us-east-1.ssm",
                                                       "SubnetIds": [_ref(s) for s in _tier(t, "database")]})  # fmt: skip


def _database_subnet_shared(t: Template) -> None:
    subnet = _tier(t, "database")[0]
    # No principals in the template: whom it is shared with is associated later, outside it.
    _add(t, "Shared", "AWS::RAM::ResourceShare", Name="share-staging-main", AllowExternalPrincipals=True,
         ResourceArns=[{"Fn::Sub": f"arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:subnet/${{{subnet}}}"}])  # fmt: skip


def _gateway_endpoint_on_database_tables(t: Template) -> None:
    _add(t, "S3Endpoint", "AWS::EC2::VPCEndpoint", VpcEndpointType="Gateway", ServiceName="com.amazonaws.us-east-1.s3",
         VpcId=_ref(_vpc(t)), RouteTableIds=[_ref(_table(t, s)) for s in _tier(t, "database")],
         PolicyDocument=_endpoint_policy("s3"))  # fmt: skip


# ------------------------------------------------------------------------------------------------ groups and NACLs


def _restrict_names_another_group(t: Template) -> None:
    restrict = next(p for _, p in _each(t, "Custom::VpcRestrictDefaultSG"))
    restrict["DefaultSecurityGroupId"] = _getatt(_group(t, "Secrets Manager"), "GroupId")


def _network_acl_blocks_the_application(t: Template) -> None:
    _add(t, "DatabaseAcl", "AWS::EC2::NetworkAcl", VpcId=_ref(_vpc(t)))
    for index, subnet in enumerate(_tier(t, "database")):
        _add(
            t,
            f"DatabaseAclOn{index}",
            "AWS::EC2::SubnetNetworkAclAssociation",
            SubnetId=_ref(subnet),
            NetworkAclId=_ref("DatabaseAcl"),
        )
    for egress in (False, True):
        _add(t, f"DatabaseAclVpc{egress}", "AWS::EC2::NetworkAclEntry", NetworkAclId=_ref("DatabaseAcl"), RuleNumber=100,
             Protocol=6, RuleAction="allow", Egress=egress, CidrBlock="10.1.0.0/16", PortRange={"From": 0, "To": 65535})  # fmt: skip
    _add(t, "DatabaseAclDeny", "AWS::EC2::NetworkAclEntry", NetworkAclId=_ref("DatabaseAcl"), RuleNumber=10, Protocol=6,
         RuleAction="deny", Egress=False, CidrBlock="10.1.1.0/24", PortRange={"From": db_port(t), "To": db_port(t)})  # fmt: skip


def _default_acl_blocks_the_application(t: Template) -> None:
    _add(t, "QuietDeny", "AWS::EC2::NetworkAclEntry", NetworkAclId=_getatt(_vpc(t), "DefaultNetworkAcl"), RuleNumber=20,
         Protocol=-1, RuleAction="deny", Egress=True, CidrBlock="10.1.0.0/23")  # fmt: skip


def _e(name: str, category: str, disguise: str, expected: set[tuple[str, str]], apply: Any) -> Evasion:
    return Evasion(name=name, category=category, disguise=disguise, expected=frozenset(expected), apply=apply)


NET_1, NET_3 = ("CKV_STG_NET_1", F), ("CKV_STG_NET_3", F)
CASES: list[Evasion] = [
    _e("app-subnet-made-public", "network-tiers",
       "the third application subnet routes 0.0.0.0/1 and 128.0.0.0/1 to an internet gateway; the database still admits its CIDR",
       {NET_1}, _application_subnet_made_public),
    _e("tiers-swapped", "network-tiers",
       "application and database subnets swap CIDRs: the spec's literal CIDRs on the database group now name the database subnets",
       {NET_1, ("CKV_STG_NET_7", F)}, _tiers_swapped),
    _e("app-subnet-retagged", "network-tiers",
       "an application subnet re-tagged as an internet-facing tier keeps the spec's CIDR the database admits",
       {NET_1, ("CKV_STG_NET_7", F)}, _application_subnet_retagged),
    _e("vpc-cidr-block", "network-tiers", "a secondary VPC CIDR block holding a new application-tier subnet outside the plan",
       {("CKV_STG_NET_6", F), ("CKV_STG_NET_7", F)}, _added_cidr_block),
    _e("second-peering-into-database", "network-paths", "a second VPC peering routed into the database subnets (not 0.0.0.0/0)",
       {NET_3}, _second_peering_into_database),
    _e("peering-on-application-tier", "network-paths", "the migration's peering routed from the application subnets instead",
       {NET_1}, _peering_on_the_application_tier),
    _e("transit-gateway-into-application", "network-paths", "a transit gateway attachment and routes in the application subnets",
       {NET_1}, _transit_gateway_into_application),
    _e("vpn-propagation-into-application", "network-paths", "a VPN gateway propagating on-premises routes into the application tables",
       {NET_1}, _vpn_propagation_into_application),
    _e("endpoint-service-to-database", "network-paths",
       "an internal NLB in the application subnets targets the database's address and an endpoint service (PrivateLink) exposes it",
       {NET_1}, _endpoint_service_to_the_database),
    _e("lattice-resource-gateway", "network-paths",
       "a VPC Lattice resource gateway in the application subnets publishes the database to a service network",
       {NET_1}, _lattice_resource_gateway),
    _e("client-vpn-in-application", "network-paths", "a Client VPN associated with an application subnet (users get its addresses)",
       {NET_1}, _client_vpn_in_application),
    _e("instance-connect-in-application", "network-paths", "an EC2 Instance Connect endpoint (tunnels any port) in an application subnet",
       {NET_1}, _instance_connect_in_application),
    _e("interface-endpoint-in-database-subnets", "network-paths", "an interface endpoint with a reviewed policy placed in the database subnets",
       {NET_3}, _interface_endpoint_in_database_subnets),
    _e("database-subnet-shared", "network-paths", "a RAM share of a database subnet (its principals associated outside the template)",
       {NET_3}, _database_subnet_shared),
    _e("gateway-endpoint-on-database-tables", "network-paths", "an S3 gateway endpoint (with a policy) on the database route tables",
       {NET_3}, _gateway_endpoint_on_database_tables),
    _e("restrict-names-another-group", "reachability",
       "CDK's restrict-default-SG custom resource pointed at another group: the VPC's default group stays open",
       {NET_1}, _restrict_names_another_group),
    _e("nacl-blocks-application", "reachability", "a NACL-only change: the database subnets' NACL denies one application subnet",
       {NET_1}, _network_acl_blocks_the_application),
    _e("default-nacl-blocks-application", "reachability",
       "a deny entry on the VPC's default NACL drops the replies to two application subnets", {NET_1},
       _default_acl_blocks_the_application),
]  # fmt: skip
