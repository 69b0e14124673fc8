"""Turning errors raised inside jsii callbacks back into one-line messages.

A rule aspect's offences come back out of ``app.synth()`` as a plain ``RuntimeError``
(CDK's "Validation failed with the following errors", or a Python exception that crossed
into Node.js and back) carrying only the messages. Rule messages therefore have a
recognizable shape, ``<construct path> (<CFN type>) <what is wrong>``, which this module
matches, every one of them.
"""

from __future__ import annotations

import re

_RULE_MESSAGE = re.compile(
    r"^\s*(?:\[[^\]\n]*\]\s*)?(?P<message>\S+ \((?:AWS|Custom)::[^)]+\) (?:lacks required tag\(s\)|has (?:DeletionPolicy|UpdateReplacePolicy) Retain)[^\n]*)",
    re.MULTILINE,
)


class SynthesisRuleError(Exception):
    """A synthesis-time rule (required tags, no Retain) rejected the construct tree."""


def as_synthesis_rule_error(error: BaseException) -> SynthesisRuleError | None:
    """Every rule message in ``error`` (a rule aspect reports all offenders at once), joined by "; "."""
    messages = [match["message"].strip() for match in _RULE_MESSAGE.finditer(str(error))]
    return SynthesisRuleError("; ".join(dict.fromkeys(messages))) if messages else None
