"""The frameworks the mappings name: their valid control ids and the reviewed in-scope controls.

``policies/frameworks/<framework>.yaml`` gives a framework's key (the key of ``Finding.controls``),
name, version, source, the file of its valid ids and its *scope*: the controls the staging
database stack touches, one line of why each. Valid ids come from NIST's official OSCAL catalog
for SP 800-53 Rev. 5 (withdrawn controls excluded) and from id lists kept in the repo for PCI DSS
v4.0.1 and AWS FSBP. :func:`validate_controls` returns one line per problem: a control a mapping
names that the framework does not have, or that is not in scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.catalog.loading import read_yaml, require_str
from harness.catalog.schema import POLICIES_DIR, ControlMapping

FRAMEWORKS_DIR = POLICIES_DIR / "frameworks"
# NIST writes controls as AC-6 and enhancements as AC-6(10); OSCAL ids are ac-6 and ac-6.10.
_NIST_CONTROL = re.compile(r"^([A-Z]{2})-(\d+)(?:\((\d+)\))?$")


@dataclass(frozen=True, kw_only=True)
class ScopeEntry:
    control: str
    why: str


@dataclass(frozen=True, kw_only=True)
class Framework:
    key: str  # "pci-dss-4.0.1", the key of Finding.controls
    name: str  # as the mapping files name it: "PCI DSS v4.0.1"
    version: str
    source: str
    ids_file: Path  # an OSCAL catalog (.json) or a list of ids, one per line (.txt)
    scope: tuple[ScopeEntry, ...]
    definition: Path

    @property
    def scope_ids(self) -> tuple[str, ...]:
        return tuple(entry.control for entry in self.scope)


def load_frameworks(root: Path = POLICIES_DIR) -> list[Framework]:
    """Every framework definition under ``frameworks/``, sorted by key."""
    frameworks = []
    for path in sorted((root / "frameworks").glob("*.yaml")):
        data = read_yaml(path)
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: must be a mapping with key, name, version, source, ids and scope")
        key = require_str(path, "key", data, "key")
        ids_file = (path.parent / require_str(path, key, data, "ids")).resolve()
        if not ids_file.is_file():
            raise ValueError(f"{path}: entry {key!r}: field 'ids' names {ids_file}, which does not exist")
        scope = []
        for index, entry in enumerate(data.get("scope") or []):
            if not isinstance(entry, Mapping):
                raise ValueError(f"{path}: entry {key!r}: scope item #{index} must be a mapping with control and why")
            control = str(entry.get("control") or "").strip()
            scope.append(ScopeEntry(control=control, why=require_str(path, control or f"#{index}", entry, "why")))
        if not scope:
            raise ValueError(f"{path}: entry {key!r}: field 'scope' must list the in-scope controls")
        frameworks.append(
            Framework(
                key=key,
                name=require_str(path, key, data, "name"),
                version=require_str(path, key, data, "version"),
                source=require_str(path, key, data, "source"),
                ids_file=ids_file,
                scope=tuple(scope),
                definition=path,
            )
        )
    return sorted(frameworks, key=lambda f: f.key)


def nist_oscal_id(control: str) -> str:
    """``SC-28(1)`` -> ``sc-28.1`` (the id NIST's OSCAL catalog uses); ValueError for another form."""
    match = _NIST_CONTROL.fullmatch(control)
    if match is None:
        raise ValueError(f"{control!r} is not a NIST SP 800-53 control id (e.g. AC-6 or AC-6(10))")
    family, number, enhancement = match.groups()
    return f"{family.lower()}-{number}" + (f".{enhancement}" if enhancement else "")


@cache
def _catalog_ids(path: Path) -> dict[str, str]:
    """OSCAL catalog: id -> title of every control and enhancement that is not withdrawn."""
    catalog: Any = json.loads(path.read_text(encoding="utf-8"))["catalog"]
    found: dict[str, str] = {}
    stack: list[Any] = [*catalog.get("groups", []), *catalog.get("controls", [])]
    while stack:
        node = stack.pop()
        stack.extend(node.get("groups", []))
        stack.extend(node.get("controls", []))
        if "title" in node and node.get("class") != "family" and "id" in node and "-" in node["id"]:
            withdrawn = any(p.get("name") == "status" and p.get("value") == "withdrawn" for p in node.get("props", []))
            if not withdrawn:
                found[node["id"]] = str(node["title"])
    return found


@cache
def _listed_ids(path: Path) -> frozenset[str]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return frozenset(line for line in lines if line and not line.startswith("#"))


def is_known(framework: Framework, control: str) -> bool:
    """Whether ``control`` is a valid id of ``framework`` (a NIST id must be in NIST's catalog, not withdrawn)."""
    if framework.ids_file.suffix == ".json":
        try:
            return nist_oscal_id(control) in _catalog_ids(framework.ids_file)
        except ValueError:
            return False
    return control in _listed_ids(framework.ids_file)


def control_title(framework: Framework, control: str) -> str:
    """The control's title where the id source carries one (NIST's catalog), else empty."""
    if framework.ids_file.suffix != ".json":
        return ""
    try:
        return _catalog_ids(framework.ids_file).get(nist_oscal_id(control), "")
    except ValueError:
        return ""


def _scope_problems(framework: Framework) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for entry in framework.scope:
        if not is_known(framework, entry.control):
            problems.append(
                f"{framework.definition.name}: scope control {entry.control!r} is not a {framework.name} id"
            )
        if entry.control in seen:
            problems.append(f"{framework.definition.name}: scope control {entry.control!r} is listed twice")
        seen.add(entry.control)
    return problems


def validate_controls(frameworks: Sequence[Framework], mappings: Sequence[ControlMapping]) -> list[str]:
    """One line per problem: unknown framework keys, ids the framework does not have, ids out of scope."""
    problems = [problem for framework in frameworks for problem in _scope_problems(framework)]
    by_key = {f.key: f for f in frameworks}
    for mapping in mappings:
        mapped = by_key.get(mapping.framework_key)
        where = f"mappings ({mapping.framework}), {mapping.tool} {mapping.check_id}"
        if mapped is None:
            problems.append(f"{where}: framework key {mapping.framework_key!r} has no policies/frameworks/*.yaml")
            continue
        if mapping.framework != mapped.name:
            problems.append(f"{where}: framework name {mapping.framework!r} differs from {mapped.name!r}")
        for control in mapping.controls:
            if not is_known(mapped, control):
                problems.append(
                    f"{where}: control {control!r} is not a {mapped.name} id (checked against {mapped.ids_file.name})"
                )
            elif control not in mapped.scope_ids:
                problems.append(f"{where}: control {control!r} is not in the reviewed scope {mapped.definition.name}")
    return problems
