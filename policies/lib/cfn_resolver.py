"""What a CloudFormation template determines about its own values, and what it leaves open.

One resolver for the whole gate. The project's Python policies call it inside checkov; the
gate calls it before any tool runs, to expand a template into its *deploy-time worlds* and
to find policed values that no template-time check can judge. Standard library only: it
runs in checkov's own venv as well as the gate's.

Why not let each tool render intrinsics its own way: checkov renders a ``Ref`` to a
parameter as its ``Default`` and evaluates ``Condition``s and ``Fn::If`` on defaults only,
so a template whose default is compliant but whose ``AllowedValues`` include a violation
passes; values it cannot render often pass too. cfn-lint and cdk-nag have their own, partial
renderings. No library answers "which values can this property take at deploy time", so it
is written here, small and tested on its own (``tests/policies/test_resolver.py``).

Model
-----
A *world* fixes every deploy-time choice the template offers: one value for each parameter
that has ``AllowedValues``, and a truth value for each named condition the template cannot
decide by itself. :func:`worlds` lists them all (their product, bounded by ``limit``).

In one world, :meth:`Resolver.value` turns any template expression into
- plain JSON data where the template determines it (literals, constrained parameters,
  ``Fn::Sub``/``Fn::Join``/``Fn::Split``/``Fn::Select``/``Fn::FindInMap`` of literals, the
  pseudo parameters the stack's environment fixes);
- a :class:`Symbol` where the template determines *which* thing is meant but not its text
  (``Ref``/``Fn::GetAtt`` of a resource of this template, the account id of an
  account-agnostic stack); :class:`Text` for a string built from literals and symbols;
- :class:`Unknown` (with the reason) where the template does not determine it: a parameter
  without ``AllowedValues``, ``Fn::ImportValue`` (another stack's export), ``Fn::GetAtt`` of
  a resource the template does not define, ``Fn::Transform``, a dynamic reference.

:func:`evaluate` writes a world as a plain template (parameters substituted, conditions and
``Fn::If`` decided, resources that do not exist in that world removed, literal-only functions
folded), which is what every scanner then reads.
"""

from __future__ import annotations

import base64
import copy
import functools
import ipaddress
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

WORLD_METADATA_KEY = "StgGate::World"  # template-level Metadata the gate writes into a world file
DEFAULT_WORLD_LIMIT = 256

PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
# Parameter types whose value CloudFormation fetches at deploy time (SSM) or that hold lists:
# AllowedValues cannot pin them to one enumerable value.
_UNENUMERABLE_PARAMETER_TYPE = re.compile(r"^(AWS::SSM::Parameter::Value<.*>|List<.*>|CommaDelimitedList)$")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:[^}]*\}\}")
CONDITION_FUNCTIONS = frozenset({"Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or", "Condition"})


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
    return isinstance(value, str) and bool(_DYNAMIC_REFERENCE.search(value))


# --------------------------------------------------------------------------------------
# Worlds
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


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parameter_domain(name: str, declaration: Any) -> list[Any] | None:
    """The values a parameter can take, or None when the template does not bound them to a list."""
    declaration = _mapping(declaration)
    allowed = declaration.get("AllowedValues")
    kind = str(declaration.get("Type", "String"))
    if not isinstance(allowed, list) or not allowed or _UNENUMERABLE_PARAMETER_TYPE.match(kind):
        return None
    unique: list[Any] = []
    for value in allowed:
        if value not in unique:
            unique.append(value)
    return unique


def _sub_names(argument: Any) -> Iterator[str]:
    """Names an ``Fn::Sub`` string refers to with ``${Name}`` (``${!Literal}`` is text)."""
    text = argument[0] if isinstance(argument, list) and argument else argument
    if isinstance(text, str):
        yield from (v.split(".", 1)[0] for v in _SUB_VARIABLE.findall(text) if not v.startswith("!"))


