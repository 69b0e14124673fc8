"""The database admits the application subnets on the port it listens on (stg_network_groups._app_tier_shut_out).

"Only the application subnets reach the database" has two halves; a database whose groups admit
none of them on its port passes every "nothing else reaches it" test while the application cannot
use it. Sources the check cannot read (a group source on the port) keep it silent.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from policies.lib import stg_policy_lib as lib
from tests.policies.inprocess import as_world, load_rule

Template = dict[str, Any]


def _verdict(template: Template, edit: Callable[[Template], None]) -> lib.Verdict:
    changed = copy.deepcopy(template)
    edit(changed)
    world = as_world(changed)
    instance = next(lid for lid, r in changed["Resources"].items() if r["Type"] == "AWS::RDS::DBInstance")
    verdict: lib.Verdict = load_rule("CKV_STG_NET_1").rule(lib.Context(world, raw=world), instance)
    return verdict


def _database(t: Template) -> dict[str, Any]:
    props: dict[str, Any] = next(
        r["Properties"] for r in t["Resources"].values() if r["Type"] == "AWS::RDS::DBInstance"
    )
    return props


def _rules(t: Template) -> list[dict[str, Any]]:
    group = _database(t)["VPCSecurityGroups"][0]["Fn::GetAtt"][0]
    rules: list[dict[str, Any]] = t["Resources"][group]["Properties"]["SecurityGroupIngress"]
    return rules


def _port_moved(t: Template) -> None:
    _database(t)["Port"] = "5433"


def _one_rule_udp(t: Template) -> None:
    _rules(t)[0]["IpProtocol"] = "udp"


def _rules_on_another_port(t: Template) -> None:
    for rule in _rules(t):
        rule["FromPort"] = rule["ToPort"] = 3306


def _port_moved_with_rules(t: Template) -> None:
    _database(t)["Port"] = "5433"
    for rule in _rules(t):
        rule["FromPort"] = rule["ToPort"] = 5433


def _stand_alone_rules(t: Template) -> None:
    group = _database(t)["VPCSecurityGroups"][0]
    for index, rule in enumerate(_rules(t)):
        t["Resources"][f"AppIngress{index}"] = {"Type": "AWS::EC2::SecurityGroupIngress",
                                                "Properties": {**rule, "GroupId": group}}  # fmt: skip
    _rules(t)[:] = []


@pytest.mark.parametrize("edit", [_port_moved, _one_rule_udp, _rules_on_another_port],
                         ids=["port-moved", "udp", "another-port"])  # fmt: skip
def test_an_application_subnet_shut_out_fails(default_template: Template, edit: Callable[[Template], None]) -> None:
    verdict = _verdict(default_template, edit)
    assert verdict.status == lib.FAILED and "the application tier cannot reach it" in verdict.reason, verdict


@pytest.mark.parametrize("edit", [lambda t: None, _port_moved_with_rules, _stand_alone_rules],
                         ids=["synthesized", "port-and-rules-moved", "stand-alone-rules"])  # fmt: skip
def test_a_database_the_tier_reaches_passes(default_template: Template, edit: Callable[[Template], None]) -> None:
    assert _verdict(default_template, edit).status == lib.PASSED
