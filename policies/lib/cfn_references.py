"""CloudFormation dynamic references (``{{resolve:service:reference}}``): the one grammar every reader uses.

CloudFormation fetches a dynamic reference's value at deploy time (``ssm``, ``ssm-secure``,
``secretsmanager``), so the resolver reads one as unknown, while the secrets rules need the
reference itself (which service, which secret). Before this module the resolver, the secrets
scan and the Secrets Manager rules each had a regular expression with its own grammar (one
stopped at the ``}`` of a ``${Secret}`` that CDK joins into the reference, one refused an empty
reference): a string could be a reference to one rule and plain text to another. Standard
library only: it runs in checkov's own venv as well as the gate's.
"""

from __future__ import annotations

import re

# ``{{resolve:service:reference}}``; a reference may hold symbols (``${Secret}``: CDK joins the
# secret's Ref into it with Fn::Join, so a world file spells it as ``${Secret}``).
DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:(?P<service>[a-z-]+):(?P<reference>(?:\$\{[^}]*\}|[^}])*)\}\}")


def contains_dynamic_reference(text: str) -> bool:
    """True if ``text`` holds a dynamic reference anywhere (its value is then fixed only at deploy time)."""
    return DYNAMIC_REFERENCE.search(text) is not None


def dynamic_references(text: str) -> list[tuple[str, str]]:
    """(service, reference) of every ``{{resolve:service:reference}}`` in ``text``."""
    return [(m["service"], m["reference"]) for m in DYNAMIC_REFERENCE.finditer(text)]


def whole_reference_service(text: str) -> str | None:
    """The service of a text that is exactly one dynamic reference, else None."""
    match = DYNAMIC_REFERENCE.fullmatch(text)
    return None if match is None else match["service"]
