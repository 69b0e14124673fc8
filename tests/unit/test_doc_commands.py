"""Issue 19: commands the docs give must run on a fresh Debian machine, which has ``python3`` and no
``python``: bootstrap by ``python3``, the project's own modules by the venv's interpreter, which
must be one the sessions create (``.nox/tests`` went away when the sessions started sharing venvs)."""

from __future__ import annotations

import re
from pathlib import Path

from infra.app_builder import PROJECT_ROOT

DOCS = sorted(
    [PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md"), *(PROJECT_ROOT / "policies").rglob("*.md")]
)
# The venvs nox_sessions/tools.py and bootstrap.py create (one per lock-file set, plus checkov's and bootstrap's).
VENVS = {"_venv-test", "_venv-app", "_venv-lint", "_checkov-tool", "_bootstrap"}
BARE_PYTHON = re.compile(r"(^|[;&|(]\s*)python\s")  # `python` in a command's position


def _fenced_lines(path: Path) -> list[tuple[int, str]]:
    lines, inside = [], False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("```"):
            inside = not inside
        elif inside:
            lines.append((number, line))
    return lines


def test_no_fenced_command_runs_a_bare_python() -> None:
    found = []
    for path in DOCS:
        for number, line in _fenced_lines(path):
            command = line.split(" #")[0].strip().removeprefix("$ ")
            if BARE_PYTHON.search(command):
                found.append(f"{path.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert found == [], "use python3 (bootstrap) or .nox/_venv-test/bin/python (the project's modules)"


def test_every_venv_interpreter_the_docs_name_is_one_the_sessions_create() -> None:
    named = {
        (path.relative_to(PROJECT_ROOT).as_posix(), venv)
        for path in DOCS
        for venv in re.findall(r"\.nox/([\w.+-]+)/bin/", path.read_text(encoding="utf-8"))
    }
    assert {(doc, venv) for doc, venv in named if venv not in VENVS} == set()
    assert any(venv == "_venv-test" for _, venv in named)
