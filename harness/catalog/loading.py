"""Loading and validating ``policies/``: every record is checked, every problem is one line.

A policy's metadata lives in exactly one place, its rule file: the ``metadata:`` block of a
YAML rule (checkov reads id/name/category/severity and ignores the rest) or the
``METADATA = {...}`` literal of a Python rule (read here with ``ast``, so this module never
imports checkov).
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from harness.catalog.schema import (
    CHECKS_DIR,
    FIXTURE_KINDS,
    FIXTURES_DIR,
    POLICIES_DIR,
    ControlMapping,
    ExternalCoverage,
    Policy,
    Requirement,
    Severity,
    Tool,
    Waiver,
)
from harness.markdown import natural_key

_POLICY_ID = re.compile(r"^CKV_STG_[A-Z]+_\d+$")
_REQUIREMENT_ID = re.compile(r"^REQ-[A-Z]+-\d{2}$")
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
_CHANGE_RULE = re.compile(r"^STG_CHG_\d+$")  # a change policy of policies/stateful.yaml (harness.comparison.changes)
_RESOURCE_TYPE = re.compile(r"^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$|^Custom::[A-Za-z0-9_@-]+$")
_FRAMEWORK_KEY = re.compile(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$")
_MAX_LINE = 240
_WAIVER_FIELDS = frozenset(
    {"id", "tool", "rule", "rules", "requirement", "target", "targets", "resource_type", "stack", "subtree", "reason",
     "owner", "expires", "code_sha256"}
)  # fmt: skip
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML: {' '.join(str(error).split())}") from error


def require_str(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: entry {entry_id!r}: field {key!r} is required and must be a non-empty string")
    return value.strip()


def _require_str_list(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{path}: entry {entry_id!r}: field {key!r} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def _one_line(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> str:
    """A required one-line text (an auditor reads it in a table cell)."""
    value = require_str(path, entry_id, entry, key)
    if "\n" in value or len(value) > _MAX_LINE:
        raise ValueError(
            f"{path}: entry {entry_id!r}: field {key!r} must be one line of at most {_MAX_LINE} characters "
            "saying what the check proves about the controls, e.g. 'RDS.8 asks for deletion protection, which the policy checks.'"
        )
    return value


def _optional_str_list(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    return _require_str_list(path, entry_id, entry, key) if key in entry else ()


def _entries(path: Path, key: str) -> list[Mapping[str, Any]]:
    data = read_yaml(path)
    entries = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise ValueError(f"{path}: top-level key {key!r} must be a list of mappings")
    return entries


def _unique(path: Path, ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise ValueError(f"{path}: entry {entry_id!r}: field 'id' duplicates another {what} entry")
        seen.add(entry_id)


def load_requirements(root: Path = POLICIES_DIR) -> list[Requirement]:
    """Every requirement of the seed spec, from ``requirements.yaml``."""
    path = root / "requirements.yaml"
    requirements: list[Requirement] = []
    for index, entry in enumerate(_entries(path, "requirements")):
        entry_id = str(entry.get("id") or f"#{index}")
        req_id = require_str(path, entry_id, entry, "id")
        if not _REQUIREMENT_ID.fullmatch(req_id):
            raise ValueError(f"{path}: entry {req_id!r}: field 'id' must look like REQ-DB-01")
        coverage = []
        for item in entry.get("covered_by") or []:
            if not isinstance(item, Mapping):
                raise ValueError(f"{path}: entry {req_id!r}: field 'covered_by' must be a list of mappings")
            coverage.append(
                ExternalCoverage(
                    by=require_str(path, req_id, item, "by"),
                    reference=require_str(path, req_id, item, "reference"),
                    reason=require_str(path, req_id, item, "reason"),
                )
            )
        requirements.append(
            Requirement(
                id=req_id,
                text=require_str(path, req_id, entry, "text"),
                section=require_str(path, req_id, entry, "section"),
                covered_by=tuple(coverage),
            )
        )
    _unique(path, (r.id for r in requirements), "requirement")
    return requirements


def _python_metadata(path: Path) -> Mapping[str, Any]:
    """The ``METADATA = {...}`` literal of a Python rule, read without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "METADATA" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError as error:
                raise ValueError(f"{path}: entry {path.stem!r}: METADATA must be a literal ({error})") from error
            if isinstance(value, Mapping):
                return value
    raise ValueError(f"{path}: entry {path.stem!r}: a Python rule must define METADATA = {{...}} as a literal")


