"""Compliance properties of one synthesized template, as pure functions: template in, violations out.

Deliberately independent of ``infra/``: the name limits and patterns below are copied from the
AWS documentation, taggability comes from the CloudFormation resource schemas that cfn-lint
ships, and nothing here calls ``infra.naming``. A bug in the code under test therefore cannot
also switch off the check that should catch it.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cfnlint

Template = Mapping[str, Any]

# --------------------------------------------------------------------------- names

# Resource type -> (name property, AWS max length, AWS allowed pattern).
NAME_PROPERTIES: dict[str, tuple[str, int, str]] = {
    "AWS::RDS::DBInstance": ("DBInstanceIdentifier", 63, r"[a-zA-Z](?:-?[a-zA-Z0-9])*"),
    "AWS::RDS::DBParameterGroup": ("DBParameterGroupName", 255, r"[a-zA-Z](?:-?[a-zA-Z0-9])*"),
    "AWS::RDS::DBSubnetGroup": ("DBSubnetGroupName", 255, r"[a-z0-9][a-z0-9._ -]*"),
    "AWS::EC2::SecurityGroup": ("GroupName", 255, r"[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]+"),
    "AWS::KMS::Alias": ("AliasName", 256, r"alias/[A-Za-z0-9/_-]+"),
    "AWS::Logs::LogGroup": ("LogGroupName", 512, r"[A-Za-z0-9._/#-]+"),
    "AWS::SNS::Topic": ("TopicName", 256, r"[A-Za-z0-9_-]+"),
    "AWS::CloudWatch::Alarm": ("AlarmName", 255, r"[^\x00-\x1f]+"),
    "AWS::CloudWatch::Dashboard": ("DashboardName", 255, r"[A-Za-z0-9_-]+"),
    "AWS::IAM::Role": ("RoleName", 64, r"[A-Za-z0-9+=,.@_-]+"),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", 128, r"[A-Za-z0-9+=,.@_-]+"),
    "AWS::IAM::User": ("UserName", 64, r"[A-Za-z0-9+=,.@_-]+"),
    "AWS::Lambda::Function": ("FunctionName", 64, r"[A-Za-z0-9_-]+"),
    "AWS::SecretsManager::Secret": ("Name", 512, r"[A-Za-z0-9/_+=.@-]+"),
    "AWS::SQS::Queue": ("QueueName", 80, r"[A-Za-z0-9_-]+"),
    "AWS::S3::Bucket": ("BucketName", 63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]"),
}
EXPORT_NAME_LIMIT, EXPORT_NAME_PATTERN = 255, r"[A-Za-z0-9:-]+"
STACK_NAME_LIMIT, STACK_NAME_PATTERN = 128, r"[A-Za-z][A-Za-z0-9-]*"

# CDK-internal resources CloudFormation names itself (<stack name>-<logical id>-<random>, so the
# stack name carries the suffix). Matched by logical-id prefix; anything else must be named.
GENERATED_NAME_ALLOWED = ("CustomVpcRestrictDefaultSGCustomResourceProvider",)


def convention(environment: str, suffix: str) -> re.Pattern[str]:
    return re.compile(rf"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-{re.escape(environment)}-{re.escape(suffix)}")


def _follows(name: str, pattern: re.Pattern[str]) -> bool:
    # Log groups and aliases are paths: one segment carries the convention (/aws/rds/instance/rds-staging-x/postgresql).
    return any(pattern.fullmatch(segment) for segment in name.split("/"))


@dataclass(frozen=True)
class NamedThing:
    where: str
    name: Any
    limit: int
    pattern: str


def named_things(template: Template, stack_name: str | None = None) -> Iterator[NamedThing]:
    for logical_id, resource in template.get("Resources", {}).items():
        spec = NAME_PROPERTIES.get(resource.get("Type", ""))
        if spec is None or not spec[0]:
            continue
        prop, limit, pattern = spec
        if prop in resource.get("Properties", {}):
            yield NamedThing(f"{logical_id}.{prop}", resource["Properties"][prop], limit, pattern)
    for output_id, output in template.get("Outputs", {}).items():
        if "Export" in output:
            yield NamedThing(
                f"Outputs.{output_id}.Export.Name", output["Export"].get("Name"), EXPORT_NAME_LIMIT, EXPORT_NAME_PATTERN
            )
    if stack_name is not None:
        yield NamedThing("stack name", stack_name, STACK_NAME_LIMIT, STACK_NAME_PATTERN)


def naming_violations(template: Template, *, environment: str, suffix: str, stack_name: str | None = None) -> list[str]:
    """Every name is literal, follows <type>-<environment>-<suffix>, and fits its AWS rule."""
    pattern = convention(environment, suffix)
    violations = []
    for thing in named_things(template, stack_name):
        if not isinstance(thing.name, str):
            violations.append(f"{thing.where} is not a literal name: {thing.name!r}")
            continue
        if not _follows(thing.name, pattern):
            violations.append(f"{thing.where} {thing.name!r} does not follow <type>-{environment}-{suffix}")
        if len(thing.name) > thing.limit:
            violations.append(
                f"{thing.where} {thing.name!r} is {len(thing.name)} characters, over the AWS limit {thing.limit}"
            )
        if not re.fullmatch(thing.pattern, thing.name):
            violations.append(f"{thing.where} {thing.name!r} breaks the AWS pattern {thing.pattern}")
    for logical_id, resource in template.get("Resources", {}).items():
        spec = NAME_PROPERTIES.get(resource.get("Type", ""))
        if (
            spec
            and spec[0]
            and spec[0] not in resource.get("Properties", {})
            and not logical_id.startswith(GENERATED_NAME_ALLOWED)
        ):
            violations.append(
                f"{logical_id} ({resource['Type']}) has no {spec[0]}: its name would not carry the convention"
            )
    return violations


# --------------------------------------------------------------------------- tags

_SCHEMAS = Path(cfnlint.__file__).parent / "data" / "schemas"


@functools.cache
def _schema_index() -> dict[str, str]:
    # The schemas bundled in the pinned cfn-lint wheel (not cfn-lint's download cache): deterministic.
    return dict(json.loads((_SCHEMAS / "providers" / "us-east-1.json").read_text(encoding="utf-8")))


@functools.cache
def is_taggable(resource_type: str) -> bool:
    """True if the CloudFormation resource schema of ``resource_type`` has a ``Tags`` property."""
    schema_id = _schema_index().get(resource_type)
    if schema_id is None:  # Custom::* and other types without a public schema cannot be tagged
        return False
    schema = json.loads((_SCHEMAS / "resources" / f"{schema_id}.json").read_text(encoding="utf-8"))
    return "Tags" in schema.get("properties", {})


def tags_of(resource: Mapping[str, Any]) -> dict[str, Any]:
    raw = resource.get("Properties", {}).get("Tags")
    if isinstance(raw, list):  # [{Key, Value}] (most types)
        return {str(t.get("Key")): t.get("Value") for t in raw if isinstance(t, dict)}
    if isinstance(raw, dict):  # {key: value} (e.g. SSM parameters)
        return dict(raw)
    return {}


def tagging_violations(template: Template, *, required: Mapping[str, str]) -> list[str]:
    violations = []
    for logical_id, resource in template.get("Resources", {}).items():
        if not is_taggable(resource.get("Type", "")):
            continue
        present = tags_of(resource)
        for key, value in required.items():
            if present.get(key) != value:
                violations.append(f"{logical_id} ({resource['Type']}) has {key}={present.get(key)!r}, needs {value!r}")
    return violations


# --------------------------------------------------------------------------- encryption

# Data stores and where each names its KMS key.
ENCRYPTED_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::RDS::DBInstance": ("KmsKeyId", "MasterUserSecret.KmsKeyId"),
    "AWS::RDS::DBCluster": ("KmsKeyId",),
    "AWS::Logs::LogGroup": ("KmsKeyId",),
    "AWS::SNS::Topic": ("KmsMasterKeyId",),
    "AWS::SQS::Queue": ("KmsMasterKeyId",),
    "AWS::SecretsManager::Secret": ("KmsKeyId",),
    "AWS::DMS::ReplicationInstance": ("KmsKeyId",),
}


def _get(properties: Mapping[str, Any], dotted: str) -> Any:
    value: Any = properties
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def stack_key_id(template: Template) -> str | None:
    keys = [lid for lid, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::KMS::Key"]
    return keys[0] if len(keys) == 1 else None


def _is_key(value: Any, key_id: str) -> bool:
    return value in ({"Fn::GetAtt": [key_id, "Arn"]}, {"Ref": key_id})


def encryption_violations(template: Template) -> list[str]:
    """Every data store is encrypted with the stack's one customer-managed key."""
    key_id = stack_key_id(template)
    if key_id is None:
        return ["the template must hold exactly one AWS::KMS::Key (the stack's key)"]
    violations = []
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        paths = list(ENCRYPTED_PROPERTIES.get(resource.get("Type", ""), ()))
        if resource.get("Type") == "AWS::RDS::DBInstance":
            if properties.get("StorageEncrypted") is not True:
                violations.append(f"{logical_id} StorageEncrypted is {properties.get('StorageEncrypted')!r}")
            if properties.get("EnablePerformanceInsights") is True:
                paths.append("PerformanceInsightsKMSKeyId")
        for path in paths:
            if not _is_key(_get(properties, path), key_id):
                violations.append(f"{logical_id} {path} is {_get(properties, path)!r}, not the stack key {key_id}")
    return violations


