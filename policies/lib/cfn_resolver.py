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
decide by itself. :func:`policies.lib.cfn_worlds.worlds` lists them all (their product, bounded by
``limit``).

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

:func:`policies.lib.cfn_worlds.evaluate` writes a world as a plain template (parameters substituted, conditions and
``Fn::If`` decided, resources that do not exist in that world removed, literal-only functions
folded), which is what every scanner then reads.

The jobs live in sibling modules (each under 500 lines, issue 20): ``cfn_values`` (what a
resolution answers with), ``cfn_references`` (the dynamic-reference grammar), this module (the
resolver proper: one template in one world) and ``cfn_worlds`` (enumerating worlds and writing
one out). The values are imported here under their own names, so ``cfn_resolver.Symbol`` and
the other names callers used before the split keep working.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

from policies.lib.cfn_references import contains_dynamic_reference
from policies.lib.cfn_values import (
    NO_VALUE,
    Environment,
    Symbol,
    Text,
    TooManyWorldsError,
    Unknown,
    World,
    contains_intrinsic,
    decode,
    encode,
    is_intrinsic,
    is_literal,
    unknowns,
)
from policies.lib.cfn_values import as_mapping as _mapping

# The values are re-exported: callers keep writing ``cfn_resolver.Symbol`` after the split.
__all__ = [
    "NO_VALUE",
    "Environment",
    "Symbol",
    "Text",
    "TooManyWorldsError",
    "Unknown",
    "World",
    "contains_intrinsic",
    "decode",
    "encode",
    "is_intrinsic",
    "is_literal",
    "unknowns",
]

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
UNENUMERABLE_PARAMETER_TYPE = re.compile(r"^(AWS::SSM::Parameter::Value<.*>|List<.*>|CommaDelimitedList)$")
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
CONDITION_FUNCTIONS = frozenset({"Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or", "Condition"})


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
            return Unknown(f"dynamic reference {expression}") if contains_dynamic_reference(expression) else expression
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
        if UNENUMERABLE_PARAMETER_TYPE.match(kind):
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
        for match in SUB_VARIABLE.finditer(text):
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
