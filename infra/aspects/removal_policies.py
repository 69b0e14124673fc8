"""No Retain: every resource of the stack is destroyable.

``kms.Key`` and ``logs.LogGroup`` default to Retain in CDK, and helper constructs can add
Retain silently. This aspect fails synthesis, naming the construct path of every resource
whose DeletionPolicy or UpdateReplacePolicy is Retain (or RetainExceptOnCreate), in one run.
"""

from __future__ import annotations

from aws_cdk import CfnDeletionPolicy, CfnResource
from constructs import IConstruct

from infra.aspects.collecting import CollectingRule
from infra.errors import SynthesisRuleError

_RETAINING = {CfnDeletionPolicy.RETAIN, CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE}


class RetainPolicyError(SynthesisRuleError):
    """A resource would survive stack deletion; the message names its construct path."""


class ForbidRetainPolicies(CollectingRule):
    def check(self, node: IConstruct) -> str:
        if not isinstance(node, CfnResource):
            return ""
        options = node.cfn_options
        for attribute, policy in (
            ("DeletionPolicy", options.deletion_policy),
            ("UpdateReplacePolicy", options.update_replace_policy),
        ):
            if policy in _RETAINING:
                return (
                    f"{node.node.path} ({node.cfn_resource_type}) has {attribute} {policy.name.title().replace('_', '')}: "
                    "every resource must be destroyable (set removal_policy=RemovalPolicy.DESTROY)"
                )
        return ""
