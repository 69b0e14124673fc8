"""The head judged by its base's rules: a pull request cannot change the rules that judge it (issue 17).

The base's rules (``policies/``, ``infra/spec.toml``, ``cdk.json``: harness.reading.rules) are read
from git at the base's commit, or given with ``--base-rules DIR``. When they differ from the head's,
the head is judged again under them; whatever fails there and passes under the head's own rules is
a policy change (harness.comparison.policy_change), which gates unless ``--accept-policy-change``.
The second judgement is the gate's own run, given by its conductor as ``rejudge``.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.catalog.loaded import Catalog, load_catalog
from harness.comparison.base import BaseRequest
from harness.comparison.policy_change import RulesRecord, policy_change_findings
from harness.errors import HarnessError
from harness.model import Finding
from harness.reading.rules import RULE_FILES, SUPPORT_FILES, checkout_rules, rules_diff, rules_digest

# The head's findings under the rules checked out at a path, with the catalog loaded from them.
Rejudge = Callable[[Path, Catalog], list[Finding]]


@dataclass(frozen=True, kw_only=True)
class BaseRules:
    root: Path | None  # the checkout of the base's rules; None: the head's rules judge alone
    source: str  # where they came from, as the report says it


def locate_base_rules(request: BaseRequest, *, repository: Path, commit: str, scratch: Path) -> BaseRules:
    """The base's rules: read from git at ``commit`` (``--base REF``), or ``--base-rules DIR``, or none."""
    if request.ref:  # the head cannot change what judges it
        root = checkout_rules(repository=repository, commit=commit, dest=scratch / "base-rules")
        return BaseRules(root=root, source=f"{request.ref} ({commit[:12]})")
    if request.rules is not None:
        return BaseRules(root=request.rules.resolve(), source=str(request.rules))
    return BaseRules(
        root=None, source="none given (--base-assembly without --base-rules): judged by the head's rules only"
    )


def head_rules(*, root: Path, policies_dir: Path, scratch: Path) -> Path:
    """The head's rules as one checkout: ``root``, or (with --policies DIR) a copy of it with that policies/."""
    if policies_dir.resolve() == (root / "policies").resolve():
        return root
    view = scratch / "head-rules"
    if not view.is_dir():
        shutil.copytree(policies_dir, view / "policies", ignore=shutil.ignore_patterns("__pycache__"))
        for relpath in (*RULE_FILES, *SUPPORT_FILES):
            if (root / relpath).is_file():
                (view / relpath).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / relpath, view / relpath)
    return view


def judge_by_base_rules(
    findings: Sequence[Finding],
    *,
    head: Path,
    base: BaseRules | None,
    accept: str,
    rejudge: Rejudge,
    progress: Callable[[str], None],
) -> tuple[RulesRecord, list[Finding]]:
    """The rules record of the run and, with a base's rules, what only the head's rules let pass."""
    head_digest = rules_digest(head)
    if base is None or base.root is None:
        return RulesRecord(digest=head_digest, base_source=base.source if base else ""), []
    base_digest = rules_digest(base.root)
    changes = tuple(rules_diff(base=base.root, head=head))
    record = RulesRecord(digest=head_digest, base_digest=base_digest, base_source=base.source, changes=changes)
    if base_digest == head_digest:  # the same rules give the same verdict
        progress("rules: the head's rules are the base's")
        return record, []
    progress(f"rules: {len(changes)} change(s) against the base's rules; judging the head by the base's")
    try:
        catalog = load_catalog(base.root / "policies")
    except HarnessError as error:
        if not accept:
            raise HarnessError(
                f"the base's rules ({base.source}) cannot be loaded by this harness: {error} (a change "
                "of the rules' format is a policy change: land it first, or have the policy owners accept it)"
            ) from error
        # Accepted by the policy owners: the head's rules alone judge, and the record says why.
        progress("rules: the base's rules cannot be loaded; the accepted head's rules judge alone")
        source = f"{base.source}; cannot be loaded by this harness: {error}"
        return dataclasses.replace(record, base_source=source, accepted_reason=accept,
                                   accepted=tuple(c.text for c in changes)), []  # fmt: skip
    under_base = rejudge(base.root, catalog)
    found = policy_change_findings(head=findings, under_base_rules=under_base, changes=changes)
    progress(f"rules: {len(found)} violation(s) of the base's rules pass under the head's")
    if not accept:
        return dataclasses.replace(record, policy_changes=len(found)), found
    accepted = tuple([*(c.text for c in changes), *(f"{f.rule_id} {f.logical_id}: {f.message}" for f in found)])
    found = policy_change_findings(head=findings, under_base_rules=under_base, changes=changes, accept_reason=accept)
    return dataclasses.replace(record, accepted_reason=accept, accepted=accepted, policy_changes=len(found)), found
