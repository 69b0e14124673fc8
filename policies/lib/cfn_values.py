"""What the resolver answers with: literal JSON data, or symbols, texts, unknowns and NO_VALUE.

A resolved value is plain JSON data when the template determines it; otherwise it holds
:class:`Symbol` (one thing only CloudFormation can spell out), :class:`Text` (a string with
symbols in it), :class:`Unknown` (the template does not determine it, with the reason) or
:data:`NO_VALUE` (``Ref: AWS::NoValue``: absent). :func:`encode`/:func:`decode` carry them
through JSON (the world files). Standard library only (checkov's venv imports it too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.lib.cfn_references import contains_dynamic_reference


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (a template section may be anything)."""
    return value if isinstance(value, Mapping) else {}


# --------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """A value the template pins to one thing that only CloudFormation can spell out.

    ``kind`` is ``ref`` (a resource's Ref), ``getatt`` (a resource attribute) or ``pseudo``
    (an environment value such as the account id). ``resource_type`` is the type of the
    referenced resource; ``origin`` is ``parent`` when a nested stack received the value
    from its parent's template.
    """

    kind: str
    name: str
    attribute: str = ""
    resource_type: str = ""
    origin: str = "this"

    def __str__(self) -> str:
        return "${" + self.name + (f".{self.attribute}" if self.attribute else "") + "}"


@dataclass(frozen=True)
class Text:
    """A string made of literal pieces and symbols, e.g. ``arn:aws:iam::${AWS::AccountId}:root``."""

    parts: tuple[str | Symbol, ...]

    def __str__(self) -> str:
        return "".join(str(p) for p in self.parts)

    @property
    def symbols(self) -> tuple[Symbol, ...]:
        return tuple(p for p in self.parts if isinstance(p, Symbol))


@dataclass(frozen=True)
class Unknown:
    """A value the template does not determine; ``reason`` says why, for the report."""

    reason: str

    def __str__(self) -> str:
        return f"<unknown: {self.reason}>"


class _NoValue:
    """``Ref: AWS::NoValue``: the property is absent."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()


def unknowns(value: Any) -> list[Unknown]:
    """Every :class:`Unknown` inside a resolved value (depth first, in order)."""
    if isinstance(value, Unknown):
        return [value]
    if isinstance(value, Mapping):
        return [u for v in value.values() for u in unknowns(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in unknowns(v)]
    return []


def is_literal(value: Any) -> bool:
    """True for plain JSON data with no symbol, text or unknown inside."""
    if isinstance(value, Symbol | Text | Unknown | _NoValue):
        return False
    if isinstance(value, Mapping):
        return all(is_literal(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(is_literal(v) for v in value)
    return True


def is_intrinsic(value: Any) -> bool:
    """True if ``value`` (raw template data) is an intrinsic function or a Ref."""
    return (
        isinstance(value, Mapping)
        and len(value) == 1
        and (
            next(iter(value)) == "Ref" or str(next(iter(value))).startswith("Fn::") or next(iter(value)) == "Condition"
        )
    )


def contains_intrinsic(value: Any) -> bool:
    if is_intrinsic(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_intrinsic(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_intrinsic(v) for v in value)
    return isinstance(value, str) and contains_dynamic_reference(value)


_TAGS: dict[type, Any] = {
    Symbol: lambda v: {"$symbol": [v.kind, v.name, v.attribute, v.resource_type, v.origin]},
    Text: lambda v: {"$text": [encode(p) for p in v.parts]},
    Unknown: lambda v: {"$unknown": v.reason},
    _NoValue: lambda v: {"$novalue": True},
}
_UNTAGS: dict[str, Any] = {
    "$symbol": lambda inner: Symbol(*(str(part) for part in inner)),
    "$text": lambda inner: Text(tuple(decode(p) for p in inner)),
    "$unknown": lambda inner: Unknown(str(inner)),
    "$novalue": lambda inner: NO_VALUE,
}


def encode(value: Any) -> Any:
    """A resolved value as plain JSON (symbols, texts and unknowns tagged)."""
    tag = _TAGS.get(type(value))
    if tag is not None:
        return tag(value)
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`."""
    if isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _UNTAGS:
        ((tag, inner),) = value.items()
        return _UNTAGS[tag](inner)
    if isinstance(value, Mapping):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


# --------------------------------------------------------------------------------------
# What a world fixes (read by the resolver and by the worlds)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """One combination of deploy-time choices: parameter values and undecidable conditions."""

    parameters: Mapping[str, Any] = field(default_factory=dict)
    conditions: Mapping[str, bool] = field(default_factory=dict)

    def describe(self) -> str:
        """``Parameter Env=prod, condition IsProd=true`` (empty for the only world)."""
        parts = [f"parameter {k}={v!r}" for k, v in sorted(self.parameters.items())]
        parts += [f"condition {k}={'true' if v else 'false'}" for k, v in sorted(self.conditions.items())]
        return ", ".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "parameters": dict(sorted(self.parameters.items())),
            "conditions": dict(sorted(self.conditions.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> World:
        data = data or {}
        return cls(parameters=dict(data.get("parameters") or {}), conditions=dict(data.get("conditions") or {}))


class TooManyWorldsError(Exception):
    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"{count} combinations of deploy-time choices, more than the {limit} the gate enumerates")


@dataclass(frozen=True)
class Environment:
    """What the stack's environment fixes (from the cloud assembly manifest)."""

    region: str | None = None
    account: str | None = None
