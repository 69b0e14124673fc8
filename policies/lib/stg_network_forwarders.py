"""Load balancers that forward to the database: doors into it, like its RDS proxies.

A load balancer reaches its targets from its own addresses: one in the application subnets
whose target group names an address of the database tier hands the database whatever reaches
the load balancer. Such a load balancer is a door, and its reachability is judged like the
database's (``stg_network_groups``): reachable from outside the VPC fails, no security group
(a network load balancer) admits every source routed to it and fails, its groups' sources must
be the application tier. A target group of type ``alb`` forwards to another load balancer, so
doors are followed to a fixed point. A target the template does not determine may be the
database's address: NOT EVALUATED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib

LOAD_BALANCER = "AWS::ElasticLoadBalancingV2::LoadBalancer"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


def forwarders(topology: topo.Topology, tiers: topo.Tiers) -> tuple[dict[str, str], list[topo.Finding]]:
    """(load balancer -> why it forwards to the database, findings for targets the template does not determine)."""
    door_groups, alb_targets, findings = _target_groups_of_the_database(topology, tiers)
    balancers_of = _listeners(topology)
    doors: dict[str, str] = {}
    changed = True
    while changed:  # a load balancer forwarding to a door is a door
        changed = False
        for group, why in list(door_groups.items()):
            for balancer in balancers_of.get(group, []):
                if balancer not in doors:
                    doors[balancer] = f"it forwards to the database through target group {group} ({why})"
                    changed = True
        for group, balancers in alb_targets.items():
            door = next((b for b in balancers if b in doors), None)
            if door is not None and group not in door_groups:
                door_groups[group] = f"its target {door} forwards to the database"
                changed = True
    return doors, findings


def _target_groups_of_the_database(
    topology: topo.Topology, tiers: topo.Tiers
) -> tuple[dict[str, str], dict[str, list[str]], list[topo.Finding]]:
    """(target group -> why it targets the database, target group -> load balancers it targets, findings)."""
    findings: list[topo.Finding] = []
    door_groups: dict[str, str] = {}
    alb_targets: dict[str, list[str]] = {}
    for group in topology.of_type(TARGET_GROUP):
        props = topology.props(group)
        kind = props.get("TargetType", "instance") if isinstance(props, Mapping) else ""
        targets = lib.as_list(props.get("Targets")) if isinstance(props, Mapping) else []
        addresses = [t.get("Id") if isinstance(t, Mapping) else t for t in targets]
        if kind == "alb":
            alb_targets[group] = [b for b in (topology.named(a, LOAD_BALANCER) for a in addresses) if b is not None]
        for address in addresses if kind == "ip" else []:
            found = _ip_target(group, address, tiers)
            if isinstance(found, topo.Finding):
                findings.append(found)
            elif found:
                door_groups[group] = found
    return door_groups, alb_targets, findings


def _ip_target(group: str, address: Any, tiers: topo.Tiers) -> str | topo.Finding:
    """Why an IP target is an address of the database tier ("" when it is not)."""
    ip = topo.network(address)
    if ip is None:
        why = lib.undetermined(address) or lib.describe(address)
        return topo.Finding(
            topo.REACH,
            group,
            lib.NOT_EVALUATED,
            f"target {why} is not an address the template fixes: it may be the database's",
        )
    if topo.overlaps(ip, tiers.database_networks):
        return f"{ip} is in the database tier"
    return ""


def _listeners(topology: topo.Topology) -> dict[str, list[str]]:
    """Target group -> the load balancers whose listeners (or listener rules) forward to it."""
    balancer_of_listener = {
        listener: topology.named(topology.prop(listener, "LoadBalancerArn"), LOAD_BALANCER)
        for listener in topology.of_type(LISTENER)
    }
    found: dict[str, list[str]] = {}
    for source in topology.of_type(LISTENER, LISTENER_RULE):
        if topology.types[source] == LISTENER:
            balancer = balancer_of_listener.get(source)
            actions = topology.prop(source, "DefaultActions")
        else:
            balancer = balancer_of_listener.get(topology.named(topology.prop(source, "ListenerArn"), LISTENER) or "")
            actions = topology.prop(source, "Actions")
        for group in _target_groups(topology, actions):
            if balancer is not None:
                found.setdefault(group, []).append(balancer)
    return found


def _target_groups(topology: topo.Topology, actions: Any) -> list[str]:
    groups = []
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, Mapping):
            continue
        values = [action.get("TargetGroupArn", cfn.NO_VALUE)]
        forward = action.get("ForwardConfig")
        if isinstance(forward, Mapping):
            values += [
                t.get("TargetGroupArn") for t in lib.as_list(forward.get("TargetGroups")) if isinstance(t, Mapping)
            ]
        groups += [g for g in (topology.named(v, TARGET_GROUP) for v in values) if g is not None]
    return groups