# --------------------------------------------------------------------------- Retain

_RETAIN = {"Retain", "RetainExceptOnCreate"}


def retain_violations(template: Template) -> list[str]:
    return [
        f"{logical_id} has {attribute} {resource[attribute]}"
        for logical_id, resource in template.get("Resources", {}).items()
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy")
        if resource.get(attribute) in _RETAIN
    ]


# --------------------------------------------------------------------------- DB exposure


def _group_refs(value: Any) -> str | None:
    if isinstance(value, Mapping):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value and list(value["Fn::GetAtt"])[1:] == ["GroupId"]:
            return str(value["Fn::GetAtt"][0])
    return None


def database_exposure_violations(template: Template, *, app_subnet_cidrs: Sequence[str], port: int) -> list[str]:
    """No DB is public; every ingress to a DB security group is TCP on the DB port from inside an app subnet."""
    resources = template.get("Resources", {})
    app_subnets = [ipaddress.IPv4Network(c) for c in app_subnet_cidrs]
    violations = []
    databases = {lid: r for lid, r in resources.items() if r.get("Type") == "AWS::RDS::DBInstance"}
    if not databases:
        return ["no AWS::RDS::DBInstance in the template"]
    db_groups: set[str] = set()
    for logical_id, resource in databases.items():
        properties = resource.get("Properties", {})
        if properties.get("PubliclyAccessible") is not False:
            violations.append(
                f"{logical_id} PubliclyAccessible is {properties.get('PubliclyAccessible')!r}, must be false"
            )
        groups = [_group_refs(g) for g in properties.get("VPCSecurityGroups", [])]
        if not groups or None in groups:
            violations.append(
                f"{logical_id} must use security groups of this stack, has {properties.get('VPCSecurityGroups')!r}"
            )
        db_groups.update(g for g in groups if g)
    rules: list[tuple[str, Mapping[str, Any]]] = []
    for group in sorted(db_groups):
        rules += [
            (f"{group} inline ingress", rule)
            for rule in resources.get(group, {}).get("Properties", {}).get("SecurityGroupIngress", [])
        ]
    rules += [
        (f"{lid}", r.get("Properties", {}))
        for lid, r in resources.items()
        if r.get("Type") == "AWS::EC2::SecurityGroupIngress"
        and _group_refs(r.get("Properties", {}).get("GroupId")) in db_groups
    ]
    for where, rule in rules:
        cidr = rule.get("CidrIp")
        if cidr is None or set(rule) & {
            "CidrIpv6",
            "SourceSecurityGroupId",
            "SourcePrefixListId",
            "SourceSecurityGroupName",
        }:
            violations.append(f"{where}: source must be a literal IPv4 CIDR of an app subnet, is {dict(rule)!r}")
            continue
        if not isinstance(cidr, str) or not any(
            ipaddress.IPv4Network(cidr, strict=False).subnet_of(s) for s in app_subnets
        ):
            violations.append(f"{where}: {cidr} is not inside an app subnet {[str(s) for s in app_subnets]}")
        if str(rule.get("IpProtocol")) != "tcp" or rule.get("FromPort") != port or rule.get("ToPort") != port:
            violations.append(
                f"{where}: opens {rule.get('IpProtocol')} {rule.get('FromPort')}-{rule.get('ToPort')}, only tcp {port}"
            )
    return violations
