"""Deploy-time worlds of a template: which there are, and each written out as a plain template.

A *world* fixes every deploy-time choice the template offers (see ``cfn_resolver``):
:func:`worlds` lists them, :func:`evaluate` writes one as the template every scanner reads.
Standard library only (checkov's venv imports the resolver's siblings too).
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from policies.lib.cfn_resolver import DEFAULT_WORLD_LIMIT, Resolver
from policies.lib.cfn_resolver import SUB_VARIABLE as _SUB_VARIABLE
from policies.lib.cfn_resolver import UNENUMERABLE_PARAMETER_TYPE as _UNENUMERABLE_PARAMETER_TYPE
from policies.lib.cfn_values import NO_VALUE, Environment, TooManyWorldsError, Unknown, World, is_literal
from policies.lib.cfn_values import as_mapping as _mapping


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
