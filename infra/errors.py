"""Turning errors raised inside jsii callbacks back into one-line messages.

An aspect that raises runs inside a jsii callback: the Python exception crosses into
Node.js and comes back out of ``app.synth()`` as a generic error whose text embeds the
original message. This finds our rule errors in that text so the CLI can print one line.
"""

from __future__ import annotations

import re

_RULE_ERROR = re.compile(r"(RequiredTagsMissingError|RetainPolicyError)\W+(?P<message>[^\n]+)")


class SynthesisRuleError(Exception):
    """A synthesis-time rule (required tags, no Retain) rejected the construct tree."""


def as_synthesis_rule_error(error: BaseException) -> SynthesisRuleError | None:
    match = _RULE_ERROR.search(str(error))
    if match is None:
        return None
    return SynthesisRuleError(match["message"].strip().rstrip("'\""))
