"""Resolved values (what ``cfn_resolver`` returns) as the project's rules need them.

Small pure helpers over a resolved value: as a list or a number, a boolean as CloudFormation
reads one, the resource a symbol names, a short description for a reason text, a JSON document
written as a string, the values at a schema path, why a value is not a literal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from policies.lib import cfn_resolver as cfn


def as_list(value: Any) -> list[Any]:
    if value is None or value is cfn.NO_VALUE:
        return []
    return list(value) if isinstance(value, list) else [value]


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------------------
# Resolved values (what cfn_resolver returns) as rules need them
# --------------------------------------------------------------------------------------


def truth(value: Any) -> bool | None:
    """True/False for a resolved boolean (CloudFormation accepts "true"/"false" strings too), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def symbol(value: Any) -> cfn.Symbol | None:
    """The resource symbol a resolved value names (a Ref/GetAtt), else None."""
    return value if isinstance(value, cfn.Symbol) else None


def points_at(value: Any, *types: str) -> cfn.Symbol | None:
    """The symbol if ``value`` is a Ref/GetAtt of a resource of one of ``types`` (this or the parent template)."""
    found = symbol(value)
    return found if found is not None and found.kind in ("ref", "getatt") and found.resource_type in types else None


def names(value: Any, logical_id: str, *, attributes: tuple[str, ...] = ("",)) -> bool:
    """True if ``value`` is a symbol of this template's resource ``logical_id`` (``""``: its Ref)."""
    found = symbol(value)
    return (
        found is not None
        and found.origin == "this"
        and found.kind in ("ref", "getatt")
        and found.name == logical_id
        and found.attribute in attributes
    )


def describe(value: Any) -> str:
    """A resolved value, short, for a reason text."""
    if value is cfn.NO_VALUE:
        return "absent"
    if isinstance(value, cfn.Symbol | cfn.Text | cfn.Unknown):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


_SYMBOL_TOKEN = re.compile(r"@@stg-symbol-(\d+)@@")


def _restore_symbols(node: Any, symbols: list[cfn.Symbol]) -> Any:
    """Put the symbols back where :func:`parse_json_text` wrote their tokens."""
    if isinstance(node, dict):
        return {k: _restore_symbols(v, symbols) for k, v in node.items()}
    if isinstance(node, list):
        return [_restore_symbols(v, symbols) for v in node]
    if not isinstance(node, str) or not symbols:
        return node
    parts: list[str | cfn.Symbol] = []
    for index, piece in enumerate(_SYMBOL_TOKEN.split(node)):
        if index % 2:
            parts.append(symbols[int(piece)])
        elif piece:
            parts.append(piece)
    if len(parts) == 1 and isinstance(parts[0], cfn.Symbol):
        return parts[0]
    return node if all(isinstance(p, str) for p in parts) else cfn.Text(tuple(parts))


def parse_json_text(value: Any) -> Any:
    """A JSON document written as a string (or a ``Text``: a Fn::Join/Fn::Sub of strings and symbols), parsed.

    Symbols inside JSON strings come back as :class:`cfn.Symbol` (or :class:`cfn.Text` when a
    string mixes literal text and symbols); structured values are returned as they are; a
    string that is not JSON, or a symbol outside a JSON string, is :class:`cfn.Unknown`.
    """
    if isinstance(value, cfn.Text):
        symbols = [p for p in value.parts if isinstance(p, cfn.Symbol)]
        counter = iter(range(len(symbols)))
        text = "".join(p if isinstance(p, str) else f"@@stg-symbol-{next(counter)}@@" for p in value.parts)
    elif isinstance(value, str):
        symbols, text = [], value
    else:
        return value
    try:
        document = json.loads(text)
    except ValueError as error:
        return cfn.Unknown(f"not a JSON document ({' '.join(str(error).split())})")
    return _restore_symbols(document, symbols)


def values_at(value: Any, path: str, *, where: str = "") -> list[tuple[str, Any]]:
    """(where, value) at a schema path (``A.*.B``: ``*`` for every list item) of a resolved value.

    A value the template does not determine on the way is returned as it is (a parameter
    holding the whole ``Policies`` list), so the caller reports it instead of skipping it.
    """
    head, _, rest = path.partition(".")
    if isinstance(value, cfn.Unknown | cfn.Symbol | cfn.Text):
        return [(where or path, value)]
    if head == "*":
        items = value if isinstance(value, list) else []
        return [found for index, item in enumerate(items) for found in values_at(item, rest, where=f"{where}[{index}]")]
    if not isinstance(value, Mapping) or head not in value:
        return []
    here = f"{where}.{head}" if where else head
    return values_at(value[head], rest, where=here) if rest else [(here, value[head])]


def undetermined(value: Any) -> str | None:
    """Why a resolved scalar is not a literal the template fixes (None when it is a literal)."""
    if isinstance(value, cfn.Unknown):
        return value.reason
    if isinstance(value, cfn.Symbol | cfn.Text):
        return f"{value} is known only at deploy time"
    return None