def _yaml_conditions(definition: Any) -> list[Mapping[str, Any]]:
    """Every condition (a mapping with ``cond_type``) of a YAML rule's definition."""
    if isinstance(definition, Mapping):
        if "cond_type" in definition:
            return [definition]
        return [c for value in definition.values() for c in _yaml_conditions(value)]
    if isinstance(definition, list):
        return [c for item in definition for c in _yaml_conditions(item)]
    return []


def rule_files(checks_dir: Path = CHECKS_DIR) -> list[Path]:
    """Every rule file checkov loads from ``checks_dir`` (sorted, ``__init__.py`` excluded)."""
    return sorted(
        p
        for p in checks_dir.rglob("*")
        if p.is_file()
        and (p.suffix in (".yaml", ".yml", ".json") or (p.suffix == ".py" and not p.name.startswith("__")))
    )


def _rule_metadata(path: Path) -> tuple[Mapping[str, Any], str, list[str], list[str]]:
    """(metadata, engine, resource types, attributes) of one rule file."""
    if path.suffix == ".py":
        metadata = _python_metadata(path)
        types = metadata.get("resource_types")
        return metadata, "python", list(types) if isinstance(types, list) else [], []
    document = read_yaml(path)
    yaml_metadata = document.get("metadata") if isinstance(document, Mapping) else None
    if not isinstance(yaml_metadata, Mapping) or "definition" not in document:
        raise ValueError(f"{path}: entry {path.stem!r}: a YAML rule needs 'metadata' and 'definition'")
    conditions = _yaml_conditions(document["definition"])
    kinds: set[str] = set()
    attributes: set[str] = set()
    for condition in conditions:
        if condition.get("cond_type") == "filter" and condition.get("attribute") == "resource_type":
            kinds.update(str(t) for t in condition.get("value") or [])
        elif condition.get("cond_type") in ("attribute", "connection"):
            kinds.update(str(t) for t in condition.get("resource_types") or [])
        if condition.get("cond_type") == "attribute" and condition.get("attribute"):
            attributes.add(str(condition["attribute"]))
    return yaml_metadata, "yaml", sorted(kinds), sorted(attributes)


def load_policies(root: Path = POLICIES_DIR) -> list[Policy]:
    """Every project policy, its metadata read from its rule file, sorted by id."""
    policies: list[Policy] = []
    for path in rule_files(root / "checks"):
        metadata, engine, resource_types, attributes = _rule_metadata(path)
        policy_id = require_str(path, path.stem, metadata, "id")
        if not _POLICY_ID.fullmatch(policy_id):
            raise ValueError(f"{path}: entry {policy_id!r}: field 'id' must look like CKV_STG_RDS_1")
        severity = require_str(path, policy_id, metadata, "severity")
        if severity not in Severity.__members__:
            raise ValueError(f"{path}: entry {policy_id!r}: field 'severity' must be one of {', '.join(Severity)}")
        if not resource_types:
            raise ValueError(f"{path}: entry {policy_id!r}: field 'resource_types' must be a non-empty list")
        requires = _optional_str_list(path, policy_id, metadata, "requires")
        fixture_dir = root / "fixtures" / policy_id
        policies.append(
            Policy(
                id=policy_id,
                title=require_str(path, policy_id, metadata, "name"),
                severity=Severity(severity),
                rationale=" ".join(require_str(path, policy_id, metadata, "rationale").split()),
                requirements=_require_str_list(path, policy_id, metadata, "requirements"),
                remediation=" ".join(require_str(path, policy_id, metadata, "remediation").split()),
                resource_types=tuple(resource_types),
                check_file=path,
                fixtures={
                    kind: fixture_dir / f"{kind}.json"
                    for kind in FIXTURE_KINDS
                    if (fixture_dir / f"{kind}.json").is_file()
                },
                engine=engine,
                category=require_str(path, policy_id, metadata, "category"),
                requires=requires,
                attributes=tuple(attributes),
            )
        )
    _unique(root / "checks", (p.id for p in policies), "policy")
    return sorted(policies, key=lambda p: natural_key(p.id))


