"""The rules the gate judges by: which files they are, one digest over them, and what a change to them does.

The boundary (docs/compliance-gate.md, "The rules"): the rules are the *data* a verdict depends
on, never the harness's own code (the harness is pinned by its own digest, harness.audit.evidence):

- everything under ``policies/``: the project policies (``checks/``) and their library
  (``lib/``, the policies' own code, which judges), requirements, mappings, frameworks,
  ``waivers.yaml``, ``stateful.yaml``, the registry of reviewed types, ``code.yaml``, fixtures;
- ``infra/spec.toml``: the values the seed spec fixes and the bounds it sets (the policies read it);
- ``cdk.json``: its ``context`` holds every value the spec fixes (``SPEC_FIXED_CONTEXT``) and
  the feature flags that shape each template the rules judge. The file is hashed whole; the
  rules diff (:func:`rules_diff`) reports the spec-fixed keys.

``infra/spec.py`` (the loader of spec.toml, code the policies import) is not a rules file, but a
checkout of the base's rules (:func:`checkout_rules`) carries the base's copy with its spec.toml.

Paths are relative to the project root (POSIX), so the digest does not change when the checkout
moves. With a base (``--base REF``), the head is judged by the base's rules as well as its own
(harness.comparison.policy_change); :func:`rules_diff` lists what the head's rules change, each entry
marked tightening or weakening.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError
from harness.hashing import sha256_file, tree_digest

RULE_DIRS = ("policies",)
RULE_FILES = ("infra/spec.toml", "cdk.json")
# What a checkout of another commit's rules needs besides the rules files: the spec's loader.
SUPPORT_FILES = ("infra/spec.py",)
_SKIPPED_PARTS = frozenset({"__pycache__"})

# cdk.json context key -> the infra/spec.toml entry it must equal (infra/config.py's _FIXED_BY_SPEC;
# tests/unit/test_rules_boundary.py keeps the two equal).
SPEC_FIXED_CONTEXT: Mapping[str, str] = {
    "environmentName": "environment.name",
    "costCenter": "environment.cost_center",
    "region": "environment.region",
    "vpcCidr": "network.vpc_cidr",
    "appSubnetCidrs": "network.app_subnet_cidrs",
    "instanceClass": "database.instance_class",
    "backupRetentionDays": "database.backup_retention_days",
    "maintenanceWindow": "database.maintenance_window",
    "monitoringIntervalSeconds": "monitoring.enhanced_monitoring_interval_seconds",
    "maxConnections": "parameters.max_connections",
    "sharedBuffersMiB": "parameters.shared_buffers_mib",
    "cpuAlarmThresholdPercent": "monitoring.cpu_alarm_threshold_percent",
    "freeStorageAlarmThresholdGiB": "monitoring.free_storage_alarm_threshold_gib",
}

TIGHTENING, WEAKENING = "tightening", "weakening"


def _is_rules_file(path: Path) -> bool:
    return path.is_file() and not _SKIPPED_PARTS.intersection(path.parts) and path.suffix != ".pyc"


def rules_files(root: Path) -> list[str]:
    """Every rules file under ``root``, as sorted root-relative POSIX paths."""
    found = {f for f in RULE_FILES if (root / f).is_file()}
    for directory in RULE_DIRS:
        for path in (root / directory).rglob("*"):
            if _is_rules_file(path):
                found.add(path.relative_to(root).as_posix())
    return sorted(found)


def rules_digest(root: Path) -> str:
    """``sha256:<hex>`` over each rules file's relative path and content hash."""
    return tree_digest([root / relpath for relpath in rules_files(root)], root=root)


# ------------------------------------------------------------------------------------------- another commit's rules


