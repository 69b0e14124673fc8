"""Plumbing shared by the project's Python checkov checks (``policies/checks/**/*.py``): ``lib``.

The checks import this one module (``from policies.lib import stg_policy_lib as lib``). It holds
the spec's values and the domain helpers (tags, naming, networks, resource type facts, spec
values a property must have); the policy engine (:class:`Verdict`, :class:`Context`, the checkov
check a rule becomes) lives in ``stg_engine`` and the resolved-value helpers in ``stg_values``
(issue 20: no module over 500 lines). Their names are re-exported here (``__all__``), so
``lib.Context``, ``lib.failed``, ``lib.describe`` keep working in every check.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:  # inside checkov only policies/checks is known; the lib imports by package
    sys.path.insert(0, _REPO)

from policies.lib import cfn_resolver as cfn  # noqa: E402
from policies.lib.stg_engine import (  # noqa: E402
    FAILED,
    LOGGER,
    NOT_APPLICABLE,
    NOT_EVALUATED,
    PASSED,
    VERDICTS_ENV,
    Context,
    Rule,
    Template,
    Verdict,
    current_template_path,
    failed,
    judge,
    load_template,
    make_check,
    not_applicable,
    not_evaluated,
    passed,
    properties,
    record_verdict,
    resource,
    resources,
    unknown_in,
    worst,
)
from policies.lib.stg_values import (  # noqa: E402
    as_list,
    as_number,
    describe,
    names,
    parse_json_text,
    points_at,
    symbol,
    truth,
    undetermined,
    values_at,
)

__all__ = [
    "FAILED",
    "LOGGER",
    "NOT_APPLICABLE",
    "NOT_EVALUATED",
    "PASSED",
    "VERDICTS_ENV",
    "Context",
    "Rule",
    "Template",
    "Verdict",
    "as_list",
    "as_number",
    "current_template_path",
    "describe",
    "failed",
    "judge",
    "load_template",
    "make_check",
    "names",
    "not_applicable",
    "not_evaluated",
    "parse_json_text",
    "passed",
    "points_at",
    "properties",
    "record_verdict",
    "resource",
    "resources",
    "symbol",
    "truth",
    "undetermined",
    "unknown_in",
    "values_at",
    "worst",
]


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
