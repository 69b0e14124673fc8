"""The network reachability model of one template: who can reach the database, decided from the whole template.

The network policies (CKV_STG_NET_1 reachability of the database, CKV_STG_NET_3 isolation of
the database subnets, CKV_STG_NET_7 the tiers are the spec's network plan) no longer judge
rules one by one: they ask this model, which is built once per template (per deploy-time
world) and memoised, so checkov's per-resource calls cost a dictionary lookup.

How it decides (policies/README.md, "The network model", says it for auditors):

1. **Facts** (:mod:`stg_network_topology`): VPCs, subnets and their tiers (the application
   tier is the subnets tagged ``aws-cdk:subnet-name=app``; the database tier the subnets of the
   DB subnet groups), route tables (explicit associations, else the VPC's main table), routes,
   VPN route propagations, gateway endpoints, network ACLs (the default NACL when none is
   associated). All values come from the shared resolver.
2. **Members** (:mod:`stg_network_members`): every resource that attaches security groups or
   places interfaces in subnets, where it sits, whether it is a door into the database, a relay
   from outside the VPC, or reachable from the internet.
3. **Reach** (:mod:`stg_network_groups`): every source the doors' security groups admit, on
   any port, and the VPC default group of the database's VPC. Load balancers whose target
   groups name the database's addresses are doors too (:mod:`stg_network_forwarders`).
4. **Paths** (:mod:`stg_network_paths`): which subnets can be reached from outside the VPC,
   the database tier's isolation, the plan; and the NACL path from the application tier
   (:mod:`stg_network_acls`).

Every finding is carried by exactly one resource, the one whose properties open the path (a
rule, a route, a share, a relay...), so a report points at the line that did it and a waiver
covers exactly that resource. A path the model cannot decide is NOT EVALUATED, naming what it
could not decide; a resource the model read and found sound passes with the reason.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from policies.lib import stg_network_forwarders as forwarders
from policies.lib import stg_network_groups as groups
from policies.lib import stg_network_members as mem
from policies.lib import stg_network_paths as paths
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib
from policies.lib.stg_network_topology import ISOLATION, PLAN, REACH, Finding

__all__ = ["ISOLATION", "PLAN", "REACH", "Finding", "NetworkModel", "model", "verdict"]

_MEMO: OrderedDict[tuple[int, str], tuple[object, NetworkModel]] = OrderedDict()
_MEMO_SIZE = 8  # a warm checkov process scans many templates one after the other


@dataclass(frozen=True)
class NetworkModel:
    findings: tuple[Finding, ...]
    # policy -> logical id -> why it passes (the resources each policy read and found sound)
    passes: dict[str, dict[str, str]] = field(default_factory=dict)

    def verdict(self, policy: str, logical_id: str) -> lib.Verdict:
        own = [lib.Verdict(f.status, f.reason) for f in self.findings if f.policy == policy and f.culprit == logical_id]
        if own:
            return lib.worst(own)
        reason = self.passes.get(policy, {}).get(logical_id)
        if reason is not None:
            return lib.passed(reason)
        return lib.not_applicable("opens no path the network model follows into the database or its subnets")


def model(ctx: lib.Context) -> NetworkModel:
    """The model of ``ctx``'s template, built once per template object (and world) and memoised."""
    key = (id(ctx.template), ctx.world)
    cached = _MEMO.get(key)
    if cached is not None and cached[0] is ctx.template:
        _MEMO.move_to_end(key)
        return cached[1]
    built = build(ctx)
    _MEMO[key] = (ctx.template, built)
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return built


def verdict(ctx: lib.Context, policy: str, logical_id: str) -> lib.Verdict:
    return model(ctx).verdict(policy, logical_id)


def build(ctx: lib.Context) -> NetworkModel:
    topology = topo.Topology(ctx)
    members = mem.Members(topology)
    tiers = topo.tiers_of(topology)
    doors, unknown_targets = forwarders.forwarders(topology, tiers)
    reach = groups.Reach(topology, members, tiers, doors)
    reach_findings, summaries = reach.findings()
    findings = unknown_targets + reach_findings + paths.Paths(topology, members, tiers).findings()
    return NetworkModel(tuple(_present(topology, findings)), _passes(topology, reach, tiers, summaries))


def _present(topology: topo.Topology, findings: list[Finding]) -> list[Finding]:
    """Every finding on a resource of the template (a key such as ``<vpc>.main`` is carried by the VPC)."""
    placed = []
    for finding in findings:
        culprit = finding.culprit
        if culprit not in topology.types:
            culprit = culprit.split(".", 1)[0]
        placed.append(Finding(finding.policy, culprit, finding.status, finding.reason))
    return list(dict.fromkeys(placed))


def _passes(
    topology: topo.Topology, reach: groups.Reach, tiers: topo.Tiers, summaries: dict[str, str]
) -> dict[str, dict[str, str]]:
    reach_passes = dict(summaries)
    reach_passes.update(
        {
            g: "a security group of the database: every source it admits is judged"
            for g in reach.door_groups
            if g in topology.types
        }
    )
    reach_passes.update(
        {s: "application subnet: private (no public IPs, no path in from outside the VPC)" for s in tiers.app}
    )
    isolation = {
        s: "database subnet: no public IPs, no route out but the approved peering, nothing else in it"
        for s in tiers.database
    }
    isolation.update(
        {
            g: "lists only isolated database subnets: no public IPs, no route out but the approved peering to the dev VPC"
            for g in topology.subnet_groups
        }
    )
    plan = {s: "application subnet of the network plan" for s in tiers.app}
    if tiers.vpc:
        plan[tiers.vpc] = "its application tier is the network plan: " + ", ".join(lib.spec().network.app_subnet_cidrs)
    return {REACH: reach_passes, ISOLATION: isolation, PLAN: plan}
