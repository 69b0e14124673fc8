"""The application tier's path to the database through the network ACLs (REACH findings of the network model).

NACLs cannot open a path that the security groups close; they can close one. The database's
clients are the application tier, so the ACLs of both tiers (the VPC's default NACL, with any
entries the template adds to it, unless a subnet is associated with another) must let the
database port through from every application subnet to every database subnet, and the replies
back to the clients' ephemeral ports (Linux's default range, 32768-60999). Entries are read in
rule-number order; an entry covering only part of a tier's CIDR allows nothing for the whole of
it, a deny on any part of it blocks. A deny entry on a NACL the template does not define may be
on the default NACL: NOT EVALUATED.
"""

from __future__ import annotations

from collections.abc import Mapping

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_network_members as mem
from policies.lib import stg_network_topology as topo
from policies.lib import stg_policy_lib as lib

EPHEMERAL = (32768, 60999)  # Linux's default ephemeral ports: where a client's replies come back
ENGINE_PORTS = {"postgres": 5432, "mysql": 3306, "mariadb": 3306, "oracle": 1521, "sqlserver": 1433}


def _ports(topology: topo.Topology, members: mem.Members) -> list[tuple[str, int | None]]:
    ports = []
    for door in topology.of_type(*mem.DATABASE_TYPES):
        if door not in members.all:
            continue  # an instance of a cluster
        props = topology.props(door)
        props = props if isinstance(props, Mapping) else {}
        value = props.get("Port", cfn.NO_VALUE)
        engine = str(props.get("Engine", ""))
        if value is cfn.NO_VALUE:
            port = next((p for name, p in ENGINE_PORTS.items() if name in engine), None)
        else:
            number = lib.as_number(value)
            port = int(number) if number is not None else None
        ports.append((door, port))
    return ports


def acl_findings(topology: topo.Topology, members: mem.Members, tiers: topo.Tiers) -> list[topo.Finding]:
    """The application tier's path to the database through both tiers' network ACLs (see the module docstring)."""
    entries, open_ended = topology.acl_entries
    found = [topo.Finding(topo.REACH, culprit, lib.NOT_EVALUATED, why) for culprit, why in open_ended]
    seen: set[str] = set()
    for door, port in _ports(topology, members):
        if port is None:
            found.append(
                topo.Finding(
                    topo.REACH,
                    door,
                    lib.NOT_EVALUATED,
                    "its port is not fixed by the template: the network ACLs cannot be judged",
                )
            )
            continue
        for app in tiers.app:
            for database in tiers.database:
                for finding in _acl_pair(topology, entries, app, database, port):
                    if finding.culprit not in seen:
                        seen.add(finding.culprit)
                        found.append(finding)
    return found


def _acl_pair(
    topology: topo.Topology, entries: Mapping[str, list[topo.AclEntry]], app: str, database: str, port: int
) -> list[topo.Finding]:
    subnets = topology.subnets
    legs = []
    for app_net in (n for n in subnets[app].cidrs if n.version == 4):
        for db_net in (n for n in subnets[database].cidrs if n.version == 4):
            legs += [
                (app, db_net, True, (port, port), f"{app} -> {db_net} port {port} (out)"),
                (database, app_net, False, (port, port), f"{app_net} -> {database} port {port} (in)"),
                (
                    database,
                    app_net,
                    True,
                    EPHEMERAL,
                    f"replies {database} -> {app_net} ports {EPHEMERAL[0]}-{EPHEMERAL[1]} (out)",
                ),
                (
                    app,
                    db_net,
                    False,
                    EPHEMERAL,
                    f"replies {db_net} -> {app} ports {EPHEMERAL[0]}-{EPHEMERAL[1]} (in)",
                ),
            ]
    found = []
    for subnet, peer, egress, ports, leg in legs:
        acl, via = topology.acl_of(subnet)
        if acl is None:
            found.append(
                topo.Finding(topo.REACH, via.split(":", 1)[0] if ":" in via else subnet, lib.NOT_EVALUATED, via)
            )
            continue
        blocker = _blocked(entries.get(acl, []), egress=egress, peer=peer, ports=ports)
        if blocker is not None:
            culprit = blocker or (acl if acl in topology.types else via or subnet)
            found.append(
                topo.Finding(
                    topo.REACH,
                    culprit,
                    lib.FAILED,
                    f"network ACL {acl} blocks the application tier's path to the database: {leg}",
                )
            )
    return found


def _blocked(entries: list[topo.AclEntry], *, egress: bool, peer: topo.Network, ports: tuple[int, int]) -> str | None:
    """None if the NACL lets every port of ``ports`` through to/from all of ``peer``; else the deny entry that
    blocks part of it, or "" when nothing allows it (the NACL's final deny)."""
    remaining = [ports]
    for entry in sorted((e for e in entries if e.egress == egress), key=lambda e: e.rule):
        if entry.protocol not in (-1, 6) or not topo.overlaps(peer, [entry.cidr]):
            continue
        hit = _intersect(remaining, entry.ports if entry.protocol == 6 else (0, 65535))
        if not hit:
            continue
        if not entry.allow:
            return entry.id
        if peer.subnet_of(entry.cidr):  # type: ignore[arg-type]
            remaining = _subtract(remaining, entry.ports if entry.protocol == 6 else (0, 65535))
            if not remaining:
                return None
    return ""


def _intersect(ranges: list[tuple[int, int]], other: tuple[int, int]) -> list[tuple[int, int]]:
    return [(max(lo, other[0]), min(hi, other[1])) for lo, hi in ranges if max(lo, other[0]) <= min(hi, other[1])]


def _subtract(ranges: list[tuple[int, int]], other: tuple[int, int]) -> list[tuple[int, int]]:
    left = []
    for lo, hi in ranges:
        if other[1] < lo or other[0] > hi:
            left.append((lo, hi))
            continue
        if lo < other[0]:
            left.append((lo, other[0] - 1))
        if hi > other[1]:
            left.append((other[1] + 1, hi))
    return left
