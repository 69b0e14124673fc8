"""No Retain: every resource of the stack is destroyable.

``kms.Key`` and ``logs.LogGroup`` default to Retain in CDK, and helper constructs can add
Retain silently. This rule fails synthesis, naming the construct path, when any resource's
DeletionPolicy or UpdateReplacePolicy is Retain (or RetainExceptOnCreate).

It is a construct *validation* (``scope.node.add_validation``), not an aspect: CDK calls an
aspect once per construct, each call a Node-to-Python round trip (about 100 constructs per
synthesis), while a validation is called once, after every aspect has run, and walks the
tree itself. Same rule, same error, about 100 fewer round trips per synthesis
(benchmarks/property_synth_rate.py).
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnDeletionPolicy, CfnResource
from constructs import IConstruct, IValidation

from infra.errors import SynthesisRuleError

_RETAINING = {CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE}


class RetainPolicyError(SynthesisRuleError):
    """A resource would survive stack deletion; the message names its construct path."""


@jsii.implements(IValidation)
class ForbidRetainPolicies:
    """Register with ``scope.node.add_validation(ForbidRetainPolicies(scope=scope))``."""

    def __init__(self, *, scope: IConstruct) -> None:
        self._scope = scope

    def validate(self) -> list[str]:
        # Raising (rather than returning messages) keeps the one-line error shape that
        # infra.errors.as_synthesis_rule_error recognizes, as the former aspect did.
        for node in self._scope.node.find_all():
            self.visit(node)
        return []

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        options = node.cfn_options
        for attribute, policy in (
            ("DeletionPolicy", options.deletion_policy),
            ("UpdateReplacePolicy", options.update_replace_policy),
        ):
            if policy in _RETAINING:
                raise RetainPolicyError(
                    f"{node.node.path} ({node.cfn_resource_type}) has {attribute} {policy.name.title().replace('_', '')}: "
                    "every resource must be destroyable (set removal_policy=RemovalPolicy.DESTROY)"
                )
