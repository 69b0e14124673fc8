"""cdk-nag rules that read the construct tree, judged on the template when the tree is CfnInclude's.

Almost every cdk-nag rule reads a resource's own properties, which ``CfnInclude`` reproduces
exactly. A few read the construct tree around the resource instead: ``VPCDefaultSecurityGroupClosed``
is compliant when the VPC's parent construct has a ``RestrictDefaultSecurityGroupCustomResource``
child whose default child is a ``Custom::VpcRestrictDefaultSG`` (the L2 ``Vpc``'s
``restrictDefaultSecurityGroup``). ``CfnInclude`` puts every resource of a template under one
construct with no such child, so that rule failed every VPC of every included template, the
staging stack's too, whose default group CDK closes: in synthesis mode it contradicted the
construct-level run of the same packs on the same VPC, and it left five controls "not satisfied"
on a PASS run. A verdict about the inclusion, not about the template.

For each such rule, :data:`TREE_RULES` holds the template-level fact its tree check stands for.
A violation of the rule on an included resource whose template states that fact is dropped; any
other violation stays. (That the handler's code does what it says is the content review's job,
like any custom resource's.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.tools.nag import NagViolation

TreeFact = Callable[[Mapping[str, Any], str], bool]  # (template body, logical id) -> the tree check's fact holds


def _resources(body: Mapping[str, Any]) -> Mapping[str, Any]:
    resources = body.get("Resources")
    return resources if isinstance(resources, Mapping) else {}


def _get_att(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of an ``Fn::GetAtt`` in either form, else None."""
    if not isinstance(value, Mapping) or set(value) != {"Fn::GetAtt"}:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str) and "." in target:
        logical_id, attribute = target.split(".", 1)
        return logical_id, attribute
    if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target):
        return target[0], target[1]
    return None


def default_security_group_restricted(body: Mapping[str, Any], vpc: str) -> bool:
    """The template restricts this VPC's default security group the way CDK's L2 ``Vpc`` does: a
    ``Custom::VpcRestrictDefaultSG`` on ``GetAtt <vpc>.DefaultSecurityGroup``, served by a Lambda
    function of the same template (what the construct-level rule recognises by the construct's id)."""
    resources = _resources(body)
    for resource in resources.values():
        if not isinstance(resource, Mapping) or resource.get("Type") != "Custom::VpcRestrictDefaultSG":
            continue
        properties = resource.get("Properties")
        if not isinstance(properties, Mapping):
            continue
        if _get_att(properties.get("DefaultSecurityGroupId")) != (vpc, "DefaultSecurityGroup"):
            continue
        token = _get_att(properties.get("ServiceToken"))
        handler = resources.get(token[0]) if token is not None and token[1] == "Arn" else None
        if isinstance(handler, Mapping) and handler.get("Type") == "AWS::Lambda::Function":
            return True
    return False


# cdk-nag rule name (without its pack prefix) -> the template-level fact its construct-tree check stands for.
TREE_RULES: Mapping[str, TreeFact] = {
    "VPCDefaultSecurityGroupClosed": default_security_group_restricted,
}


def rule_name(rule: str) -> str:
    """``NIST.800.53.R5-VPCDefaultSecurityGroupClosed`` -> ``VPCDefaultSecurityGroupClosed``."""
    return rule.split("[", 1)[0].rsplit("-", 1)[-1]


def inclusion_artifacts(violations: Sequence[NagViolation], body: Mapping[str, Any]) -> list[NagViolation]:
    """The violations of tree-reading rules that the included template itself answers (to be dropped)."""
    artifacts = []
    for violation in violations:
        fact = TREE_RULES.get(rule_name(violation.rule))
        if fact is not None and violation.logical_id and fact(body, violation.logical_id):
            artifacts.append(violation)
    return artifacts
