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

import ipaddress
import json
import logging
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:  # inside checkov only policies/checks is known; the lib imports by package
    sys.path.insert(0, _REPO)

from policies.lib import cfn_resolver as cfn  # noqa: E402

Template = Mapping[str, Any]

LOGGER = logging.getLogger("stg_policy_lib")
VERDICTS_ENV = "STG_POLICY_VERDICTS"

# The environment this project's stacks are for; the spec fixes it (tags Environment=staging).
ENVIRONMENT = "staging"
REQUIRED_TAGS = {"Environment": "staging", "CostCenter": "engineering"}

_TEMPLATE_CACHE: dict[tuple[str, float], Template] = {}


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
        self.world = cfn.World.from_json(self.world_info.get("world")).describe()
        self._raw = raw
        self.resolver = cfn.Resolver(template, environment=self.environment, bindings=self.bindings)

    @classmethod
    def from_file(cls, path: str) -> Context:
        return cls(load_template(path), path=path)

    @cached_property
    def raw(self) -> Template:
        """The template as written (before the gate decided parameters and conditions)."""
        if self._raw is not None:
            return self._raw
        source = self.world_info.get("source")
        return load_template(str(source)) if isinstance(source, str) and os.path.isfile(source) else self.template

    def type_of(self, logical_id: str) -> str:
        return str(resource(self.template, logical_id).get("Type", ""))

    def of_type(self, *types: str) -> list[str]:
        return sorted(lid for lid, res in resources(self.template).items() if res.get("Type") in types)

    def props(self, logical_id: str) -> Any:
        """A resource's Properties, resolved (literals, symbols, unknowns)."""
        return self.resolver.value(dict(properties(self.template, logical_id)))

    def value(self, logical_id: str, path: str) -> Any:
        return self.resolver.property(logical_id, path)

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
    return resources(template).get(logical_id) or {}


def properties(template: Template, logical_id: str) -> Mapping[str, Any]:
    props = resource(template, logical_id).get("Properties") or {}
    return props if isinstance(props, Mapping) else {}


