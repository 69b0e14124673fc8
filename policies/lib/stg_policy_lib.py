"""Plumbing shared by the project's Python checkov checks (``policies/checks/**/*.py``).

Why this module exists
----------------------
checkov hands a resource check only ``{"Type", "Properties", "Metadata"}`` of one resource,
with intrinsics rendered its own way (a parameter's ``Default`` stands in for its value).
``DeletionPolicy``/``UpdateReplacePolicy``, the template's ``Outputs`` and every other
resource are invisible to it, so rules such as "no Retain anywhere", "the connection
details are exported" or "every network path into the database" cannot be written as plain
checkov resource checks or YAML graph policies.

They still run *inside* checkov (one engine, one report, checkov's own
``Metadata.checkov.skip`` suppressions, SARIF/JUnit records per resource): each Python
check is a thin checkov ``BaseResourceCheck`` whose rule is a pure function
``rule(ctx, logical_id) -> Verdict`` over a :class:`Context`: the whole template checkov is
scanning (found from checkov's call stack: ``Runner.check_definitions`` holds it in
``file_abs_path``; checkov 3.3.30, pinned in ``requirements/checkov.txt``), the template as
written (``ctx.raw``), and the shared resolver (``policies/lib/cfn_resolver.py``) that says
what every value is in this deploy-time world, or that it is unknown.

A rule answers with a :class:`Verdict`: passed, failed (with the reason), not evaluated
(the template does not determine what the rule needs: that fails the gate too) or not
applicable (with the reason). checkov itself only knows PASSED and FAILED, so "not
evaluated" is reported to checkov as FAILED (fail closed) and the verdict with its reason is
appended, one JSON line per resource, to the file named by ``$STG_POLICY_VERDICTS`` when the
gate sets it; the gate reads both. If the template lookup ever breaks (a checkov upgrade),
or a rule raises, the check FAILS, records "not evaluated" and logs an error: it never
silently passes. ``tests/policies`` proves every rule fails its fail fixture.

The module imports checkov only inside :func:`make_check`, so the pure helpers below can be
imported and unit-tested from the project's test environment, which has no checkov.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:  # inside checkov only policies/checks is known; the lib imports by package
    sys.path.insert(0, _REPO)

from policies.lib import cfn_resolver as cfn  # noqa: E402

Template = Mapping[str, Any]
T = TypeVar("T")

LOGGER = logging.getLogger("stg_policy_lib")
VERDICTS_ENV = "STG_POLICY_VERDICTS"


_TEMPLATE_CACHE: dict[tuple[str, float], Template] = {}
# checkov calls every Python check once per resource: one Context per template file serves them
# all, so what a rule learns about the template (resolved properties, facts) is computed once.
_CONTEXT_CACHE: dict[tuple[str, int, int], Context] = {}


# --------------------------------------------------------------------------------------
# The spec's values (infra/spec.toml: one source for the app's config, these policies and
# the property tests)
# --------------------------------------------------------------------------------------

# The gate names the app's spec module (a copy of policies/ elsewhere still judges this app's spec).
_SPEC_MODULE = Path(os.environ.get("STG_SPEC_MODULE") or Path(__file__).resolve().parents[2] / "infra" / "spec.py")
_SPEC: list[Any] = []


def spec() -> Any:
    """``infra.spec.Spec``, loaded by path: checkov's venv has no aws_cdk, so the ``infra`` package
    (whose ``__init__`` selects a Node.js for jsii) must not be imported; spec.py needs only tomllib."""
    if not _SPEC:
        loader = importlib.util.spec_from_file_location("stg_infra_spec", _SPEC_MODULE)
        if loader is None or loader.loader is None:
            raise ImportError(f"cannot load {_SPEC_MODULE}")
        module = importlib.util.module_from_spec(loader)
        sys.modules["stg_infra_spec"] = module  # dataclasses resolve their module by name
        loader.loader.exec_module(module)
        _SPEC.append(module.spec())
    return _SPEC[0]


ENVIRONMENT: str = spec().environment.name
REQUIRED_TAGS: dict[str, str] = dict(spec().environment.required_tags)


# --------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------

PASSED = "passed"
FAILED = "failed"
NOT_EVALUATED = "not-evaluated"
NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Verdict:
    status: str
    reason: str = ""


def passed(reason: str = "") -> Verdict:
    return Verdict(PASSED, reason)


def failed(reason: str) -> Verdict:
    return Verdict(FAILED, reason)


def not_evaluated(reason: str) -> Verdict:
    return Verdict(NOT_EVALUATED, reason)


def not_applicable(reason: str) -> Verdict:
    return Verdict(NOT_APPLICABLE, reason)


def worst(verdicts: list[Verdict]) -> Verdict:
    """The verdict of a rule made of several checks: any failure, else any unknown, else passed."""
    for status in (FAILED, NOT_EVALUATED):
        found = [v for v in verdicts if v.status == status]
        if found:
            return Verdict(status, "; ".join(dict.fromkeys(v.reason for v in found if v.reason)))
    return passed()


def unknown_in(value: Any, what: str) -> Verdict | None:
    """``not_evaluated`` naming the first value the template does not determine, or None."""
    found = cfn.unknowns(value)
    return not_evaluated(f"{what}: {found[0].reason}") if found else None


Rule = Callable[["Context", str], Verdict]


# --------------------------------------------------------------------------------------
# The template a rule judges
# --------------------------------------------------------------------------------------


def load_template(path: str) -> Template:
    """Parse a CloudFormation template (JSON, or YAML through checkov's own parser), cached."""
    key = (os.path.abspath(path), os.path.getmtime(path))
    cached = _TEMPLATE_CACHE.get(key)
    if cached is not None:
        return cached
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as handle:
            template: Template = json.load(handle)
    else:  # pragma: no cover - CDK emits JSON; YAML only when the gate scans hand-written templates
        from checkov.cloudformation.parser import parse  # type: ignore[import-not-found]  # noqa: PLC0415

        template, _ = parse(path)
    _TEMPLATE_CACHE[key] = template
    return template


class Context:
    """One template (one deploy-time world of it, when the gate wrote the file) as a rule sees it."""

    def __init__(self, template: Template, *, path: str = "", raw: Template | None = None) -> None:
        self.path = path
        self.template = template
        metadata = template.get("Metadata") if isinstance(template.get("Metadata"), Mapping) else {}
        world = metadata.get(cfn.WORLD_METADATA_KEY) if isinstance(metadata, Mapping) else None
        self.world_info: Mapping[str, Any] = world if isinstance(world, Mapping) else {}
        environment = self.world_info.get("environment") or {}
        self.environment = cfn.Environment(region=environment.get("region"), account=environment.get("account"))
        self.bindings = cfn.decode(self.world_info.get("bindings") or {})
        self.deploy_world = cfn.World.from_json(self.world_info.get("world"))
        self.world = self.deploy_world.describe()
        self._raw = raw
        # The world file has its choices substituted where they could be folded; a Ref the gate
        # kept (inside a Fn::Sub with symbols) still resolves to the world's value through it.
        self.resolver = cfn.Resolver(
            template, environment=self.environment, world=self.deploy_world, bindings=self.bindings
        )
        self._props: dict[str, Any] = {}
        self._facts: dict[Hashable, Any] = {}

    @classmethod
    def from_file(cls, path: str) -> Context:
        """The context of a template file, shared by every check and resource of one scan (keyed by its
        path, size and modification time, so a rewritten file gets a new one)."""
        status = os.stat(path)
        key = (os.path.abspath(path), status.st_mtime_ns, status.st_size)
        cached = _CONTEXT_CACHE.get(key)
        if cached is None:
            if len(_CONTEXT_CACHE) > 64:  # a scan reads each file in turn: keep memory bounded
                _CONTEXT_CACHE.clear()
            cached = _CONTEXT_CACHE[key] = cls(load_template(path), path=path)
        return cached

    def fact(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A fact about this template, computed once (``key`` names it: a module and its arguments)."""
        if key not in self._facts:
            self._facts[key] = compute()
        found: T = self._facts[key]
        return found

    @cached_property
    def raw(self) -> Template:
        """The template as written (before the gate decided parameters and conditions)."""
        if self._raw is not None:
            return self._raw
        source = self.world_info.get("source")
        return load_template(str(source)) if isinstance(source, str) and os.path.isfile(source) else self.template

    @cached_property
    def raw_resolver(self) -> cfn.Resolver:
        """Resolves expressions of the template as written, in this world (what the world file does not fold)."""
        return cfn.Resolver(self.raw, environment=self.environment, world=self.deploy_world, bindings=self.bindings)

    def type_of(self, logical_id: str) -> str:
        return str(resource(self.template, logical_id).get("Type", ""))

    def of_type(self, *types: str) -> list[str]:
        return sorted(lid for lid, res in resources(self.template).items() if res.get("Type") in types)

    def exists(self, logical_id: str) -> bool | cfn.Unknown:
        """Whether a resource exists in this world (a world file holds only those that do)."""
        return self.resolver.exists(logical_id)

    def attribute(self, logical_id: str, name: str) -> Any:
        """A resource attribute outside Properties (DeletionPolicy, UpdateReplacePolicy...), resolved.

        Resolved on the template as written, in this world: under ``AWS::LanguageExtensions``
        these may be ``Fn::If``/``Ref``, which a world file keeps unfolded. cfn.NO_VALUE if absent.
        """
        source = self.raw if logical_id in resources(self.raw) else self.template
        written = resource(source, logical_id)
        if name not in written:
            return cfn.NO_VALUE
        resolver = self.raw_resolver if source is self.raw else self.resolver
        return resolver.value(written[name])

    def outputs(self) -> dict[str, tuple[Any, Any]]:
        """Every output of this world: name -> (Value, Export.Name), resolved (cfn.NO_VALUE if no export)."""
        section = self.template.get("Outputs")
        result: dict[str, tuple[Any, Any]] = {}
        for name, output in section.items() if isinstance(section, Mapping) else ():
            if not isinstance(output, Mapping):
                continue
            export = output.get("Export")
            export_name = export.get("Name", cfn.NO_VALUE) if isinstance(export, Mapping) else cfn.NO_VALUE
            result[str(name)] = (
                self.resolver.value(output.get("Value")),
                export_name if export_name is cfn.NO_VALUE else self.resolver.value(export_name),
            )
        return result

    def props(self, logical_id: str) -> Any:
        """A resource's Properties, resolved (literals, symbols, unknowns), once per resource. Shared: read only."""
        if logical_id not in self._props:
            self._props[logical_id] = self.resolver.value(dict(properties(self.template, logical_id)))
        return self._props[logical_id]

    def value(self, logical_id: str, path: str) -> Any:
        """The resolved value at a dotted ``path`` of a resource's Properties (cfn.NO_VALUE if absent)."""
        value: Any = self.props(logical_id)
        for key in path.split("."):
            if isinstance(value, Mapping) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            elif isinstance(value, cfn.Unknown):
                return value
            else:
                return cfn.NO_VALUE
        return value

    def raw_property(self, logical_id: str, path: str) -> Any:
        """The value at a dotted ``path`` of a resource's Properties as written (cfn.NO_VALUE if absent)."""
        value: Any = properties(self.raw, logical_id)
        for key in path.split("."):
            if not isinstance(value, Mapping) or key not in value:
                return cfn.NO_VALUE
            value = value[key]
        return value


# --------------------------------------------------------------------------------------
# checkov integration
# --------------------------------------------------------------------------------------


def current_template_path() -> str | None:
    """Path of the template checkov is scanning right now, read from its call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "check_definitions":
            path = frame.f_locals.get("file_abs_path")
            if isinstance(path, str):
                return path
        frame = frame.f_back  # type: ignore[assignment]
    return None


def record_verdict(policy_id: str, path: str, logical_id: str, verdict: Verdict) -> None:
    """Append the verdict to ``$STG_POLICY_VERDICTS`` (one line, one atomic O_APPEND write)."""
    target = os.environ.get(VERDICTS_ENV)
    if not target:
        return
    line = json.dumps(
        {"policy": policy_id, "file": os.path.abspath(path), "logical_id": logical_id,
         "status": verdict.status, "reason": verdict.reason},
        sort_keys=True,
    ) + "\n"  # fmt: skip
    descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode("utf-8"))
    finally:
        os.close(descriptor)


def judge(rule: Rule, path: str, logical_id: str) -> Verdict:
    """Run a rule on one resource of the template at ``path``; a crash is "not evaluated", never a pass."""
    try:
        verdict = rule(Context.from_file(path), logical_id)
    except Exception as error:  # a rule bug must fail closed, with the reason in the report
        LOGGER.exception("rule crashed on %s:%s; failing closed", path, logical_id)
        return not_evaluated(f"the rule crashed: {type(error).__name__}: {error}")
    if not isinstance(verdict, Verdict):
        return not_evaluated(f"the rule returned {verdict!r}, not a Verdict")
    return verdict


def make_check(metadata: Mapping[str, Any], rule: Rule) -> Any:
    """Build and register a checkov check from a policy's METADATA and its rule function."""
    from checkov.cloudformation.checks.resource.base_resource_check import (  # type: ignore[import-not-found]  # noqa: PLC0415
        BaseResourceCheck,
    )
    from checkov.common.bridgecrew.severities import Severities  # type: ignore[import-not-found]  # noqa: PLC0415
    from checkov.common.models.enums import CheckCategories, CheckResult  # type: ignore[import-not-found]  # noqa: PLC0415

    class ProjectTemplateCheck(BaseResourceCheck):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(
                name=metadata["name"],
                id=metadata["id"],
                categories=(CheckCategories[metadata["category"]],),
                supported_resources=tuple(metadata["resource_types"]),
                guideline=metadata.get("guideline"),
            )

        def scan_resource_conf(self, conf: dict[str, Any]) -> Any:
            logical_id = self.entity_path.rsplit(":", 1)[-1]
            path = current_template_path()
            if path is None:
                LOGGER.error("%s: cannot locate the template being scanned; failing closed", self.id)
                return CheckResult.FAILED
            verdict = judge(rule, path, logical_id)
            record_verdict(self.id, path, logical_id, verdict)
            return CheckResult.PASSED if verdict.status in (PASSED, NOT_APPLICABLE) else CheckResult.FAILED

    ProjectTemplateCheck.__name__ = ProjectTemplateCheck.__qualname__ = metadata["id"]
    check = ProjectTemplateCheck()
    check.severity = Severities[metadata["severity"]]
    return check


# --------------------------------------------------------------------------------------
# Template helpers (pure)
# --------------------------------------------------------------------------------------


def resources(template: Template) -> Mapping[str, Mapping[str, Any]]:
    res = template.get("Resources") or {}
    return res if isinstance(res, Mapping) else {}


def resource(template: Template, logical_id: str) -> Mapping[str, Any]:
    found = resources(template).get(logical_id)
    return found if isinstance(found, Mapping) else {}


def properties(template: Template, logical_id: str) -> Mapping[str, Any]:
    props = resource(template, logical_id).get("Properties") or {}
    return props if isinstance(props, Mapping) else {}


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


# --------------------------------------------------------------------------------------
# Tags
# --------------------------------------------------------------------------------------


def taggable(resource_type: str) -> bool | None:
    """Whether CloudFormation tags resources of this type (its schema), None for a type the schemas do not know."""
    return bool(type_facts(resource_type).get("taggable")) if known_type(resource_type) else None


def tag_property(resource_type: str) -> str:
    """Where the type's tags live (its schema's ``tagging.tagProperty``: ``Tags``, ``UserPoolTags``,
    ``TagSpecifications.*.Tags``...)."""
    return str(type_facts(resource_type).get("tag_property") or "Tags")


def tags_of(value: Any) -> tuple[dict[str, list[Any]], list[str]]:
    """A resolved ``Tags`` value (Key/Value list or map) as key -> values, and what the template leaves open."""
    found: dict[str, list[Any]] = {}
    open_ended: list[str] = []
    if value is cfn.NO_VALUE or value is None:
        return found, open_ended
    if isinstance(value, cfn.Unknown | cfn.Symbol | cfn.Text):
        return found, [f"Tags: {undetermined(value)}"]
    items = value.items() if isinstance(value, Mapping) else []
    if isinstance(value, list):
        items = []
        for item in value:
            if isinstance(item, Mapping):
                items.append((item.get("Key", cfn.NO_VALUE), item.get("Value", cfn.NO_VALUE)))
            else:
                reason = undetermined(item)
                open_ended.append(f"a tag {reason}" if reason else f"a tag is not a Key/Value pair: {describe(item)}")
    for key, tag_value in items:
        if isinstance(key, str):
            found.setdefault(key, []).append(tag_value)
        else:
            open_ended.append(f"a tag key: {undetermined(key) or describe(key)}")
    return found, open_ended


# --------------------------------------------------------------------------------------
# Naming: <resource-type>-<environment>-<suffix>
# --------------------------------------------------------------------------------------

TYPE_TOKEN = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
SUFFIX_TOKEN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_NAME = re.compile(rf"^(?P<type>{TYPE_TOKEN})-{ENVIRONMENT}-(?P<suffix>{SUFFIX_TOKEN})$")

# Physical-name property per type. MUST: the spec's own resources must be named (an
# unnamed one gets a CloudFormation-generated name without the suffix). MAY: CDK helper
# types are often unnamed; when they are named, the name must follow the convention.
NAME_PROPERTY_REQUIRED = {
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBParameterGroup": "DBParameterGroupName",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::EC2::SecurityGroup": "GroupName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
}
NAME_PROPERTY_OPTIONAL = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::RDS::DBClusterParameterGroup": "DBClusterParameterGroupName",
    "AWS::RDS::DBCluster": "DBClusterIdentifier",
    "AWS::RDS::OptionGroup": "OptionGroupName",
    "AWS::DMS::ReplicationInstance": "ReplicationInstanceIdentifier",
    "AWS::DMS::ReplicationSubnetGroup": "ReplicationSubnetGroupIdentifier",
    "AWS::DMS::Endpoint": "EndpointIdentifier",
    "AWS::DMS::ReplicationTask": "ReplicationTaskIdentifier",
    "AWS::Backup::BackupVault": "BackupVaultName",
}
NAMED_TYPES = {**NAME_PROPERTY_OPTIONAL, **NAME_PROPERTY_REQUIRED}
# Types whose Ref returns their physical name (the property above): a name built from such a
# Ref (a log group named after the instance) is as determined as the referenced name.
_REF_IS_NAME = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBParameterGroup",
        "AWS::RDS::DBSubnetGroup",
        "AWS::Logs::LogGroup",
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBClusterParameterGroup",
        "AWS::RDS::OptionGroup",
    }
)


