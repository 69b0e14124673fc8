"""Required tags: apply them where CDK's ``Tags`` cannot, and fail synthesis where missing.

``Tags.of(app).add(...)`` tags every construct CDK knows to be taggable. CDK's own helper
resources (e.g. the custom-resource provider behind ``restrict_default_security_group``)
are raw ``CfnResource`` objects that ``Tags`` skips although CloudFormation can tag them;
``TagRawCfnResources`` tags those. ``RequiredTagsValidator`` (a validation, see
collecting.py) runs after every aspect and fails synthesis, naming the construct path of
every taggable resource that still lacks a required tag or carries the wrong value (all of
them in one run).

Both run in every synthesis, hundreds per property-test run, and every jsii call is a round
trip to Node.js, so neither is called by CDK once per construct (an aspect would be: about
100 round trips per synthesis each), and facts fixed by a generated L1 class (taggable or
not, CloudFormation type) are asked once per class (:func:`_facts`), not once per resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import CfnResource, TagManager
from constructs import IConstruct

from infra.aspects.collecting import CollectingRule
from infra.errors import SynthesisRuleError

# Raw CfnResource types CDK helpers emit that CloudFormation can tag (list-of-Key/Value form).
RAW_TAGGABLE_TYPES = frozenset({"AWS::IAM::Role", "AWS::Lambda::Function"})


class RequiredTagsMissingError(SynthesisRuleError):
    """A taggable resource lacks a required tag; the message names its construct path."""


@dataclass(frozen=True)
class _Facts:
    taggable: bool
    cfn_type: str


# Generated L1 class -> its facts. Only classes of the aws_cdk package are cached: an L1's
# taggability and type are fixed by its class, while a raw ``CfnResource`` (or a subclass
# written outside aws_cdk) takes its type per instance.
_CLASS_FACTS: dict[type, _Facts] = {}


def _is_generated_l1(cls: type) -> bool:
    return cls is not CfnResource and cls.__module__.split(".", 1)[0] == "aws_cdk"


def _facts(node: CfnResource) -> _Facts:
    cls = type(node)
    cached = _CLASS_FACTS.get(cls)
    if cached is not None:
        return cached
    facts = _Facts(taggable=TagManager.is_taggable(node), cfn_type=node.cfn_resource_type)
    if _is_generated_l1(cls):
        _CLASS_FACTS[cls] = facts
    return facts


class TagRawCfnResources:
    """Adds the required tags to raw CfnResources of taggable types that ``Tags`` skips.

    :meth:`tag` walks the tree once, after the stacks are built: the helper resources it exists
    for are created with the constructs that need them. A raw taggable resource added after
    that walk is not tagged, and the validator fails synthesis naming it: never a silent gap.
    """

    def __init__(self, *, tags: Mapping[str, str]) -> None:
        self._tags = dict(sorted(tags.items()))
        # Construct path -> tags written, so the validator can read raw resources' tags back.
        self.applied: dict[str, dict[str, str]] = {}

    def tag(self, scope: IConstruct) -> None:
        for node in scope.node.find_all():
            self.visit(node)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        facts = _facts(node)
        if not facts.taggable and facts.cfn_type in RAW_TAGGABLE_TYPES:
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
        facts = _facts(node)
        if facts.taggable:
            present = _tag_manager_values(node)
        elif facts.cfn_type in RAW_TAGGABLE_TYPES:
            present = self._raw_tagger.applied.get(node.node.path, {}) if self._raw_tagger else {}
        else:
            return ""
        problems = [f"{key}={value}" for key, value in self._required.items() if present.get(key) != value]
        if not problems:
            return ""
        return f"{node.node.path} ({facts.cfn_type}) lacks required tag(s) {', '.join(problems)}"


def _tag_manager_values(node: CfnResource) -> dict[str, str]:
    tags: TagManager = node.tags  # type: ignore[attr-defined]
    return dict(tags.tag_values())
