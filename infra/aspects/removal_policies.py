"""No Retain: every resource of the stack is destroyable.

``kms.Key`` and ``logs.LogGroup`` default to Retain in CDK, and helper constructs can add
Retain silently. This rule (a validation, see collecting.py) fails synthesis, naming the
construct path of every resource whose DeletionPolicy or UpdateReplacePolicy is Retain (or
RetainExceptOnCreate), in one run.

Reading a resource's two policies costs five jsii round trips (the options object, then
each policy twice: jsii's interface proxies ask before they get), about 200 per synthesis of
this app. :meth:`ForbidRetainPolicies.validate` has each stack resolve all of its resources'
options in one request (``Stack.resolve``), and :meth:`check` judges from that.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_cdk import CfnDeletionPolicy, CfnResource, Stack
from constructs import IConstruct

from infra.aspects.collecting import CollectingRule
from infra.errors import SynthesisRuleError

_RETAINING = (CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE)


def _template_value(policy: CfnDeletionPolicy) -> str:
    """How CloudFormation (and ``Stack.resolve``) spells a policy: RETAIN_EXCEPT_ON_CREATE -> RetainExceptOnCreate."""
    return policy.name.title().replace("_", "")


_RETAINING_VALUES = {_template_value(policy) for policy in _RETAINING}
_ATTRIBUTES = (("DeletionPolicy", "deletionPolicy"), ("UpdateReplacePolicy", "updateReplacePolicy"))


class RetainPolicyError(SynthesisRuleError):
    """A resource would survive stack deletion; the message names its construct path."""


class ForbidRetainPolicies(CollectingRule):
    def __init__(self) -> None:
        super().__init__()
        self._resolved: dict[int, Mapping[str, Any]] = {}  # id(resource) -> its resolved options

    def validate(self) -> list[str]:
        if self._scope is None:
            return super().validate()
        nodes = list(self._scope.node.find_all())
        self._resolved = _resolved_options(nodes)
        try:
            return self.offences(nodes)
        finally:
            self._resolved = {}

    def check(self, node: IConstruct) -> str:
        if not isinstance(node, CfnResource):
            return ""
        options = self._resolved.get(id(node))
        for attribute, key in _ATTRIBUTES:
            policy = options.get(key) if options is not None else _policy(node, key)
            if policy in _RETAINING_VALUES:
                return (
                    f"{node.node.path} ({node.cfn_resource_type}) has {attribute} {policy}: "
                    "every resource must be destroyable (set removal_policy=RemovalPolicy.DESTROY)"
                )
        return ""


def _resolved_options(nodes: list[IConstruct]) -> dict[int, Mapping[str, Any]]:
    """id(resource) -> its options, resolved by its stack in one request per stack.

    With one stack in the tree every resource is its; otherwise each resource is asked for
    its stack (options may hold tokens only their own stack can resolve).
    """
    resources = [node for node in nodes if isinstance(node, CfnResource)]
    stacks = [node for node in nodes if isinstance(node, Stack)]
    groups: dict[int, tuple[Stack, list[CfnResource]]] = {}
    for resource in resources:
        stack = stacks[0] if len(stacks) == 1 else resource.stack
        groups.setdefault(id(stack), (stack, []))[1].append(resource)
    resolved: dict[int, Mapping[str, Any]] = {}
    for stack, members in groups.values():
        options = stack.resolve([member.cfn_options for member in members])
        resolved.update({id(member): opts or {} for member, opts in zip(members, options, strict=True)})
    return resolved


def _policy(node: CfnResource, key: str) -> str | None:
    """One policy of one resource, asked directly (a resource ``validate`` did not resolve)."""
    options = node.cfn_options
    policy = options.deletion_policy if key == "deletionPolicy" else options.update_replace_policy
    return _template_value(policy) if policy is not None else None
