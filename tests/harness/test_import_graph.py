"""The harness's import graph: no loops between its modules, no private name used across them.

The floors themselves (which module may import which) are the import-linter layers contract in
pyproject.toml (``lint-imports``, run by ``nox -s lint``); this test also counts the imports under
``if TYPE_CHECKING:``, which a loop of types is made of too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.harness.conftest import ROOT

HARNESS = ROOT / "harness"


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, str]]:
    """(imported module, imported name or "") of every import of ``name`` into another harness module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base, a.name) for a in node.names]
        else:
            continue
        for named, imported in targets:
            target = named
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.startswith("harness") and target != name:
                yield target, imported


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {name: {t for t, _ in _imports(name, path, modules)} for name, path in modules.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    pending = list(graph.get(start, ()))
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending.extend(graph.get(node, ()))
    return seen


def _loops(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The modules that reach each other through imports, grouped (each group of more than one is a loop)."""
    reach = {node: _reachable(graph, node) for node in graph}
    groups = {frozenset({node} | {other for other in reach[node] if node in reach[other]}) for node in graph}
    return sorted((g for g in groups if len(g) > 1), key=sorted)


def test_no_import_loop_between_harness_modules() -> None:
    assert _loops(_graph(_modules(HARNESS))) == []


def test_the_loop_finder_finds_a_loop() -> None:
    assert _loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]


def test_no_private_name_is_imported_from_another_harness_module() -> None:
    modules = _modules(HARNESS)
    private = [
        f"{name} imports {imported} from {target}"
        for name, path in modules.items()
        for target, imported in _imports(name, path, modules)
        if imported.startswith("_") and not imported.startswith("__")
    ]
    assert private == []


def test_no_private_harness_name_is_imported_by_tests_benchmarks_or_sessions() -> None:
    """A test that needs a helper uses its public name: a private one may change without notice."""
    harness = _modules(HARNESS)
    private = []
    for folder in ("tests", "benchmarks", "nox_sessions", "scripts"):
        for name, path in _modules(ROOT / folder).items():
            for target, imported in _imports(name, path, {**harness, name: path}):
                if imported.startswith("_") and not imported.startswith("__"):
                    private.append(f"{path.relative_to(ROOT)} imports {imported} from {target}")
    assert private == []