def _refs(value: Any) -> Iterator[str]:
    """Names a value refers to with Ref, ${...} in Fn::Sub, and named conditions (``Condition``/``Fn::If``)."""
    if isinstance(value, list):
        for inner in value:
            yield from _refs(inner)
        return
    if not isinstance(value, Mapping):
        return
    for key, inner in value.items():
        if key in ("Ref", "Condition") and isinstance(inner, str):
            yield inner
            continue
        rest = inner
        if key == "Fn::Sub":
            yield from _sub_names(inner)
        elif key == "Fn::If" and isinstance(inner, list) and inner and isinstance(inner[0], str):
            yield inner[0]
            rest = inner[1:]
        yield from _refs(rest)


def used_names(body: Mapping[str, Any]) -> set[str]:
    """Parameters and conditions reachable from Resources and Outputs (Rules and Metadata do not deploy)."""
    conditions = _mapping(body.get("Conditions"))
    seen: set[str] = set()
    pending = [
        name
        for section in ("Resources", "Outputs")
        for entry in _mapping(body.get(section)).values()
        for name in list(_refs(entry))
        + ([entry["Condition"]] if isinstance(entry, Mapping) and isinstance(entry.get("Condition"), str) else [])
    ]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in conditions:
            pending.extend(_refs(conditions[name]))
    return seen


def _domains(
    body: Mapping[str, Any], used: set[str], bindings: Mapping[str, Any], limit: int
) -> list[tuple[str, list[Any]]]:
    """(parameter, its AllowedValues) for every enumerable parameter the resources use, bounded by ``limit``."""
    parameters = _mapping(body.get("Parameters"))
    domains = [
        (name, domain)
        for name in sorted(parameters)
        if name in used and name not in bindings
        for domain in [parameter_domain(name, parameters[name])]
        if domain is not None
    ]
    count = 1
    for _, domain in domains:
        count *= len(domain)
        if count > limit:
            raise TooManyWorldsError(count, limit)
    return domains


def worlds(
    body: Mapping[str, Any],
    *,
    environment: Environment | None = None,
    bindings: Mapping[str, Any] | None = None,
    limit: int = DEFAULT_WORLD_LIMIT,
) -> list[World]:
    """Every world of a template: the product of its enumerable parameters, then its undecidable conditions."""
    environment = environment or Environment()
    bindings = bindings or {}
    used = used_names(body)
    domains = _domains(body, used, bindings, limit)
    condition_names = [name for name in _condition_order(body) if name in used]
    result: list[World] = []
    for values in itertools.product(*(domain for _, domain in domains)):
        assignment = {name: value for (name, _), value in zip(domains, values, strict=True)}
        branches: list[dict[str, bool]] = [{}]
        for name in condition_names:
            branches = [
                branch
                for assumed in branches
                for branch in _fork(body, name, World(assignment, assumed), environment, bindings)
            ]
            if len(result) + len(branches) > limit:
                raise TooManyWorldsError(len(result) + len(branches), limit)
        result += [World(assignment, assumed) for assumed in branches]
    return result


def _fork(
    body: Mapping[str, Any], name: str, world: World, environment: Environment, bindings: Mapping[str, Any]
) -> list[dict[str, bool]]:
    """The world's condition assumptions, forked on ``name`` when the template cannot decide it there."""
    decided = Resolver(body, environment=environment, world=world, bindings=bindings).condition(name)
    assumed = dict(world.conditions)
    if isinstance(decided, bool):
        return [assumed]
    return [{**assumed, name: True}, {**assumed, name: False}]


def _condition_order(body: Mapping[str, Any]) -> list[str]:
    """Named conditions, each after the conditions it uses (cycles are CloudFormation errors; cut them)."""
    conditions = _mapping(body.get("Conditions"))
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order or name in visiting or name not in conditions:
            return
        visiting.add(name)
        for used in _refs(conditions[name]):
            visit(used)
        visiting.discard(name)
        order.append(name)

    for name in sorted(conditions):
        visit(name)
    return order


# --------------------------------------------------------------------------------------
# Resolution in one world
# --------------------------------------------------------------------------------------


