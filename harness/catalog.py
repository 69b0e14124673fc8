"""The auditable data in ``policies/``: requirements, policies, control mappings, waivers.

This module is the contract between ``policies/`` (owned by auditors and policy authors)
and the gate (``harness/``). Everything the gate and the generated catalog know about a
policy comes from these records; nothing is hard-coded elsewhere.

Layout of ``policies/`` (see ``policies/README.md``)::

    policies/
      checks/<domain>/ckv_stg_*.yaml|.py   the rules; CHECKS_DIR, passed to --external-checks-dir
      lib/                                 plumbing the Python rules import (not loaded as checks)
      fixtures/<POLICY_ID>/pass.json       templates each rule must pass, fail and skip
                         /fail.json
                         /suppressed.json
      requirements.yaml                    the seed spec, one quoted requirement per entry
      mappings/<framework>.yaml            control mappings, one file per framework
      waivers.yaml                         every cdk-nag acknowledgement and checkov skip

A policy's metadata lives in exactly one place, its rule file: the ``metadata:`` block of a
YAML rule (checkov reads id/name/category/severity and ignores the rest) or the
``METADATA = {...}`` literal of a Python rule (read here with ``ast``, so this module never
imports checkov). The catalog Markdown is generated from these records.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"
# What the gate passes to ``checkov --external-checks-dir``: the rules and nothing else
# (checkov parses every *.yaml/*.yml/*.json under it as a graph policy, so fixtures and
# data files live in sibling trees).
CHECKS_DIR = POLICIES_DIR / "checks"
FIXTURES_DIR = POLICIES_DIR / "fixtures"
FIXTURE_KINDS = ("pass", "fail", "suppressed")
# Where the per-policy tests live; node ids are derived from the policy id (policy_test_ids).
POLICY_TEST_FILE = "tests/policies/test_policy_fixtures.py"
POLICY_TEST_FUNCTIONS = {
    "pass": "test_pass_fixture_passes",
    "fail": "test_fail_fixture_fails",
    "suppressed": "test_suppressed_fixture_is_skipped",
    "stack": "test_policy_passes_on_synthesized_stack",
}

_POLICY_ID = re.compile(r"^CKV_STG_[A-Z]+_\d+$")
_REQUIREMENT_ID = re.compile(r"^REQ-[A-Z]+-\d{2}$")
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Tool(StrEnum):
    CDK_NAG = "cdk-nag"
    CHECKOV = "checkov"
    CFN_LINT = "cfn-lint"
    PROJECT = "project"  # our own checkov custom checks in policies/


@dataclass(frozen=True, kw_only=True)
class ExternalCoverage:
    """A requirement (or part of one) verified outside the project policies, and why."""

    by: str  # "cdk-nag", "checkov", "cfn-lint", "unit tests", "documentation", ...
    reference: str  # rule id, test path or document path
    reason: str  # why no project policy checks it (e.g. not visible in a template)


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """One requirement of the seed spec (../shared/seeds), quoted, with a stable id."""

    id: str  # e.g. "REQ-DB-03"
    text: str  # the spec's words
    section: str  # spec heading it comes from
    covered_by: tuple[ExternalCoverage, ...] = ()  # coverage outside policies/checks, with reasons


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One project policy: a checkov custom check plus the metadata auditors read."""

    id: str  # checkov check id, stable, e.g. "CKV_STG_RDS_1"
    title: str  # desired state, e.g. "RDS instances have deletion protection enabled"
    severity: Severity
    rationale: str
    requirements: tuple[str, ...]  # Requirement ids it enforces
    remediation: str
    resource_types: tuple[str, ...]  # CloudFormation types it reports on
    check_file: Path  # the .py or .yaml checkov loads
    fixtures: dict[str, Path] = field(default_factory=dict)  # "pass" | "fail" | "suppressed" -> template
    engine: str = "yaml"  # "yaml" (checkov graph policy) or "python" (checkov resource check)
    category: str = ""  # checkov CheckCategories name

    @property
    def test_ids(self) -> tuple[str, ...]:
        return policy_test_ids(self.id)


@dataclass(frozen=True, kw_only=True)
class ControlMapping:
    """Framework controls a check satisfies; kept apart from the rule logic."""

    framework: str  # "PCI DSS v4.0.1" | "NIST SP 800-53 Rev. 5" | "AWS FSBP"
    check_id: str  # a project policy id, or a cdk-nag / checkov / cfn-lint rule id
    controls: tuple[str, ...]
    tool: Tool = Tool.PROJECT  # which tool reports check_id