def of_type(template: Template, *types: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(logical id, properties) of every resource of the given types."""
    for logical_id, res in resources(template).items():
        if isinstance(res, Mapping) and res.get("Type") in types:
            props = res.get("Properties") or {}
            yield logical_id, props if isinstance(props, Mapping) else {}


def ref_target(value: Any) -> str | None:
    """Logical id a ``Ref``/``Fn::GetAtt`` points at, else None."""
    if isinstance(value, Mapping) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt and isinstance(getatt[0], str):
            return getatt[0]
        if isinstance(getatt, str):
            return getatt.split(".", 1)[0]
    return None


def getatt(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of a ``Fn::GetAtt``, else None."""
    if isinstance(value, Mapping) and len(value) == 1 and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        if isinstance(target, list) and len(target) == 2 and all(isinstance(t, str) for t in target):
            return target[0], target[1]
        if isinstance(target, str) and "." in target:
            logical_id, attribute = target.split(".", 1)
            return logical_id, attribute
    return None


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


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


def tags_of(props: Mapping[str, Any]) -> dict[str, Any] | None:
    """Tags as a dict, from the list-of-Key/Value form or the map form; None if absent."""
    tags = props.get("Tags")
    if tags is None:
        return None
    if isinstance(tags, Mapping):
        return dict(tags)
    result: dict[str, Any] = {}
    for item in as_list(tags):
        if isinstance(item, Mapping) and "Key" in item:
            result[str(item["Key"])] = item.get("Value")
    return result


def contains_string(value: Any, needle: str) -> bool:
    """True if any string inside ``value`` (nested lists/dicts) contains ``needle``."""
    if isinstance(value, str):
        return needle in value
    if isinstance(value, Mapping):
        return any(contains_string(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(contains_string(v, needle) for v in value)
    return False


def references(value: Any, logical_id: str) -> bool:
    """True if ``value`` contains a Ref/GetAtt to ``logical_id`` anywhere inside it."""
    if ref_target(value) == logical_id:
        return True
    if isinstance(value, Mapping):
        return any(references(v, logical_id) for v in value.values())
    if isinstance(value, list):
        return any(references(v, logical_id) for v in value)
    return False


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


def name_suffix(name: Any) -> str | None:
    """The suffix of a convention-following name (any '/'-segment may carry it), else None."""
    if not isinstance(name, str):
        return None
    for segment in name.split("/"):
        match = _NAME.fullmatch(segment)
        if match:
            return match["suffix"]
    return None


def physical_names(template: Template) -> Iterator[tuple[str, str, Any]]:
    """(logical id, type, name value or None) of every resource of a named type."""
    for logical_id, res in resources(template).items():
        resource_type = res.get("Type") if isinstance(res, Mapping) else None
        if resource_type in NAMED_TYPES:
            yield logical_id, resource_type, properties(template, logical_id).get(NAMED_TYPES[resource_type])


def export_names(template: Template) -> list[Any]:
    outputs = template.get("Outputs") or {}
    return [(o.get("Export") or {}).get("Name") for o in outputs.values() if isinstance(o, Mapping)]


def stack_suffix(template: Template) -> str | None:
    """The environment suffix this template uses: the most common suffix among its names.

    The suffix is a deploy-time choice (cdk.json ``environmentSuffix``), so the policy
    infers it rather than hard-coding ``main``. One deviating name is then the odd one out.
    ``STG_ENVIRONMENT_SUFFIX`` in the environment pins it when the gate knows it.
    """
    pinned = os.environ.get("STG_ENVIRONMENT_SUFFIX")
    if pinned:
        return pinned
    counts = Counter(
        s
        for s in [name_suffix(n) for _, _, n in physical_names(template)]
        + [name_suffix(n) for n in export_names(template)]
        if s
    )
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


def cidr_within(cidr: Any, allowed: tuple[str, ...]) -> bool:
    if not isinstance(cidr, str):
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return any(
        network.version == a.version and network.subnet_of(a)  # type: ignore[arg-type]
        for a in (ipaddress.ip_network(x) for x in allowed)
    )


# --------------------------------------------------------------------------------------
# IAM policy documents
# --------------------------------------------------------------------------------------

POLICY_DOCUMENT_PROPERTIES = ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument", "ResourcePolicy")


def policy_documents(props: Mapping[str, Any]) -> Iterator[Any]:
    for key in POLICY_DOCUMENT_PROPERTIES:
        if key in props:
            yield props[key]
    for inline in as_list(props.get("Policies")):
        if isinstance(inline, Mapping) and "PolicyDocument" in inline:
            yield inline["PolicyDocument"]


def wildcard_allow_actions(document: Any) -> list[str]:
    """Actions with a ``*`` (or any NotAction) in Allow statements of a policy document."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    if not isinstance(document, Mapping):
        return []
    found: list[str] = []
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']}")
        found.extend(a for a in as_list(statement.get("Action")) if isinstance(a, str) and "*" in a)
    return found


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


def describe(value: Any) -> str:
    """A resolved value, short, for a reason text."""
    if value is cfn.NO_VALUE:
        return "absent"
    if isinstance(value, cfn.Symbol | cfn.Text | cfn.Unknown):
        return str(value)
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


# --------------------------------------------------------------------------------------
# CloudFormation resource type facts (cfn_types.json, generated from cfn-lint's schemas)
# --------------------------------------------------------------------------------------

_TYPE_FACTS: dict[str, Any] = {}


def type_facts(resource_type: str) -> Mapping[str, Any]:
    """Facts of a type: ``taggable``, ``key_properties``, ``policy_properties``, ``principal_properties``,
    ``create_only`` (absent: false or none). An unknown type has no facts."""
    if not _TYPE_FACTS:
        path = Path(__file__).with_name("cfn_types.json")
        _TYPE_FACTS.update(json.loads(path.read_text(encoding="utf-8"))["types"])
    facts = _TYPE_FACTS.get(resource_type)
    return facts if isinstance(facts, Mapping) else {}


# --------------------------------------------------------------------------------------
# The stack's customer-managed keys
# --------------------------------------------------------------------------------------

KEY_TYPES = ("AWS::KMS::Key", "AWS::KMS::ReplicaKey")
ALIAS_TYPE = "AWS::KMS::Alias"


def alias_target(ctx: Context, alias_name: str) -> Any:
    for alias in ctx.of_type(ALIAS_TYPE):
        if ctx.value(alias, "AliasName") == alias_name:
            return ctx.value(alias, "TargetKeyId")
    return None


def is_stack_key(ctx: Context, value: Any, *, depth: int = 0) -> bool | None:
    """True if ``value`` names a KMS key of this stack (or its parent); None if the template cannot tell."""
    if isinstance(value, cfn.Unknown):
        return None
    found = symbol(value)
    if found is not None:
        return _symbol_is_stack_key(ctx, found, depth=depth)
    text = str(value) if isinstance(value, cfn.Text) else value
    if not isinstance(text, str) or not (":alias/" in text or text.startswith("alias/")) or depth >= 3:
        return False
    name = "alias/" + text.split("alias/", 1)[1]
    target = None if name.startswith("alias/aws/") else alias_target(ctx, name)  # alias/aws/*: AWS managed keys
    return False if target is None else is_stack_key(ctx, target, depth=depth + 1)


def _symbol_is_stack_key(ctx: Context, found: cfn.Symbol, *, depth: int) -> bool | None:
    if found.resource_type in KEY_TYPES:
        return found.attribute in ("", "Arn", "KeyId")
    if found.resource_type == ALIAS_TYPE and found.origin == "this" and depth < 3:
        return is_stack_key(ctx, ctx.value(found.name, "TargetKeyId"), depth=depth + 1)
    return False
