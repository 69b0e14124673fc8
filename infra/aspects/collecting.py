"""A read-only rule aspect that reports every offending construct of a synthesis at once.

An aspect that raised on the first offender would hide the others until the next run. A
``CollectingRule`` records each offence while CDK visits the tree and registers itself as a
validation of the root construct the first time it sees it; CDK runs validations after all
aspects, and its error lists every message at once.
"""

from __future__ import annotations

import jsii
from aws_cdk import IAspect
from constructs import IConstruct, IValidation


@jsii.implements(IAspect, IValidation)
class CollectingRule:
    def __init__(self) -> None:
        self.offences: list[str] = []
        self._registered = False

    def visit(self, node: IConstruct) -> None:
        if not self._registered:
            root = node.node.root
            root.node.add_validation(self)
            self._registered = True
        message = self.check(node)
        if message:
            self.offences.append(message)

    def check(self, node: IConstruct) -> str:
        """The offence of ``node`` in the shape ``<path> (<type>) <what is wrong>``, or ""."""
        raise NotImplementedError

    def validate(self) -> list[str]:
        return sorted(set(self.offences))