def name_suffix(name: Any) -> str | None:
    """The suffix of a convention-following name (any '/'-segment may carry it), else None."""
    if not isinstance(name, str):
        return None
    for segment in name.split("/"):
        match = _NAME.fullmatch(segment)
        if match:
            return match["suffix"]
    return None


def name_text(ctx: Context, value: Any, *, depth: int = 0) -> str | None:
    """A resolved name as a string: literal, or built from Refs of resources whose Ref is their literal name.

    None when the template does not determine the text (a parameter, an import, the stack
    name, a resource whose name CloudFormation generates).
    """
    if isinstance(value, str):
        return value
    if depth > 5:
        return None
    if isinstance(value, cfn.Symbol):
        if value.kind == "ref" and value.origin == "this" and value.resource_type in _REF_IS_NAME:
            referenced = ctx.value(value.name, NAMED_TYPES[value.resource_type])
            return name_text(ctx, referenced, depth=depth + 1)
        return None
    if isinstance(value, cfn.Text):
        pieces = [name_text(ctx, part, depth=depth + 1) for part in value.parts]
        return None if any(p is None for p in pieces) else "".join(p for p in pieces if p is not None)
    return None


def physical_name(ctx: Context, logical_id: str) -> Any:
    """The resolved physical-name property of a named resource (cfn.NO_VALUE if absent)."""
    return ctx.value(logical_id, NAMED_TYPES.get(ctx.type_of(logical_id), ""))


