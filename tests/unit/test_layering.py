"""The app never depends on the compliance gate: infra/ and app.py import nothing of harness/ or policies/.

Two views of one rule: every import statement in the app's source (also the ones inside
functions, which run only sometimes), and the modules ``python app.py`` really loads while
it synthesizes. import-linter checks the same contract in ``nox -s lint`` (pyproject.toml).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.app_builder import PROJECT_ROOT
from tests.unit.app_process import AppSynthesis

# The gate, and what only the gate needs (cdk-nag's packs, the waiver files' YAML parser).
FORBIDDEN = ("harness", "policies")
GATE_ONLY_RUNTIME = (*FORBIDDEN, "cdk_nag", "yaml")


def app_sources() -> list[Path]:
    return [PROJECT_ROOT / "app.py", *sorted((PROJECT_ROOT / "infra").rglob("*.py"))]


def imported_modules(source: str) -> Iterator[str]:
    """Every module an ``import``/``from ... import`` names, plus ``importlib.import_module("...")`` literals."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def forbidden_imports(source: str) -> list[str]:
    return sorted({m for m in imported_modules(source) if m.split(".")[0] in FORBIDDEN})


def test_the_app_sources_import_nothing_of_the_gate() -> None:
    found = {
        str(path.relative_to(PROJECT_ROOT)): names
        for path in app_sources()
        if (names := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert found == {}, f"the app imports the gate: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "from harness.tools.nag import add_nag_validations\n",
        "import harness\n",
        "import policies.checks.rds as rds_checks\n",
        "def lazy():\n    from harness.catalog import load_waivers  # noqa: PLC0415\n",
        "import importlib\nimportlib.import_module('harness.tools.nag')\n",
    ],
)
def test_the_source_check_catches_a_gate_import(source: str) -> None:
    """The check above can fail: each of these would put the gate into the app."""
    assert forbidden_imports(source)


def test_the_source_check_lets_the_app_own_imports_pass() -> None:
    assert forbidden_imports("from infra.config import ConfigError\nimport aws_cdk\nimport harnessing\n") == []


def test_python_app_py_synthesizes_without_loading_the_gate(app_py_synthesis: AppSynthesis) -> None:
    """``cdk synth`` runs ``python app.py``: it must not load the gate, cdk-nag or the waiver files."""
    result = app_py_synthesis.result
    assert result.returncode == 0, result.stderr
    loaded = app_py_synthesis.loaded_modules
    assert (app_py_synthesis.outdir / "StagingDatabase.template.json").is_file()
    assert "aws_cdk" in loaded  # the probe sees real imports
    assert loaded.isdisjoint(GATE_ONLY_RUNTIME), sorted(loaded & set(GATE_ONLY_RUNTIME))
