"""``compliance.sarif``: SARIF 2.1.0 for code scanning, located in the source that created each resource.

What GitHub code scanning reads (docs: "SARIF support for code scanning") and how this file
uses it:

- Only the first entry of ``locations`` places an alert, and an alert is shown on a pull request
  only when that line is part of its diff. The primary location is therefore the line that set
  the value the finding is about: the ``infra/spec.toml`` or ``cdk.json`` line it came from
  (``Finding.value_file``/``value_line``), else the keyword argument in ``infra/``
  (``property_file``/``property_line``), else the ``infra/`` line that created the construct
  (``code_file``/``code_line``), all recorded at synthesis by harness.reading.sources. The keyword, the
  construct line and the template line become ``relatedLocations``. Findings without a
  construct fall back to the template, the test module or the waiver file.
- URIs are repository-relative. A file outside the repository (an assembly given with
  ``--assembly /tmp/...``) is written relative to a ``uriBaseId`` whose base is left unknown,
  never as an absolute URI.
- ``partialFingerprints.primaryLocationLineHash`` is the only fingerprint code scanning uses, and
  upload-sarif computes it from the line's text only when it is missing. The gate sets it from
  the finding's identity (tool, rule, stack, construct path or logical id: the same key as the
  delta), so an alert follows its resource when lines move or the template is re-synthesized.
- ``result.suppressions`` is not among the properties code scanning supports ("the rest of the
  supported fields are ignored"; github/codeql-action#1230), so a suppressed result would be
  an open alert. Waived results are therefore left out of this file (they are in
  compliance.json, compliance.md and the JUnit report with their waiver); the rule stays
  declared, so an alert closes as fixed once its finding is waived.
- Rules carry ``tags`` (``security`` for the policy, checkov, cdk-nag and change rules) and, for
  security rules, ``security-severity`` (0.1-10.0) from the policy severity, so code scanning
  ranks them; other rules carry ``problem.severity``. Every rule that ran is declared, also
  those without results, so code scanning can tell "ran and found nothing" from "not run".
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from harness.model import Finding, Source, Status


class SarifInput(Protocol):
    """What this file reads of a report input (harness.reporting.reports.ReportInput is one): no import of reports,
    which imports this module to render it."""

    @property
    def root(self) -> Path: ...
    @property
    def findings(self) -> Sequence[Finding]: ...
    @property
    def assemblies(self) -> Sequence[dict[str, Any]]: ...
    @property
    def policies(self) -> Sequence[dict[str, Any]]: ...
    @property
    def sarif_category(self) -> str: ...


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "complianceGate/v1"
SECURITY_SOURCES = frozenset({Source.PROJECT, Source.CHECKOV, Source.CDK_NAG, Source.CHANGE})
# Code scanning: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    "CRITICAL": "9.5",
    "HIGH": "8.0",
    "MEDIUM": "5.5",
    "LOW": "3.0",
    "fatal": "8.0",  # cdk-nag levels
    "error": "7.0",
    "warning": "4.0",
    "info": "2.0",
}
DEFAULT_SECURITY_SEVERITY = "5.5"  # checkov's built-in checks report no severity offline
LEVELS = {Status.FAILED: "error", Status.NOT_EVALUATED: "error", Status.WARNING: "warning"}


def identity(f: Finding) -> str:
    """What makes two results the same alert (harness.comparison.delta matches findings the same way)."""
    where = f.construct_path or f.logical_id or f.waiver_id or f.template
    return "\x1f".join((f.source.value, f.rule_id, f.stack, where))


def _relative(root: Path, path: Path) -> str | None:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


class _Lines:
    """Lines of files the report points into, read once."""

    def __init__(self) -> None:
        self._cache: dict[Path, list[str]] = {}

    def of(self, path: Path) -> list[str]:
        if path not in self._cache:
            try:
                self._cache[path] = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._cache[path] = []
        return self._cache[path]

    def find(self, path: Path, predicate: Any) -> int:
        return next((i for i, line in enumerate(self.of(path), start=1) if predicate(line)), 1)


def _physical(uri: str, line: int, base_id: str = "") -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri}
    if base_id:
        artifact["uriBaseId"] = base_id
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": max(line, 1)}}}


class _Locator:
    def __init__(self, data: SarifInput) -> None:
        self.root = data.root
        self.lines = _Lines()
        self.assemblies = {a["label"]: Path(a["abs_path"]) for a in data.assemblies}
        self.outside: dict[str, str] = {}  # assembly label -> uriBaseId, for assemblies outside the repository

    def template(self, f: Finding) -> dict[str, Any] | None:
        root = self.assemblies.get(f.assembly)
        if not f.template or root is None:
            return None
        path = root / f.template
        needle = f'"{f.logical_id}": {{'
        # template_line: as the gate saw it; a merged report (harness.merging.merge) may not have the template.
        line = (
            (f.template_line or self.lines.find(path, lambda text: text.strip().startswith(needle)))
            if f.logical_id
            else 1
        )
        relative = _relative(self.root, path)
        if relative is not None:
            return _physical(relative, line)
        base_id = self.outside.setdefault(f.assembly, f"ASSEMBLY_{len(self.outside) + 1}")
        return _physical(Path(f.template).as_posix(), line, base_id)

    def fallback(self, f: Finding) -> dict[str, Any]:
        """Code scanning wants a file for every result: the test module, the change rules or the waiver data."""
        uri, needle = "policies/waivers.yaml", f"id: {f.waiver_id}" if f.waiver_id else ""
        if f.source is Source.TESTS:
            parts = f.rule_id.split("::")[0].split(".")
            candidates = ["/".join(parts[:n]) + ".py" for n in range(len(parts), 0, -1)]
            uri = next((c for c in candidates if (self.root / c).is_file()), "tests")
            needle = f"def {f.rule_id.split('::')[-1].split('[')[0]}("
        elif f.source is Source.CHANGE:
            uri, needle = "policies/stateful.yaml", f"  {f.resource_type}:"
        line = self.lines.find(self.root / uri, lambda text: bool(needle) and needle in text)
        return _physical(uri, line)

    def originals(self) -> dict[str, Any]:
        return {
            base_id: {"description": {"text": f"the cloud assembly {label!r}, outside the repository"}}
            for label, base_id in sorted(self.outside.items(), key=lambda item: item[1])
        }


def _rule(source: Source, rule_id: str, example: Finding, policy: dict[str, Any] | None) -> dict[str, Any]:
    policy = policy or {}
    severity = str(policy.get("severity") or example.severity or "")
    properties: dict[str, Any] = {"tool": source.value, "precision": "high"}
    if source in SECURITY_SOURCES:
        tags = ["security", "compliance", source.value]
        properties["security-severity"] = SECURITY_SEVERITY.get(severity, DEFAULT_SECURITY_SEVERITY)
    elif source is Source.TESTS:
        tags = ["tests", "correctness"]
        properties["problem.severity"] = "error"
    else:
        tags = ["compliance", "correctness", source.value]
        properties["problem.severity"] = "warning" if severity.lower() in ("warning", "informational") else "error"
    if policy.get("category"):
        tags.append(str(policy["category"]).lower())
    # SARIF's tags are a set (uniqueItems): upload-sarif rejects a file whose rule repeats one,
    # as a change rule of category "change" would ("change" is also its source's tag).
    properties["tags"] = list(dict.fromkeys(tags))
    if severity:
        properties["severity"] = severity
    if policy:
        properties["requirements"] = list(policy.get("requirements", []))
    if any(example.controls.values()):  # framework controls the rule is mapped to (harness.verdict.controls)
        properties["controls"] = {k: list(v) for k, v in sorted(example.controls.items())}
    return {
        "id": rule_id,
        "name": rule_id,
        "shortDescription": {"text": policy.get("title") or example.title or rule_id},
        "fullDescription": {"text": policy.get("rationale") or example.title or rule_id},
        "help": {"text": policy.get("remediation") or example.remediation or "see the tool's documentation"},
        "defaultConfiguration": {
            "level": "warning" if severity.lower() in ("warning", "informational", "low") else "error"
        },
        "properties": properties,
    }


def _result(f: Finding, *, index: int, locator: _Locator, occurrence: int) -> dict[str, Any]:
    template = locator.template(f)
    code = _physical(f.code_file, f.code_line) if f.code_file else None
    keyword = _physical(f.property_file, f.property_line) if f.property_file else None
    value = _physical(f.value_file, f.value_line) if f.value_file else None
    # The line that set the value first (an alert shows on a PR only when its line is in the diff),
    # then the keyword argument that read it, the construct's line and the template.
    primary = value or keyword or code or template or locator.fallback(f)
    related: list[tuple[dict[str, Any], str]] = []
    if value is not None and keyword is not None:
        related.append((keyword, f"{f.property_name}= reads this value"))
    if code is not None and primary is not code:
        related.append((code, f"the construct: {f.construct_path or f.logical_id}"))
    if template is not None and (code is not None or keyword is not None):
        what = f"{f.stack} {f.logical_id}".strip() or f.template
        related.append((template, f"synthesized template: {what}"))
    if f.logical_id:
        primary = {
            **primary,
            "logicalLocations": [
                {"name": f.logical_id, "fullyQualifiedName": f.construct_path or f.logical_id, "kind": "resource"}
            ],
        }
    digest = hashlib.sha256(identity(f).encode()).hexdigest()
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": LEVELS[f.status],
        "message": {"text": f.message or f.title or f.rule_id},
        "locations": [primary],
        "partialFingerprints": {"primaryLocationLineHash": f"{digest[:16]}:{occurrence}", FINGERPRINT: digest},
    }
    if related:
        result["relatedLocations"] = [
            {"id": number, **location, "message": {"text": text}} for number, (location, text) in enumerate(related, 1)
        ]
    if f.status is Status.NOT_EVALUATED:
        result["properties"] = {"status": "not-evaluated"}
    return result


def render_sarif(data: SarifInput) -> str:
    locator = _Locator(data)
    policies = {p["id"]: p for p in data.policies}
    runs = []
    for source in Source:
        all_rules = sorted({f.rule_id for f in data.findings if f.source is source})
        if not all_rules:
            continue
        examples = {r: next(f for f in data.findings if f.source is source and f.rule_id == r) for r in all_rules}
        rules = [_rule(source, r, examples[r], policies.get(r)) for r in all_rules]
        index = {rule["id"]: i for i, rule in enumerate(rules)}
        seen: Counter[str] = Counter()
        results = []
        # Passed and waived results are not alerts (see the module docstring).
        for f in (f for f in data.findings if f.source is source and f.status in LEVELS):
            seen[identity(f)] += 1
            results.append(_result(f, index=index[f.rule_id], locator=locator, occurrence=seen[identity(f)]))
        run: dict[str, Any] = {
            "tool": {"driver": {"name": f"compliance-gate/{source.value}", "rules": rules}},
            "automationDetails": {"id": f"{data.sarif_category}/{source.value}/"},
            "results": results,
        }
        if locator.outside:
            run["originalUriBaseIds"] = locator.originals()
        runs.append(run)
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=2, sort_keys=True) + "\n"