def stack_names(ctx: Context) -> list[str]:
    """Every physical name and export name of the template that the template determines."""
    found = [name_text(ctx, physical_name(ctx, lid)) for lid in ctx.of_type(*NAMED_TYPES)]
    found += [name_text(ctx, export) for _, export in ctx.outputs().values()]
    return [n for n in found if n is not None]


def stack_suffix(names: Iterable[Any]) -> str | None:
    """The environment suffix these names use: the most common suffix among them.

    The suffix is a deploy-time choice (cdk.json ``environmentSuffix``), so the policy
    infers it rather than hard-coding ``main``. One deviating name is then the odd one out.
    ``STG_ENVIRONMENT_SUFFIX`` in the environment pins it when the gate knows it.
    """
    pinned = os.environ.get("STG_ENVIRONMENT_SUFFIX")
    if pinned:
        return pinned
    counts = Counter(s for s in (name_suffix(n) for n in names) if s)
    if not counts:
        return None
    ranked = counts.most_common()
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None  # no clear suffix: every name is suspect
    return ranked[0][0]


def follows_convention(name: Any, suffix: str | None) -> bool:
    return suffix is not None and name_suffix(name) == suffix


# --------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------


def cidr_within(cidr: Any, allowed: Sequence[str]) -> bool:
    """True if ``cidr`` lies inside one of the ``allowed`` ranges (same IP version); False for anything else."""
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(
        network.version == a.version and network.subnet_of(a)  # type: ignore[arg-type]
        for a in (ipaddress.ip_network(x, strict=False) for x in allowed)
    )


