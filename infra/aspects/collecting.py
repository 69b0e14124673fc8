"""A read-only rule that reports every offending construct of a synthesis at once.

An aspect that raised on the first offender would hide the others until the next run. A
``CollectingRule`` is a construct *validation* of the scope it is attached to: CDK calls its
``validate()`` once, after every aspect (tags included) has run, and it walks the tree
itself, so CDK's error lists every offence at once.

It is deliberately not an aspect. CDK calls an aspect once per construct, and from Python
every call is a jsii round trip to Node.js (about 0.1 ms on an idle machine, far more on a
busy one): two read-only aspects cost about 190 round trips per synthesis of this app,
paid in every ``cdk synth`` and in every one of the property tier's examples. A validation
costs one call and a single ``find_all``.
"""

from __future__ import annotations

import jsii
from constructs import IConstruct, IValidation


@jsii.implements(IValidation)
class CollectingRule:
    def __init__(self) -> None:
        self._scope: IConstruct | None = None

    def attach(self, scope: IConstruct) -> None:
        """Judge every construct under ``scope`` (itself included) when ``scope`` is validated."""
        self._scope = scope
        scope.node.add_validation(self)

    def check(self, node: IConstruct) -> str:
        """The offence of ``node`` in the shape ``<path> (<type>) <what is wrong>``, or ""."""
        raise NotImplementedError

    def validate(self) -> list[str]:
        if self._scope is None:
            return [f"{type(self).__name__} was never attached to a scope"]
        return self.offences(list(self._scope.node.find_all()))

    def offences(self, nodes: list[IConstruct]) -> list[str]:
        return sorted({message for node in nodes if (message := self.check(node))})
