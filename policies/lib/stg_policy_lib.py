"""Plumbing shared by the project's Python checkov checks (``policies/checks/**/*.py``).

Why this module exists
----------------------
checkov hands a resource check only ``{"Type", "Properties", "Metadata"}`` of one resource.
``DeletionPolicy``/``UpdateReplacePolicy``, the template's ``Outputs`` and every other
resource are invisible to it, so rules such as "no Retain anywhere", "the connection
details are exported" or "the DB subnets have no route to an internet gateway" cannot be
written as plain checkov resource checks or YAML graph policies.

They still run *inside* checkov (one engine, one report, checkov's own
``Metadata.checkov.skip`` suppressions, SARIF/JUnit records per resource): each Python
check is a thin checkov ``BaseResourceCheck`` whose rule is a pure function
``rule(template, logical_id) -> bool | None`` over the whole, raw template. The check finds
the template it is scanning from checkov's call stack (``Runner.check_definitions`` holds it
in ``file_abs_path``; checkov 3.3.30, pinned in ``requirements/checkov.txt``) and parses the
file once per run. If that lookup ever breaks (a checkov upgrade), every such check FAILS
and logs an error: it fails closed, never silently passes. ``tests/policies`` proves every
rule fails its fail fixture, so an upgrade that breaks the lookup cannot go unnoticed.

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
from typing import Any

Template = Mapping[str, Any]
Rule = Callable[[Template, str], "bool | None"]

LOGGER = logging.getLogger("stg_policy_lib")

# The environment this project's stacks are for; the spec fixes it (tags Environment=staging).
ENVIRONMENT = "staging"
REQUIRED_TAGS = {"Environment": "staging", "CostCenter": "engineering"}

_TEMPLATE_CACHE: dict[tuple[str, float], Template] = {}


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


def make_check(metadata: Mapping[str, Any], rule: Rule) -> Any:
    """Build and register a checkov check from a policy's METADATA and its rule function.

    ``rule(template, logical_id)`` returns True (pass), False (fail) or None (not applicable,
    no record). An exception in the rule, or a template that cannot be located, is a FAIL.
    """
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
            try:
                verdict = rule(load_template(path), logical_id)
            except Exception:
                LOGGER.exception("%s crashed on %s:%s; failing closed", self.id, path, logical_id)
                return CheckResult.FAILED
            if verdict is None:
                return CheckResult.UNKNOWN
            return CheckResult.PASSED if verdict else CheckResult.FAILED

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