def load_mappings(root: Path = POLICIES_DIR) -> list[ControlMapping]:
    """Control mappings, one file per framework under ``mappings/``."""
    mappings: list[ControlMapping] = []
    for path in sorted((root / "mappings").glob("*.yaml")):
        data = read_yaml(path)
        framework = data.get("framework") if isinstance(data, Mapping) else None
        if not isinstance(framework, str) or not framework.strip():
            raise ValueError(f"{path}: entry 'framework': field 'framework' is required")
        key = require_str(path, "key", data, "key")
        if not _FRAMEWORK_KEY.fullmatch(key):
            raise ValueError(
                f"{path}: entry 'key': field 'key' must be lower-case words and versions, e.g. pci-dss-4.0.1 (got {key!r})"
            )
        for index, entry in enumerate(_entries(path, "mappings")):
            check_id = require_str(path, f"#{index}", entry, "check_id")
            tool = str(entry.get("tool") or Tool.PROJECT.value)
            if tool not in {t.value for t in Tool}:
                raise ValueError(f"{path}: entry {check_id!r}: field 'tool' must be one of {', '.join(Tool)}")
            mappings.append(
                ControlMapping(
                    framework=framework.strip(),
                    check_id=check_id,
                    controls=_require_str_list(path, check_id, entry, "controls"),
                    tool=Tool(tool),
                    rationale=_one_line(path, check_id, entry, "rationale"),
                    framework_key=key,
                )
            )
        _unique(path, (f"{m.tool}:{m.check_id}" for m in mappings if m.framework == framework.strip()), "check")
    return mappings


def _waiver_expiry(path: Path, waiver_id: str, raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if isinstance(raw, str):
        try:
            raw = dt.date.fromisoformat(raw.strip())
        except ValueError:
            raw = None
    if not isinstance(raw, dt.date):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'expires' must be an ISO date (YYYY-MM-DD, e.g. 2027-05-31)"
        )
    return raw


def _waiver_targets(path: Path, waiver_id: str, entry: Mapping[str, Any]) -> tuple[str, ...]:
    if ("target" in entry) == ("targets" in entry):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: give exactly one of 'target' (one resource) or 'targets' "
            "(a list, one resource each), e.g. target: StagingDatabase/Database/Instance/Resource"
        )
    if "target" in entry:
        return (require_str(path, waiver_id, entry, "target"),)
    return _require_str_list(path, waiver_id, entry, "targets")


def _load_waiver(path: Path, index: int, entry: Mapping[str, Any]) -> Waiver:
    waiver_id = require_str(path, f"#{index}", entry, "id")
    unknown = sorted(set(entry) - _WAIVER_FIELDS)
    if unknown:
        raise ValueError(
            f"{path}: entry {waiver_id!r}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_WAIVER_FIELDS))})"
        )
    tool = require_str(path, waiver_id, entry, "tool")
    if tool not in {t.value for t in Tool}:
        raise ValueError(f"{path}: entry {waiver_id!r}: field 'tool' must be one of {', '.join(Tool)}, not {tool!r}")
    rule = require_str(path, waiver_id, entry, "rule")
    if tool in (Tool.CDK_NAG.value, Tool.CDK_VALIDATE.value) and "::" not in rule:
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'rule' must use the namespaced CDK form "
            "'<Pack>::<RuleId>' (e.g. AwsSolutions::AwsSolutions-RDS11) so the acknowledgement is reported"
        )
    subtree = entry.get("subtree", False)
    if not isinstance(subtree, bool):
        raise ValueError(f"{path}: entry {waiver_id!r}: field 'subtree' must be true or false")
    if tool == Tool.CHANGE.value and (not _CHANGE_RULE.fullmatch(rule) or subtree):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: a change waiver allows one planned change of named resources: field 'rule' "
            f"is a policy id of policies/stateful.yaml (STG_CHG_1 replace, STG_CHG_2 remove) and there is no "
            f"subtree (got rule {rule!r})"
        )
    targets = _waiver_targets(path, waiver_id, entry)
    if tool in (Tool.CDK_NAG.value, Tool.CDK_VALIDATE.value) and not all("/" in t for t in targets):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'target' of a {tool} waiver must be a construct path "
            "(CDK acknowledges constructs), e.g. StagingDatabase/Database/Instance/Resource"
        )
    if subtree and (len(targets) != 1 or _LOGICAL_ID.fullmatch(targets[0])):
        raise ValueError(f"{path}: entry {waiver_id!r}: a subtree waiver names exactly one construct path (with '/')")
    resource_type = str(entry.get("resource_type") or "").strip()
    if not subtree and not _RESOURCE_TYPE.fullmatch(resource_type):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'resource_type' must name the CloudFormation type of the waived "
            f"resource(s), e.g. AWS::RDS::DBInstance (got {resource_type or 'nothing'!r})"
        )
    return Waiver(
        id=waiver_id,
        tool=Tool(tool),
        rule=rule,
        targets=targets,
        resource_type=resource_type,
        stack=str(entry.get("stack") or "").strip(),
        subtree=subtree,
        reason=" ".join(require_str(path, waiver_id, entry, "reason").split()),
        owner=require_str(path, waiver_id, entry, "owner"),
        expires=_waiver_expiry(path, waiver_id, entry.get("expires")),
        code_sha256=_waiver_code(path, waiver_id, entry.get("code_sha256")),
        requirement=str(entry.get("requirement") or ""),
    )