def _partition(region: str | None) -> str | None:
    if region is None:
        return None
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _pieces(part: Any) -> tuple[str | Symbol, ...] | Unknown:
    """One resolved piece of a string as literal text and symbols; Unknown if it cannot be part of one."""
    if isinstance(part, Unknown):
        return part
    if isinstance(part, Text):
        return part.parts
    if isinstance(part, Symbol):
        return (part,)
    if isinstance(part, bool | int | float | str):
        return (str(_scalar_text(part)),)
    return Unknown(f"cannot join a non-scalar value ({type(part).__name__})")


def _text(parts: Sequence[Any]) -> str | Text | Unknown:
    """Concatenate resolved pieces: a str when all are literal, Text with symbols, Unknown if any is."""
    merged: list[str | Symbol] = []
    for part in parts:
        pieces = _pieces(part)
        if isinstance(pieces, Unknown):
            return pieces
        for piece in pieces:
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] = merged[-1] + piece
            elif piece != "":
                merged.append(piece)
    if all(isinstance(p, str) for p in merged):
        return "".join(p for p in merged if isinstance(p, str))
    return Text(tuple(merged))


class Resolver:
    """Resolves expressions of one template in one world (see the module docstring)."""

    def __init__(
        self,
        body: Mapping[str, Any],
        *,
        environment: Environment | None = None,
        world: World | None = None,
        bindings: Mapping[str, Any] | None = None,
    ) -> None:
        self.body = body
        self.environment = environment or Environment()
        self.world = world or World()
        # Values a nested stack receives from its parent template, already resolved there.
        self.bindings = dict(bindings or {})
        self.resources = _mapping(body.get("Resources"))
        self.parameters = _mapping(body.get("Parameters"))
        self.conditions = _mapping(body.get("Conditions"))
        self.mappings = _mapping(body.get("Mappings"))
        self._condition_cache: dict[str, bool | Unknown] = {}
        self._depth = 0

    # -- resources --------------------------------------------------------------------

    def resource_type(self, logical_id: str) -> str:
        return str(_mapping(self.resources.get(logical_id)).get("Type", ""))

    def exists(self, logical_id: str) -> bool | Unknown:
        """Whether a resource exists in this world (its ``Condition`` holds)."""
        resource = _mapping(self.resources.get(logical_id))
        if not resource:
            return False
        condition = resource.get("Condition")
        return True if condition is None else self.condition(str(condition))

    def properties(self, logical_id: str) -> Mapping[str, Any]:
        return _mapping(_mapping(self.resources.get(logical_id)).get("Properties"))

    def property(self, logical_id: str, path: str | Sequence[str]) -> Any:
        """The resolved value at ``path`` (``"A.B"`` or a list of keys) of a resource's Properties; NO_VALUE if absent."""
        keys = path.split(".") if isinstance(path, str) else list(path)
        value: Any = self.value(self.properties(logical_id))
        for key in keys:
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, Unknown):
                return value
            else:
                return NO_VALUE
        return value

    # -- conditions -------------------------------------------------------------------

    def condition(self, name: str) -> bool | Unknown:
        if name in self.world.conditions:
            return bool(self.world.conditions[name])
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name not in self.conditions:
            return Unknown(f"condition {name} is not defined")
        self._condition_cache[name] = Unknown(f"condition {name} depends on itself")  # cycle guard
        decided = self._truth(self.conditions[name])
        self._condition_cache[name] = decided
        return decided

    def _truth(self, expression: Any) -> bool | Unknown:
        """Three-valued logic over a condition expression: True, False or Unknown (with the reason)."""
        if isinstance(expression, bool):
            return expression
        if isinstance(expression, str) and expression.lower() in ("true", "false"):
            return expression.lower() == "true"
        if not isinstance(expression, Mapping) or len(expression) != 1:
            return Unknown(f"not a condition: {expression!r}")
        function, argument = next(iter(expression.items()))
        if function == "Condition" and isinstance(argument, str):
            return self.condition(argument)
        return self._connective(function, argument if isinstance(argument, list) else [])

    def _connective(self, function: str, arguments: list[Any]) -> bool | Unknown:
        if function == "Fn::Not" and len(arguments) == 1:
            inner = self._truth(arguments[0])
            return inner if isinstance(inner, Unknown) else not inner
        if function in ("Fn::And", "Fn::Or") and arguments:
            return self._junction(function == "Fn::Or", [self._truth(a) for a in arguments])
        if function == "Fn::Equals" and len(arguments) == 2:
            return self._equals(self.value(arguments[0]), self.value(arguments[1]))
        return Unknown(f"unsupported condition function {function}")

    @staticmethod
    def _junction(decisive: bool, results: list[bool | Unknown]) -> bool | Unknown:
        """Fn::Or (``decisive`` True: any True decides) or Fn::And (any False decides) in Kleene logic."""
        if any(r is decisive for r in results):
            return decisive
        undecided = [r for r in results if isinstance(r, Unknown)]
        return undecided[0] if undecided else not decisive

    @staticmethod
    def _equals(left: Any, right: Any) -> bool | Unknown:
        for side in (left, right):
            if isinstance(side, Unknown):
                return side
        if is_literal(left) and is_literal(right):
            return bool(_scalar_text(left) == _scalar_text(right))
        if left == right:
            return True
        return Unknown(f"compares {left} with {right}, known only at deploy time")

    # -- values -----------------------------------------------------------------------

    def value(self, expression: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > 200:
                return Unknown("expression nested more than 200 levels deep")
            return self._value(expression)
        finally:
            self._depth -= 1

    def _value(self, expression: Any) -> Any:
        if isinstance(expression, list):
            return [v for v in (self.value(item) for item in expression) if v is not NO_VALUE]
        if isinstance(expression, str):
            return Unknown(f"dynamic reference {expression}") if _DYNAMIC_REFERENCE.search(expression) else expression
        if not isinstance(expression, Mapping):
            return expression
        if len(expression) == 1:
            function, argument = next(iter(expression.items()))
            handler = _FUNCTIONS.get(function)
            if handler is not None:
                return handler(self, argument)
            if function == "Fn::Transform" or function.startswith("Fn::"):
                return Unknown(f"{function} is expanded by CloudFormation at deploy time")
        return {k: v for k, v in ((k, self.value(v)) for k, v in expression.items()) if v is not NO_VALUE}

    def ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            return Unknown(f"Ref to a non-string {name!r}")
        if name in self.bindings:
            return self.bindings[name]
        if name in self.parameters:
            return (
                self.world.parameters[name] if name in self.world.parameters else Unknown(self._parameter_reason(name))
            )
        if name in self.resources:
            return Symbol("ref", name, resource_type=self.resource_type(name))
        if name in PSEUDO_PARAMETERS:
            return self._pseudo(name)
        return Unknown(f"Ref to {name}, which the template does not define")

    def _parameter_reason(self, name: str) -> str:
        declaration = _mapping(self.parameters.get(name))
        kind = str(declaration.get("Type", "String"))
        if _UNENUMERABLE_PARAMETER_TYPE.match(kind):
            return f"parameter {name} ({kind}) is supplied at deploy time"
        return f"parameter {name} has no AllowedValues: any value can be supplied at deploy time"

    def _pseudo(self, name: str) -> Any:
        """A pseudo parameter: its value where the stack's environment fixes it, else a symbol."""
        region, account = self.environment.region, self.environment.account
        known: dict[str, Any] = {"AWS::NoValue": NO_VALUE}
        if region:
            known["AWS::Region"] = region
            known["AWS::Partition"] = _partition(region)
            known["AWS::URLSuffix"] = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
        if account:
            known["AWS::AccountId"] = account
        return known.get(name, Symbol("pseudo", name))

    def getatt(self, argument: Any) -> Any:
        if isinstance(argument, str) and "." in argument:
            logical_id, attribute = argument.split(".", 1)
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            logical_id = argument[0]
            attribute_value = self.value(argument[1])
            if not isinstance(attribute_value, str):
                return Unknown(f"Fn::GetAtt of {logical_id} with an attribute name known only at deploy time")
            attribute = attribute_value
        else:
            return Unknown(f"malformed Fn::GetAtt {argument!r}")
        if logical_id in self.bindings and attribute.startswith("Outputs."):
            return Unknown(f"output {attribute} of nested stack {logical_id}")
        if logical_id not in self.resources:
            return Unknown(f"Fn::GetAtt of {logical_id}, which the template does not define")
        return Symbol("getatt", logical_id, attribute, resource_type=self.resource_type(logical_id))

    def sub(self, argument: Any) -> Any:
        variables: Mapping[str, Any] = {}
        if isinstance(argument, str):
            text = argument
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
            text, variables = argument[0], _mapping(argument[1])
        else:
            return Unknown(f"malformed Fn::Sub {argument!r}")
        pieces: list[Any] = []
        position = 0
        for match in _SUB_VARIABLE.finditer(text):
            pieces.append(text[position : match.start()])
            variable = match.group(1)
            if variable.startswith("!"):
                pieces.append("${" + variable[1:] + "}")
            elif variable in variables:
                pieces.append(self.value(variables[variable]))
            elif "." in variable and variable.split(".", 1)[0] in self.resources:
                pieces.append(self.getatt(variable))
            else:
                pieces.append(self.ref(variable))
            position = match.end()
        pieces.append(text[position:])
        return _text(pieces)

    def join(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unknown(f"malformed Fn::Join {argument!r}")
        delimiter = self.value(argument[0])
        items = self.value(argument[1])
        if isinstance(delimiter, Unknown):
            return delimiter
        if isinstance(items, Unknown):
            return items
        if not isinstance(delimiter, str) or not isinstance(items, list):
            return Unknown("Fn::Join over a list known only at deploy time")
        pieces: list[Any] = []
        for index, item in enumerate(items):
            if index:
                pieces.append(delimiter)
            pieces.append(item)
        return _text(pieces)

    def split(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unknown(f"malformed Fn::Split {argument!r}")
        delimiter, source = self.value(argument[0]), self.value(argument[1])
        for side in (delimiter, source):
            if isinstance(side, Unknown):
                return side
        if isinstance(delimiter, str) and isinstance(source, str) and delimiter:
            return source.split(delimiter)
        return Unknown("Fn::Split of a value known only at deploy time")

    def select(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            return Unknown(f"malformed Fn::Select {argument!r}")
        index, items = self.value(argument[0]), self.value(argument[1])
        for side in (index, items):
            if isinstance(side, Unknown):
                return side
        try:
            position = int(index)
        except (TypeError, ValueError):
            return Unknown(f"Fn::Select with index {index}")
        if isinstance(items, list):
            return (
                items[position] if 0 <= position < len(items) else Unknown(f"Fn::Select index {position} out of range")
            )
        return Unknown("Fn::Select over a list known only at deploy time")

    def find_in_map(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) in (3, 4)):
            return Unknown(f"malformed Fn::FindInMap {argument!r}")
        keys = [self.value(a) for a in argument[:3]]
        for key in keys:
            if isinstance(key, Unknown):
                return key
            if not isinstance(key, str | int):
                return Unknown("Fn::FindInMap with a key known only at deploy time")
        found: Any = self.mappings
        for key in keys:
            found = _mapping(found).get(str(key))
            if found is None:
                return Unknown(f"Fn::FindInMap: no {'/'.join(map(str, keys))} in Mappings")
        return self.value(found)

    def if_(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            return Unknown(f"malformed Fn::If {argument!r}")
        decided = self.condition(argument[0])
        if isinstance(decided, Unknown):
            return decided
        return self.value(argument[1] if decided else argument[2])

    def base64(self, argument: Any) -> Any:
        inner = self.value(argument)
        if isinstance(inner, str):
            return base64.b64encode(inner.encode("utf-8")).decode("ascii")
        return inner if isinstance(inner, Unknown) else Unknown("Fn::Base64 of a value known only at deploy time")

    def cidr(self, argument: Any) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            return Unknown(f"malformed Fn::Cidr {argument!r}")
        block, count, bits = (self.value(a) for a in argument)
        try:
            network = ipaddress.ip_network(str(block), strict=False)
            prefix = network.max_prefixlen - int(bits)
            return [str(n) for n in itertools.islice(network.subnets(new_prefix=prefix), int(count))]
        except (TypeError, ValueError):
            return Unknown("Fn::Cidr of a value known only at deploy time")

    def import_value(self, argument: Any) -> Any:
        name = self.value(argument)
        return Unknown(f"Fn::ImportValue {name}: another stack's export, fixed at deploy time")

    def get_azs(self, argument: Any) -> Any:
        return Symbol("pseudo", "Fn::GetAZs")

    def condition_value(self, argument: Any) -> Any:
        return self.condition(str(argument))

    def equals(self, argument: Any) -> Any:
        return self._truth({"Fn::Equals": argument})

    def and_or_not(self, function: str, argument: Any) -> Any:
        return self._truth({function: argument})


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


_FUNCTIONS: dict[str, Any] = {
    "Ref": Resolver.ref,
    "Fn::GetAtt": Resolver.getatt,
    "Fn::Sub": Resolver.sub,
    "Fn::Join": Resolver.join,
    "Fn::Split": Resolver.split,
    "Fn::Select": Resolver.select,
    "Fn::FindInMap": Resolver.find_in_map,
    "Fn::If": Resolver.if_,
    "Fn::Base64": Resolver.base64,
    "Fn::Cidr": Resolver.cidr,
    "Fn::ImportValue": Resolver.import_value,
    "Fn::GetAZs": Resolver.get_azs,
    "Condition": Resolver.condition_value,
    "Fn::Equals": Resolver.equals,
    "Fn::And": lambda self, a: self.and_or_not("Fn::And", a),
    "Fn::Or": lambda self, a: self.and_or_not("Fn::Or", a),
    "Fn::Not": lambda self, a: self.and_or_not("Fn::Not", a),
}


# --------------------------------------------------------------------------------------
# A world written out as a plain template (what the scanners read)
# --------------------------------------------------------------------------------------


def evaluate(
    body: Mapping[str, Any],
    world: World,
    *,
    environment: Environment | None = None,
    bindings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The template as it deploys in ``world``.

    Parameters with a value in the world are substituted; ``Fn::If`` and resource/output
    ``Condition``s are decided (resources that do not exist are removed, with the DependsOn
    entries that name them); functions whose inputs are all literal are folded. Everything
    the template does not determine keeps its original expression, and the ``Default`` of a
    parameter the world leaves open is removed, so no scanner judges a default as if it
    were the value.
    """
    resolver = Resolver(body, environment=environment, world=world, bindings=bindings)
    # Folding never spells out what the environment fixes (AWS::Partition, AWS::Region): the
    # scanners know those, and a template without deploy-time choices stays byte-for-byte as written.
    folder = _Folder(body, environment=Environment(), world=world, bindings=bindings, deciding=resolver)
    result: dict[str, Any] = {}
    for key, section in body.items():
        if key == "Resources":
            result[key] = _world_entries(section, resolver, folder, exists=resolver.exists)
        elif key == "Outputs":
            outputs = _mapping(section)
            result[key] = _world_entries(
                outputs, resolver, folder, exists=functools.partial(_output_exists, resolver, outputs)
            )
        elif key == "Parameters":
            result[key] = _world_parameters(section, world, used=used_names(body), bindings=bindings or {})
        elif key != "Conditions":  # every condition is decided in a world
            result[key] = copy.deepcopy(section)
    gone = set(_mapping(body.get("Resources"))) - set(_mapping(result.get("Resources")))
    for resource in _mapping(result.get("Resources")).values():
        depends = resource.get("DependsOn")
        if isinstance(depends, list):
            resource["DependsOn"] = [d for d in depends if d not in gone]
        elif isinstance(depends, str) and depends in gone:
            resource.pop("DependsOn")
    return result


def _output_exists(resolver: Resolver, outputs: Any, name: str) -> bool | Unknown:
    condition = _mapping(_mapping(outputs).get(name)).get("Condition")
    return True if condition is None else resolver.condition(str(condition))


def _world_entries(section: Any, resolver: Resolver, folder: Resolver, *, exists: Any) -> dict[str, Any]:
    """Resources or outputs that exist in the world (their Condition is not false), folded."""
    return {
        name: _evaluate_entry(folder, entry) for name, entry in _mapping(section).items() if exists(name) is not False
    }


def _world_parameters(section: Any, world: World, *, used: set[str], bindings: Mapping[str, Any]) -> dict[str, Any]:
    parameters = {}
    for name, declared in _mapping(section).items():
        declaration = dict(_mapping(declared))
        if name in world.parameters:
            # Any Ref the world file keeps (inside a Text) renders as the world's value.
            declaration["Default"] = world.parameters[name]
        elif name in used and name not in bindings:
            declaration.pop("Default", None)
        parameters[name] = declaration
    return parameters


class _Folder(Resolver):
    """Resolves without the environment (nothing pseudo is folded) but decides conditions with it."""

    def __init__(self, body: Mapping[str, Any], *, deciding: Resolver, **kwargs: Any) -> None:
        super().__init__(body, **kwargs)
        self._deciding = deciding

    def condition(self, name: str) -> bool | Unknown:
        return self._deciding.condition(name)

    def setting(self, expression: Any) -> bool | int | float | None:
        """A boolean or number the environment decides (``Fn::FindInMap`` keyed by ``AWS::Region``), else None.

        Scanners read settings as literals and cannot look a mapping up: left as written, a compliant
        ``MultiAZ`` looked up by Region fails them. Text stays as written (ARNs read as CDK wrote them)."""
        value = self._deciding.value(expression)
        return value if isinstance(value, bool | int | float) else None


def _evaluate_entry(resolver: Resolver, entry: Any) -> Any:
    """A resource or output in the world: its Condition dropped, everything else folded.

    Resource attributes count too: under AWS::LanguageExtensions a DeletionPolicy may be an
    Fn::If, and a world file must not name a condition it no longer declares.
    """
    if not isinstance(entry, Mapping):
        return copy.deepcopy(entry)
    evaluated = {}
    for key, value in entry.items():
        if key == "Condition":
            continue
        if key in ("Type", "DependsOn"):
            evaluated[key] = copy.deepcopy(value)
            continue
        folded = _fold(resolver, value)
        if folded is not NO_VALUE:
            evaluated[key] = folded
    return evaluated


def _fold(resolver: Resolver, expression: Any) -> Any:
    """Evaluate what the world determines, keep the rest as written (see :func:`evaluate`)."""
    if isinstance(expression, list):
        return [v for v in (_fold(resolver, item) for item in expression) if v is not NO_VALUE]
    if not isinstance(expression, Mapping):
        return copy.deepcopy(expression)
    if len(expression) == 1:
        function, argument = next(iter(expression.items()))
        if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            return _fold_if(resolver, argument)
        if function == "Ref" and isinstance(argument, str):
            return _fold_ref(resolver, argument)
        if function.startswith("Fn::") and function != "Fn::Transform":
            value = resolver.value(expression)
            literal = is_literal(value) and value is not NO_VALUE
            if not literal and isinstance(resolver, _Folder):
                setting = resolver.setting(expression)
                value, literal = (setting, True) if setting is not None else (value, False)
            return value if literal else {function: _fold(resolver, argument)}
    return {k: v for k, v in ((k, _fold(resolver, v)) for k, v in expression.items()) if v is not NO_VALUE}


def _fold_if(resolver: Resolver, argument: list[Any]) -> Any:
    decided = resolver.condition(str(argument[0]))
    if isinstance(decided, bool):
        return _fold(resolver, argument[1] if decided else argument[2])
    return {"Fn::If": [argument[0], _fold(resolver, argument[1]), _fold(resolver, argument[2])]}


def _fold_ref(resolver: Resolver, name: str) -> Any:
    if name == "AWS::NoValue":
        return NO_VALUE
    if name in resolver.world.parameters or name in resolver.bindings:
        value = resolver.ref(name)
        return copy.deepcopy(value) if is_literal(value) else {"Ref": name}
    return {"Ref": name}


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