def checkout_rules(*, repository: Path, commit: str, dest: Path) -> Path:
    """Write the rules files of ``commit`` (and the spec's loader) under ``dest``; returns ``dest``.

    Read with ``git ls-tree`` / ``git cat-file`` from the object store: no work tree is touched.
    """
    wanted = [*RULE_DIRS, *RULE_FILES, *SUPPORT_FILES]
    listing = _git(repository, "ls-tree", "-r", "-z", "--name-only", commit, "--", *wanted, commit=commit)
    paths = [p for p in listing.split("\0") if p]
    if not any(p.startswith("policies/") for p in paths):
        raise HarnessError(f"base {commit[:12]} has no policies/: its rules cannot judge the head")
    for relpath in paths:
        target = dest / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                ["git", "-C", str(repository), "cat-file", "blob", f"{commit}:{relpath}"],
                capture_output=True, timeout=120, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            raise HarnessError(f"base {commit[:12]}: git could not read {relpath}: {error}") from error
        if done.returncode != 0:
            raise HarnessError(f"base {commit[:12]}: git cannot read {relpath}")
        target.write_bytes(done.stdout)
    return dest


def _git(repository: Path, *args: str, commit: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repository), *args], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HarnessError(f"base {commit[:12]}: git could not run: {error}") from error
    if done.returncode != 0:
        raise HarnessError(f"base {commit[:12]}: git {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


# ------------------------------------------------------------------------------------------- the rules diff


@dataclass(frozen=True, kw_only=True)
class RuleChange:
    """One difference between the base's rules and the head's."""

    kind: str  # spec | context | policy | waiver | stateful | rules-file
    name: str  # the spec key, context key, policy file, waiver id, type or file
    change: str  # changed | added | removed | widened | extended | narrowed | shortened
    old: str
    new: str
    direction: str  # tightening | weakening
    file: str  # the rules file it is in

    def record(self) -> dict[str, str]:
        return {
            "kind": self.kind, "name": self.name, "change": self.change, "old": self.old, "new": self.new,
            "direction": self.direction, "file": self.file,
        }  # fmt: skip

    @property
    def text(self) -> str:
        return f"{self.kind} {self.name} {self.change}: {self.old or '-'} → {self.new or '-'} ({self.direction})"


def _shown(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path} cannot be read as TOML: {error}") from error


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, yaml.YAMLError) as error:
        raise HarnessError(f"{path} cannot be read as YAML: {error}") from error


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        if isinstance(value, dict) and not {"min", "max"} >= set(value):
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _spec_direction(key: str, old: Any, new: Any) -> str:  # noqa: PLR0911  (one case per kind of spec value)
    """Tightening when the new value admits less than the old; any other change of a fixed value weakens."""
    if old is None:
        return TIGHTENING
    if new is None:
        return WEAKENING
    if isinstance(old, dict) and isinstance(new, dict):
        narrower = new.get("min", 0) >= old.get("min", 0) and new.get("max", 0) <= old.get("max", 0)
        return TIGHTENING if narrower else WEAKENING
    if isinstance(old, list) and isinstance(new, list):
        return TIGHTENING if set(map(str, new)) <= set(map(str, old)) else WEAKENING
    if isinstance(old, bool) and isinstance(new, bool):
        return TIGHTENING if new and not old else WEAKENING
    leaf = key.rsplit(".", 1)[-1]
    if isinstance(old, int | float) and isinstance(new, int | float) and (leaf.endswith("_min") or "_min_" in leaf):
        return TIGHTENING if new > old else WEAKENING
    # A value the spec fixes, changed: the requirement as recorded no longer holds.
    return WEAKENING


def _spec_changes(base: Path, head: Path) -> list[RuleChange]:
    old = dict(_flatten(_read_toml(base / "infra/spec.toml")))
    new = dict(_flatten(_read_toml(head / "infra/spec.toml")))
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        changes.append(
            RuleChange(
                kind="spec", name=key, change=change, old=_shown(before), new=_shown(after),
                direction=_spec_direction(key, before, after), file="infra/spec.toml",
            )
        )  # fmt: skip
    return changes


