"""One hashing module (harness.hashing), by root-relative paths: a moved checkout keeps its cache keys."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.audit.evidence import harness_digest
from harness.comparison import base
from harness.hashing import framed_digest, relative_posix, tree_digest
from harness.reading import rules
from tests.harness.conftest import ROOT


def _checkout(at: Path) -> Path:
    """The parts of a checkout the base cache key reads: policies/, the lock files, the gate's code."""
    shutil.copytree(ROOT / "policies", at / "policies", ignore=shutil.ignore_patterns("__pycache__"))
    (at / "requirements").mkdir(parents=True)
    for name in ("test.txt", "checkov.txt"):
        shutil.copyfile(ROOT / "requirements" / name, at / "requirements" / name)
    shutil.copytree(ROOT / "harness", at / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    (at / "infra").mkdir()
    shutil.copyfile(ROOT / "infra" / "spec.toml", at / "infra" / "spec.toml")
    return at


def _key(root: Path) -> str:
    tools = [str(root / ".nox" / "_checkov-tool" / "bin" / "checkov"), "/usr/bin/cfn-lint"]
    return base.rules_digest(root=root, policies_dir=root / "policies", tools=tools, today="2026-12-07")


def test_the_base_cache_key_is_the_same_for_a_checkout_at_two_paths(tmp_path: Path) -> None:
    here, there = _checkout(tmp_path / "here"), _checkout(tmp_path / "elsewhere" / "clone")
    assert _key(here) == _key(there)
    assert rules.rules_digest(here) == rules.rules_digest(there)
    assert harness_digest(here) == harness_digest(there)


def test_the_base_cache_key_changes_with_what_it_covers(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "checkout")
    before = _key(root)
    waivers = root / "policies" / "waivers.yaml"
    waivers.write_text(waivers.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    assert _key(root) != before


def test_tree_digest_names_files_relative_to_the_root(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name / "x").mkdir(parents=True)
        (tmp_path / name / "x" / "f.txt").write_text("same", encoding="utf-8")
    assert tree_digest([tmp_path / "a" / "x" / "f.txt"], root=tmp_path / "a") == tree_digest(
        [tmp_path / "b" / "x" / "f.txt"], root=tmp_path / "b"
    )
    assert relative_posix("/elsewhere/bin/tool", root=tmp_path) == "/elsewhere/bin/tool"
    assert framed_digest([b"ab", b"c"]) != framed_digest([b"a", b"bc"])
