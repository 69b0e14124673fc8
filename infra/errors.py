"""Turning errors raised inside jsii callbacks back into one-line messages.

An aspect that raises runs inside a jsii callback: the Python exception crosses into
Node.js and comes back out of ``app.synth()`` as a plain ``RuntimeError`` carrying only
the message. Rule errors therefore have a recognizable shape,
``<construct path> (<CFN type>) <what is wrong>``, which this module matches.
"""

from __future__ import annotations

import re

_RULE_MESSAGE = re.compile(
    r"^(?P<message>\S+ \((?:AWS|Custom)::[^)]+\) (?:lacks required tag\(s\)|has (?:DeletionPolicy|UpdateReplacePolicy) Retain)[^\n]*)",
    re.MULTILINE,
)


class SynthesisRuleError(Exception):
    """A synthesis-time rule (required tags, no Retain) rejected the construct tree."""


def as_synthesis_rule_error(error: BaseException) -> SynthesisRuleError | None:
    match = _RULE_MESSAGE.search(str(error))
    return SynthesisRuleError(match["message"].strip()) if match else None
