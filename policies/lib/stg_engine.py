"""The policy engine the project's Python checkov checks (``policies/checks/**/*.py``) run on.

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

import json
import logging
import os
import sys
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from policies.lib import cfn_resolver as cfn

Template = Mapping[str, Any]
T = TypeVar("T")

LOGGER = logging.getLogger("stg_policy_lib")
VERDICTS_ENV = "STG_POLICY_VERDICTS"
# Properties the service reads without regard to case ("Postgres" creates a postgres instance; cfn-lint
# lowercases them before its own RDS rules): the policies compare them in lower case, or a spelling
# the service accepts would fail (over-blocking) while the same instance spelled in lower case passes.
CASE_INSENSITIVE: dict[str, tuple[str, ...]] = {
    "AWS::RDS::DBInstance": ("Engine",),
    "AWS::RDS::DBCluster": ("Engine",),
}


_TEMPLATE_CACHE: dict[tuple[str, float], Template] = {}
# checkov calls every Python check once per resource: one Context per template file serves them
# all, so what a rule learns about the template (resolved properties, facts) is computed once.
_CONTEXT_CACHE: dict[tuple[str, int, int], Context] = {}

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
        """A resource's Properties, resolved (literals, symbols, unknowns), once per resource. Shared: read only.

        A value the service reads without regard to case (CASE_INSENSITIVE) is judged in lower case.
        """
        if logical_id not in self._props:
            resolved = self.resolver.value(dict(properties(self.template, logical_id)))
            folded = CASE_INSENSITIVE.get(str(resource(self.template, logical_id).get("Type", "")), ())
            if isinstance(resolved, Mapping) and any(isinstance(resolved.get(k), str) for k in folded):
                resolved = {k: v.lower() if k in folded and isinstance(v, str) else v for k, v in resolved.items()}
            self._props[logical_id] = resolved
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