@dataclass(frozen=True, kw_only=True)
class Waiver:
    """An accepted exception: a cdk-nag acknowledgement or a checkov skip, with an expiry."""

    id: str  # stable waiver id, e.g. "WVR-001"
    tool: Tool  # CDK_NAG or CHECKOV
    rule: str  # cdk-nag namespaced id ("AwsSolutions::AwsSolutions-RDS11") or checkov id
    target: str  # construct path (cdk-nag) or logical id (checkov)
    reason: str
    owner: str
    expires: dt.date

    def is_expired(self, today: dt.date) -> bool:
        return today > self.expires


# --------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot be read as YAML: {error}") from error


def _require_str(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{path}: entry {entry_id!r}: field {key!r} is required and must be a non-empty string")
    return value.strip()


def _require_str_list(path: Path, entry_id: str, entry: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = entry.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{path}: entry {entry_id!r}: field {key!r} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def _entries(path: Path, key: str) -> list[Mapping[str, Any]]:
    data = _read_yaml(path)
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
        req_id = _require_str(path, entry_id, entry, "id")
        if not _REQUIREMENT_ID.fullmatch(req_id):
            raise ValueError(f"{path}: entry {req_id!r}: field 'id' must look like REQ-DB-01")
        coverage = []
        for item in entry.get("covered_by") or []:
            if not isinstance(item, Mapping):
                raise ValueError(f"{path}: entry {req_id!r}: field 'covered_by' must be a list of mappings")
            coverage.append(
                ExternalCoverage(
                    by=_require_str(path, req_id, item, "by"),
                    reference=_require_str(path, req_id, item, "reference"),
                    reason=_require_str(path, req_id, item, "reason"),
                )
            )
        requirements.append(
            Requirement(
                id=req_id,
                text=_require_str(path, req_id, entry, "text"),
                section=_require_str(path, req_id, entry, "section"),
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


def _yaml_resource_types(definition: Any) -> list[str]:
    """``resource_types`` of every condition of a YAML rule (the types it reports on)."""
    found: list[str] = []
    if isinstance(definition, Mapping):
        for key, value in definition.items():
            if key == "resource_types" and isinstance(value, list):
                found.extend(str(v) for v in value)
            else:
                found.extend(_yaml_resource_types(value))
    elif isinstance(definition, list):
        for item in definition:
            found.extend(_yaml_resource_types(item))
    return found


def rule_files(checks_dir: Path = CHECKS_DIR) -> list[Path]:
    """Every rule file checkov loads from ``checks_dir`` (sorted, ``__init__.py`` excluded)."""
    return sorted(
        p
        for p in checks_dir.rglob("*")
        if p.is_file()
        and (p.suffix in (".yaml", ".yml", ".json") or (p.suffix == ".py" and not p.name.startswith("__")))
    )


def load_policies(root: Path = POLICIES_DIR) -> list[Policy]:
    """Every project policy, its metadata read from its rule file, sorted by id."""
    policies: list[Policy] = []
    for path in rule_files(root / "checks"):
        if path.suffix == ".py":
            metadata = _python_metadata(path)
            engine = "python"
            resource_types = metadata.get("resource_types")
        else:
            document = _read_yaml(path)
            raw_metadata = document.get("metadata") if isinstance(document, Mapping) else None
            if not isinstance(raw_metadata, Mapping) or "definition" not in document:
                raise ValueError(f"{path}: entry {path.stem!r}: a YAML rule needs 'metadata' and 'definition'")
            metadata = raw_metadata
            engine = "yaml"
            resource_types = sorted(set(_yaml_resource_types(document["definition"])))
        policy_id = _require_str(path, path.stem, metadata, "id")
        if not _POLICY_ID.fullmatch(policy_id):
            raise ValueError(f"{path}: entry {policy_id!r}: field 'id' must look like CKV_STG_RDS_1")
        severity = _require_str(path, policy_id, metadata, "severity")
        if severity not in Severity.__members__:
            raise ValueError(f"{path}: entry {policy_id!r}: field 'severity' must be one of {', '.join(Severity)}")
        if not isinstance(resource_types, list) or not resource_types:
            raise ValueError(f"{path}: entry {policy_id!r}: field 'resource_types' must be a non-empty list")
        fixture_dir = root / "fixtures" / policy_id
        policies.append(
            Policy(
                id=policy_id,
                title=_require_str(path, policy_id, metadata, "name"),
                severity=Severity(severity),
                rationale=" ".join(_require_str(path, policy_id, metadata, "rationale").split()),
                requirements=_require_str_list(path, policy_id, metadata, "requirements"),
                remediation=" ".join(_require_str(path, policy_id, metadata, "remediation").split()),
                resource_types=tuple(str(t) for t in resource_types),
                check_file=path,
                fixtures={
                    kind: fixture_dir / f"{kind}.json"
                    for kind in FIXTURE_KINDS
                    if (fixture_dir / f"{kind}.json").is_file()
                },
                engine=engine,
                category=_require_str(path, policy_id, metadata, "category"),
            )
        )
    _unique(root / "checks", (p.id for p in policies), "policy")
    return sorted(policies, key=lambda p: _natural_key(p.id))


def load_mappings(root: Path = POLICIES_DIR) -> list[ControlMapping]:
    """Control mappings, one file per framework under ``mappings/``."""
    mappings: list[ControlMapping] = []
    for path in sorted((root / "mappings").glob("*.yaml")):
        data = _read_yaml(path)
        framework = data.get("framework") if isinstance(data, Mapping) else None
        if not isinstance(framework, str) or not framework.strip():
            raise ValueError(f"{path}: entry 'framework': field 'framework' is required")
        for index, entry in enumerate(_entries(path, "mappings")):
            check_id = _require_str(path, f"#{index}", entry, "check_id")
            tool = str(entry.get("tool") or Tool.PROJECT.value)
            if tool not in {t.value for t in Tool}:
                raise ValueError(f"{path}: entry {check_id!r}: field 'tool' must be one of {', '.join(Tool)}")
            mappings.append(
                ControlMapping(
                    framework=framework.strip(),
                    check_id=check_id,
                    controls=_require_str_list(path, check_id, entry, "controls"),
                    tool=Tool(tool),
                )
            )
        _unique(path, (f"{m.tool}:{m.check_id}" for m in mappings if m.framework == framework.strip()), "check")
    return mappings


def load_waivers(root: Path = POLICIES_DIR) -> list[Waiver]:
    """Every accepted exception, validated: unique ids, fields present, known tool, ISO date."""
    path = root / "waivers.yaml"
    waivers: list[Waiver] = []
    for index, entry in enumerate(_entries(path, "waivers")):
        waiver_id = _require_str(path, f"#{index}", entry, "id")
        tool = _require_str(path, waiver_id, entry, "tool")
        if tool not in (Tool.CDK_NAG.value, Tool.CHECKOV.value, Tool.PROJECT.value):
            raise ValueError(
                f"{path}: entry {waiver_id!r}: field 'tool' must be cdk-nag, checkov or project, not {tool!r}"
            )
        rule = _require_str(path, waiver_id, entry, "rule")
        if tool == Tool.CDK_NAG.value and "::" not in rule:
            raise ValueError(
                f"{path}: entry {waiver_id!r}: field 'rule' must use the namespaced cdk-nag form "
                "'<Pack>::<RuleId>' (e.g. AwsSolutions::AwsSolutions-RDS11) so the acknowledgement is reported"
            )
        target = _require_str(path, waiver_id, entry, "target")
        if tool != Tool.CDK_NAG.value and not _LOGICAL_ID.fullmatch(target):
            raise ValueError(
                f"{path}: entry {waiver_id!r}: field 'target' must be a CloudFormation logical id for {tool}"
            )
        raw_date = entry.get("expires")
        if isinstance(raw_date, dt.datetime):
            raw_date = raw_date.date()
        if isinstance(raw_date, str):
            try:
                raw_date = dt.date.fromisoformat(raw_date.strip())
            except ValueError:
                raw_date = None
        if not isinstance(raw_date, dt.date):
            raise ValueError(f"{path}: entry {waiver_id!r}: field 'expires' must be an ISO date (YYYY-MM-DD)")
        waivers.append(
            Waiver(
                id=waiver_id,
                tool=Tool(tool),
                rule=rule,
                target=target,
                reason=" ".join(_require_str(path, waiver_id, entry, "reason").split()),
                owner=_require_str(path, waiver_id, entry, "owner"),
                expires=raw_date,
            )
        )
    _unique(path, (w.id for w in waivers), "waiver")
    return waivers


# --------------------------------------------------------------------------------------
# Derived views
# --------------------------------------------------------------------------------------


def policy_test_ids(policy_id: str) -> tuple[str, ...]:
    """The pytest node ids that prove a policy (fixtures and the real synthesized stack)."""
    return tuple(f"{POLICY_TEST_FILE}::{function}[{policy_id}]" for function in POLICY_TEST_FUNCTIONS.values())


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
    problems: list[str] = []
    requirement_ids = {r.id for r in requirements}
    policy_ids = {p.id for p in policies}
    for policy in policies:
        for kind in FIXTURE_KINDS:
            if kind not in policy.fixtures:
                problems.append(f"{policy.id}: missing {kind} fixture {FIXTURES_DIR.name}/{policy.id}/{kind}.json")
        for requirement_id in policy.requirements:
            if requirement_id not in requirement_ids:
                problems.append(f"{policy.id}: unknown requirement {requirement_id}")
    for requirement in requirements:
        if not policies_for_requirement(requirement.id, policies) and not requirement.covered_by:
            problems.append(f"{requirement.id}: covered by no policy and no external coverage")
    for mapping in mappings:
        if mapping.tool is Tool.PROJECT and mapping.check_id not in policy_ids:
            problems.append(f"{mapping.framework}: mapping references unknown project policy {mapping.check_id}")
    if today is not None:
        problems.extend(f"{w.id}: expired on {w.expires.isoformat()}" for w in waivers if w.is_expired(today))
    return problems


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_catalog_markdown(
    *,
    requirements: Sequence[Requirement] | None = None,
    policies: Sequence[Policy] | None = None,
    mappings: Sequence[ControlMapping] | None = None,
    waivers: Sequence[Waiver] | None = None,
    root: Path = POLICIES_DIR,
) -> str:
    """The human-readable policy catalog, generated from policies/ (never edited by hand)."""
    requirements = load_requirements(root) if requirements is None else requirements
    policies = load_policies(root) if policies is None else policies
    mappings = load_mappings(root) if mappings is None else mappings
    waivers = load_waivers(root) if waivers is None else waivers
    frameworks = sorted({m.framework for m in mappings})
    requirement_text = {r.id: r for r in requirements}
    repo = root.parent

    def relative(path: Path) -> str:
        try:
            return path.relative_to(repo).as_posix()
        except ValueError:
            return path.as_posix()

    lines = [
        "# Policy catalog",
        "",
        "Generated from `policies/` by `harness.catalog.render_catalog_markdown`; do not edit.",
        "",
        f"{len(policies)} project policies, {len(requirements)} spec requirements, "
        f"{len(mappings)} control mappings over {len(frameworks)} frameworks, {len(waivers)} waivers.",
        "",
        "| Id | Title | Severity | Engine | Requirements |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{p.id}](#{p.id.lower()}) | {_cell(p.title)} | {p.severity} | {p.engine} | {', '.join(p.requirements)} |"
        for p in policies
    ]
    for policy in policies:
        lines += ["", f"## {policy.id}", "", f"**{policy.title}**", ""]
        lines += [
            f"- Severity: {policy.severity}",
            f"- Engine: checkov {'YAML graph policy' if policy.engine == 'yaml' else 'Python check'} "
            f"(`{relative(policy.check_file)}`)",
            f"- Resource types: {', '.join(f'`{t}`' for t in policy.resource_types)}",
            f"- Rationale: {policy.rationale}",
            f"- Remediation: {policy.remediation}",
            "- Requirements:",
        ]
        for requirement_id in policy.requirements:
            req = requirement_text.get(requirement_id)
            lines.append(f'  - {requirement_id}: "{req.text}" ({req.section})' if req else f"  - {requirement_id}")
        lines.append("- Controls:")
        for framework in frameworks:
            controls = [c for m in mappings if m.framework == framework and m.check_id == policy.id for c in m.controls]
            lines.append(f"  - {framework}: {', '.join(controls) if controls else 'none mapped'}")
        lines.append(
            "- Fixtures: " + ", ".join(f"[{kind}]({relative(path)})" for kind, path in sorted(policy.fixtures.items()))
        )
        lines.append("- Tests: " + ", ".join(f"`{t}`" for t in policy.test_ids))
    lines += ["", "## Requirements not covered by a project policy alone", ""]
    for requirement in requirements:
        for coverage in requirement.covered_by:
            lines.append(f"- {requirement.id} ({coverage.by}, `{coverage.reference}`): {coverage.reason}")
    other = sorted(
        {(m.tool, m.check_id) for m in mappings if m.tool is not Tool.PROJECT}, key=lambda t: (t[0], _natural_key(t[1]))
    )
    lines += ["", "## Tool rules the gate relies on", "", "| Tool | Rule | " + " | ".join(frameworks) + " |"]
    lines.append("|---|---|" + "---|" * len(frameworks))
    for tool, check_id in other:
        cells = [
            ", ".join(
                c
                for m in mappings
                if m.framework == f and m.check_id == check_id and m.tool is tool
                for c in m.controls
            )
            or "-"
            for f in frameworks
        ]
        lines.append(f"| {tool} | `{check_id}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Waivers",
        "",
        "| Id | Tool | Rule | Target | Owner | Expires | Reason |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {w.id} | {w.tool} | `{_cell(w.rule)}` | `{w.target}` | {w.owner} | {w.expires.isoformat()} | {_cell(w.reason)} |"
        for w in sorted(waivers, key=lambda w: w.id)
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python -m harness.catalog > policy-catalog.md
    print(render_catalog_markdown(), end="")