# --------------------------------------------------------------------------------------
# CloudFormation resource type facts (cfn_types.json, generated from cfn-lint's schemas)
# --------------------------------------------------------------------------------------

_TYPE_FACTS: dict[str, Any] = {}


def _all_type_facts() -> Mapping[str, Any]:
    if not _TYPE_FACTS:
        path = Path(__file__).with_name("cfn_types.json")
        _TYPE_FACTS.update(json.loads(path.read_text(encoding="utf-8"))["types"])
    return _TYPE_FACTS


def type_facts(resource_type: str) -> Mapping[str, Any]:
    """Facts of a type: ``taggable``, ``key_properties``, ``policy_properties``, ``principal_properties``,
    ``create_only`` (absent: false or none). An unknown type has no facts."""
    facts = _all_type_facts().get(resource_type)
    return facts if isinstance(facts, Mapping) else {}


def known_type(resource_type: str) -> bool:
    """Whether CloudFormation's schemas (as cfn-lint ships them) define this resource type."""
    return resource_type in _all_type_facts()


def expect(ctx: Context, logical_id: str, path: str, *, wanted: Callable[[Any], bool], expected: str) -> Verdict:
    """A property that must have a spec value: absent or different fails, undetermined is not evaluated."""
    value = ctx.value(logical_id, path)
    if value is cfn.NO_VALUE:
        return failed(f"{path} is not set: the spec asks for {expected}")
    unknown = unknown_in(value, path)
    if unknown is not None:
        return unknown
    return passed() if wanted(value) else failed(f"{path} is {describe(value)}, not {expected}")


def same_text(expected: Any) -> Callable[[Any], bool]:
    """CloudFormation passes properties as strings: 200, "200", true and "true" are the same value."""
    want = _scalar(expected)
    return lambda value: _scalar(value) == want


def at_least(minimum: float) -> Callable[[Any], bool]:
    return lambda value: (number := as_number(value)) is not None and number >= minimum


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value
