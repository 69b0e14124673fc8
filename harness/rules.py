"""The rules the gate judges by: which files they are, and one digest over them.

STAND-IN for issue 17's ``harness/rules.py`` (same names, same signatures): the lead replaces
this file with issue 17's at merge; every caller in the attestation (``harness.attest``) goes
through these two functions only.

The rules are data, not the harness's own code: everything under ``policies/`` (policies,
mappings, frameworks, waivers, the stateful list, fixtures) and the spec's fixed values
``infra/spec.toml``. Paths are relative to the project root (POSIX), so the digest does not
change when the checkout moves.
"""

from __future__ import annotations

from pathlib import Path

from harness.hashing import tree_digest

RULE_DIRS = ("policies",)
RULE_FILES = ("infra/spec.toml",)
_SKIPPED_PARTS = frozenset({"__pycache__"})


def rules_files(root: Path) -> list[str]:
    """Every rules file under ``root``, as sorted root-relative POSIX paths."""
    found = {f for f in RULE_FILES if (root / f).is_file()}
    for directory in RULE_DIRS:
        for path in (root / directory).rglob("*"):
            if path.is_file() and not _SKIPPED_PARTS.intersection(path.parts) and path.suffix != ".pyc":
                found.add(path.relative_to(root).as_posix())
    return sorted(found)


def rules_digest(root: Path) -> str:
    """``sha256:<hex>`` over each rules file's relative path and content hash."""
    return tree_digest([root / relpath for relpath in rules_files(root)], root=root)