def _waiver_code(path: Path, waiver_id: str, raw: Any) -> tuple[str, ...]:
    """``code_sha256``: one content hash or a list of them (every piece of code the resource carries)."""
    values = [] if raw is None else [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) and _SHA256.fullmatch(v) for v in values):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'code_sha256' has invalid value {raw!r}: the content hash of the "
            "waived resource's code, 64 lower-case hex digits or a list of them (the gate:code-review finding names it)"
        )
    return tuple(sorted(values))


def _load_waiver_entry(path: Path, index: int, entry: Mapping[str, Any]) -> list[Waiver]:
    """One entry of waivers.yaml: one rule (``tool`` + ``rule``), or the rules of several tools (``rules``).

    An entry with ``rules`` (a list of ``{tool, rule}``) is one accepted exception judged by several
    tools on the same resource(s): one target, owner, expiry and reason. It becomes one waiver per
    rule, ``<id>.1``, ``<id>.2``..., each matched (and reported stale) on its own.
    """
    waiver_id = require_str(path, f"#{index}", entry, "id")
    requirement = entry.get("requirement")
    if requirement is not None and not (isinstance(requirement, str) and _REQUIREMENT_ID.fullmatch(requirement)):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'requirement' must be a requirement id of requirements.yaml "
            f"(e.g. REQ-DB-03), not {requirement!r}"
        )
    if "rules" not in entry:
        return [_load_waiver(path, index, entry)]
    rules = entry["rules"]
    example = "rules: [{tool: checkov, rule: CKV_AWS_157}, {tool: project, rule: CKV_STG_RDS_6}]"
    if "tool" in entry or "rule" in entry:
        raise ValueError(f"{path}: entry {waiver_id!r}: give either 'tool' and 'rule' or 'rules' ({example})")
    if (
        not isinstance(rules, list)
        or not rules
        or not all(isinstance(r, Mapping) and set(r) == {"tool", "rule"} for r in rules)
    ):
        raise ValueError(
            f"{path}: entry {waiver_id!r}: field 'rules' must be a non-empty list of {{tool, rule}} ({example})"
        )
    common = {k: v for k, v in entry.items() if k != "rules"}
    return [
        _load_waiver(path, index, {**common, "id": f"{waiver_id}.{n}", "tool": r["tool"], "rule": r["rule"]})
        for n, r in enumerate(rules, start=1)
    ]


def load_waivers(root: Path = POLICIES_DIR) -> list[Waiver]:
    """Every accepted exception, validated: unique ids, fields present, known tool, narrow scope, ISO date."""
    path = root / "waivers.yaml"
    waivers = [
        w for index, entry in enumerate(_entries(path, "waivers")) for w in _load_waiver_entry(path, index, entry)
    ]
    _unique(path, (w.id for w in waivers), "waiver")
    return waivers


def policies_for_requirement(requirement_id: str, policies: Sequence[Policy]) -> list[Policy]:
    return [p for p in policies if requirement_id in p.requirements]


def validate_catalog(
    *,
    requirements: Sequence[Requirement],
    policies: Sequence[Policy],
    mappings: Sequence[ControlMapping],
    waivers: Sequence[Waiver],
    today: dt.date | None = None,
) -> list[str]:
    """Integrity problems of the catalog as one-line messages (empty list = consistent)."""
    requirement_ids = {r.id for r in requirements}
    policy_ids = {p.id for p in policies}
    problems = [
        f"{policy.id}: missing {kind} fixture {FIXTURES_DIR.name}/{policy.id}/{kind}.json"
        for policy in policies
        for kind in FIXTURE_KINDS
        if kind not in policy.fixtures
    ]
    problems += [
        f"{policy.id}: unknown requirement {requirement_id}"
        for policy in policies
        for requirement_id in policy.requirements
        if requirement_id not in requirement_ids
    ]
    problems += [
        f"{requirement.id}: covered by no policy and no external coverage"
        for requirement in requirements
        if not policies_for_requirement(requirement.id, policies) and not requirement.covered_by
    ]
    problems += [
        f"{mapping.framework}: mapping references unknown project policy {mapping.check_id}"
        for mapping in mappings
        if mapping.tool is Tool.PROJECT and mapping.check_id not in policy_ids
    ]
    if today is not None:
        problems += [f"{w.id}: expired on {w.expires.isoformat()}" for w in waivers if w.is_expired(today)]
    return problems
