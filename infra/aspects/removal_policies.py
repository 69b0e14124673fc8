"""No Retain: every resource of the stack is destroyable.

``kms.Key`` and ``logs.LogGroup`` default to Retain in CDK, and helper constructs can add
Retain silently. This aspect fails synthesis, naming the construct path, when any
resource's DeletionPolicy or UpdateReplacePolicy is Retain (or RetainExceptOnCreate).
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnDeletionPolicy, CfnResource, IAspect
from constructs import IConstruct

from infra.errors import SynthesisRuleError

_RETAINING = {CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE}


class RetainPolicyError(SynthesisRuleError):
    """A resource would survive stack deletion; the message names its construct path."""


@jsii.implements(IAspect)
class ForbidRetainPolicies:
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
