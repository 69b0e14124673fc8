"""Aspects that enforce stack-wide rules at synthesis time."""

from infra.aspects.removal_policies import ForbidRetainPolicies
from infra.aspects.required_tags import RequiredTagsMissingError, RequiredTagsValidator, TagRawCfnResources

__all__ = ["ForbidRetainPolicies", "RequiredTagsMissingError", "RequiredTagsValidator", "TagRawCfnResources"]