def _context(root: Path) -> dict[str, Any]:
    path = root / "cdk.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as error:
        raise HarnessError(f"{path} cannot be read as JSON: {error}") from error
    context = data.get("context") if isinstance(data, dict) else None
    return context if isinstance(context, dict) else {}


def _context_changes(base: Path, head: Path) -> list[RuleChange]:
    old, new = _context(base), _context(head)
    return [
        RuleChange(
            kind="context", name=key, change="changed", old=_shown(old.get(key)), new=_shown(new.get(key)),
            direction=WEAKENING, file="cdk.json",
        )
        for key in sorted(SPEC_FIXED_CONTEXT)
        if old.get(key) != new.get(key)
    ]  # fmt: skip


def _file_hashes(root: Path, directory: str) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): sha256_file(path)
        for path in sorted((root / directory).rglob("*"))
        if _is_rules_file(path)
    }


def _policy_changes(base: Path, head: Path) -> list[RuleChange]:
    """Policies (and every other rules file but waivers and the stateful list) added, removed or changed."""
    old, new = _file_hashes(base, "policies"), _file_hashes(head, "policies")
    judged_elsewhere = {"policies/waivers.yaml", "policies/stateful.yaml"}
    changes = []
    for relpath in sorted((old.keys() | new.keys()) - judged_elsewhere):
        if old.get(relpath) == new.get(relpath):
            continue
        is_check = relpath.startswith(("policies/checks/", "policies/lib/"))
        kind = "policy" if is_check else "rules-file"
        if relpath not in old:
            # A new check requires more; any other new rules file (a registry entry, a reviewed code hash) accepts more.
            change, direction = "added", TIGHTENING if relpath.startswith("policies/checks/") else WEAKENING
        elif relpath not in new:
            change, direction = "removed", WEAKENING
        else:
            # What a changed check judges is found by running both (policy-change findings); conservatively weakening.
            change, direction = "changed", WEAKENING
        changes.append(
            RuleChange(
                kind=kind, name=relpath, change=change, old=old.get(relpath, "")[:12], new=new.get(relpath, "")[:12],
                direction=direction, file=relpath,
            )
        )  # fmt: skip
    return changes


def _waivers(root: Path) -> dict[str, dict[str, Any]]:
    data = _read_yaml(root / "policies/waivers.yaml")
    entries = data.get("waivers") if isinstance(data, dict) else None
    return {str(e.get("id")): e for e in entries or [] if isinstance(e, dict)}


def _targets(entry: Mapping[str, Any]) -> set[str]:
    raw = entry.get("targets") if entry.get("targets") is not None else [entry.get("target")]
    return {str(t) for t in raw or [] if t}


def _rules_of(entry: Mapping[str, Any]) -> set[str]:
    raw = entry.get("rules") if entry.get("rules") is not None else [entry.get("rule")]
    return {str(r) for r in raw or [] if r}


def _waiver_changes(base: Path, head: Path) -> list[RuleChange]:
    old, new = _waivers(base), _waivers(head)
    changes = []
    file = "policies/waivers.yaml"
    for waiver_id in sorted(old.keys() | new.keys()):
        before, after = old.get(waiver_id), new.get(waiver_id)
        if before == after:
            continue
        if before is None or after is None:
            entry = after or before or {}
            scope = f"{entry.get('tool')} {', '.join(sorted(_rules_of(entry)))} on {', '.join(sorted(_targets(entry)))}"
            added = before is None
            changes.append(
                RuleChange(
                    kind="waiver", name=waiver_id, change="added" if added else "removed", old="" if added else scope,
                    new=scope if added else "", direction=WEAKENING if added else TIGHTENING, file=file,
                )
            )  # fmt: skip
            continue
        changes += _waiver_edits(waiver_id, before, after, file=file)
    return changes


