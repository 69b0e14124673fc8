"""Required tags: apply them where CDK's ``Tags`` cannot, and fail synthesis where missing.

``Tags.of(app).add(...)`` tags every construct CDK knows to be taggable. CDK's own helper
resources (e.g. the custom-resource provider behind ``restrict_default_security_group``)
are raw ``CfnResource`` objects that ``Tags`` skips although CloudFormation can tag them;
``TagRawCfnResources`` tags those. ``RequiredTagsValidator`` runs last (read-only
priority) and fails synthesis, naming the construct path of every taggable resource that
still lacks a required tag or carries the wrong value (all of them in one run).
"""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from aws_cdk import CfnResource, IAspect, TagManager
from constructs import IConstruct

from infra.aspects.collecting import CollectingRule
from infra.errors import SynthesisRuleError

# Raw CfnResource types CDK helpers emit that CloudFormation can tag (list-of-Key/Value form).
RAW_TAGGABLE_TYPES = frozenset({"AWS::IAM::Role", "AWS::Lambda::Function"})


class RequiredTagsMissingError(SynthesisRuleError):
    """A taggable resource lacks a required tag; the message names its construct path."""


@jsii.implements(IAspect)
class TagRawCfnResources:
    """Adds the required tags to raw CfnResources of taggable types that ``Tags`` skips."""

    def __init__(self, *, tags: Mapping[str, str]) -> None:
        self._tags = dict(sorted(tags.items()))
        # Construct path -> tags written, so the validator can read raw resources' tags back.
        self.applied: dict[str, dict[str, str]] = {}

    def visit(self, node: IConstruct) -> None:
        if (
            isinstance(node, CfnResource)
            and not TagManager.is_taggable(node)
            and node.cfn_resource_type in RAW_TAGGABLE_TYPES
        ):
            node.add_property_override("Tags", [{"Key": k, "Value": v} for k, v in self._tags.items()])
            self.applied[node.node.path] = dict(self._tags)


class RequiredTagsValidator(CollectingRule):
    """Fails synthesis if any taggable resource lacks a required tag or value (every one, in one run)."""

    def __init__(self, *, required: Mapping[str, str], raw_tagger: TagRawCfnResources | None = None) -> None:
        super().__init__()
        self._required = dict(sorted(required.items()))
        self._raw_tagger = raw_tagger

    def check(self, node: IConstruct) -> str:
        if not isinstance(node, CfnResource):
            return ""
        if TagManager.is_taggable(node):
            present = _tag_manager_values(node)
        elif node.cfn_resource_type in RAW_TAGGABLE_TYPES:
            present = self._raw_tagger.applied.get(node.node.path, {}) if self._raw_tagger else {}
        else:
            return ""
        problems = [f"{key}={value}" for key, value in self._required.items() if present.get(key) != value]
        if not problems:
            return ""
        return f"{node.node.path} ({node.cfn_resource_type}) lacks required tag(s) {', '.join(problems)}"


def _tag_manager_values(node: CfnResource) -> dict[str, str]:
    tags: TagManager = node.tags  # type: ignore[attr-defined]
    return dict(tags.tag_values())