def _waiver_edits(
    waiver_id: str, before: Mapping[str, Any], after: Mapping[str, Any], *, file: str
) -> list[RuleChange]:
    """One entry per way a waiver changed: scope widened or narrowed, expiry extended or shortened."""
    found: list[RuleChange] = []

    def add(change: str, old: Any, new: Any, direction: str) -> None:
        found.append(
            RuleChange(
                kind="waiver", name=waiver_id, change=change, old=_shown(old), new=_shown(new), direction=direction,
                file=file,
            )
        )  # fmt: skip

    old_targets, new_targets = _targets(before), _targets(after)
    if old_targets != new_targets:
        add("widened" if not new_targets <= old_targets else "narrowed", sorted(old_targets), sorted(new_targets),
            WEAKENING if not new_targets <= old_targets else TIGHTENING)  # fmt: skip
    old_rules, new_rules = _rules_of(before), _rules_of(after)
    if old_rules != new_rules or before.get("tool") != after.get("tool"):
        broader = not new_rules <= old_rules or before.get("tool") != after.get("tool")
        add("widened" if broader else "narrowed", [before.get("tool"), *sorted(old_rules)],
            [after.get("tool"), *sorted(new_rules)], WEAKENING if broader else TIGHTENING)  # fmt: skip
    if bool(before.get("subtree")) != bool(after.get("subtree")):
        add("widened" if after.get("subtree") else "narrowed", {"subtree": bool(before.get("subtree"))},
            {"subtree": bool(after.get("subtree"))}, WEAKENING if after.get("subtree") else TIGHTENING)  # fmt: skip
    for key in ("resource_type", "stack", "code_sha256"):
        if before.get(key) != after.get(key):
            add("widened" if not after.get(key) else "changed", {key: before.get(key)}, {key: after.get(key)},
                WEAKENING)  # fmt: skip
    if str(before.get("expires")) != str(after.get("expires")):
        later = str(after.get("expires")) > str(before.get("expires"))
        add("extended" if later else "shortened", str(before.get("expires")), str(after.get("expires")),
            WEAKENING if later else TIGHTENING)  # fmt: skip
    if not found:  # reason or owner only: the scope is the same, the record is not
        add("changed", {k: before.get(k) for k in ("owner", "reason")}, {k: after.get(k) for k in ("owner", "reason")},
            WEAKENING)  # fmt: skip
    return found


def _stateful_types(root: Path) -> set[str]:
    data = _read_yaml(root / "policies/stateful.yaml")
    types = data.get("types") if isinstance(data, dict) else None
    return {str(t) for t in types or {}}


def _stateful_changes(base: Path, head: Path) -> list[RuleChange]:
    old, new = _stateful_types(base), _stateful_types(head)
    return [
        RuleChange(
            kind="stateful", name=name, change="added" if name in new else "removed",
            old="" if name in new else name, new=name if name in new else "",
            direction=TIGHTENING if name in new else WEAKENING, file="policies/stateful.yaml",
        )
        for name in sorted(old ^ new)
    ]  # fmt: skip


def rules_diff(*, base: Path, head: Path) -> list[RuleChange]:
    """Every difference between the rules under ``base`` and those under ``head``, weakening first."""
    changes = [
        *_spec_changes(base, head),
        *_context_changes(base, head),
        *_policy_changes(base, head),
        *_waiver_changes(base, head),
        *_stateful_changes(base, head),
    ]
    if (base / "policies/stateful.yaml").is_file() or (head / "policies/stateful.yaml").is_file():
        old = _file_hashes(base, "policies").get("policies/stateful.yaml")
        new = _file_hashes(head, "policies").get("policies/stateful.yaml")
        if old != new and not any(c.kind == "stateful" for c in changes):  # the change policies' own text
            changes.append(
                RuleChange(kind="rules-file", name="policies/stateful.yaml", change="changed", old=(old or "")[:12],
                           new=(new or "")[:12], direction=WEAKENING, file="policies/stateful.yaml")
            )  # fmt: skip
    return sorted(changes, key=lambda c: (c.direction != WEAKENING, c.kind, c.name, c.change))
