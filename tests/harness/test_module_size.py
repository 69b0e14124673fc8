"""No module over 500 lines in ``harness/`` or ``policies/lib/`` (issue 20).

A module that long holds several jobs, and a newcomer cannot tell where one ends. The test names
every module over the limit, so a split can be checked against it. The conductor
(``harness/gate.py``) is held to the same limit: its stages call into the packages below it.
"""

from __future__ import annotations

from pathlib import Path

from tests.harness.conftest import ROOT

MAX_LINES = 500
PACKAGES = (ROOT / "harness", ROOT / "policies" / "lib")


def oversized(roots: tuple[Path, ...], *, base: Path = ROOT, limit: int = MAX_LINES) -> list[str]:
    """``path: N lines`` (relative to ``base``) for every Python module under ``roots`` over ``limit`` lines, sorted."""
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            count = len(path.read_text(encoding="utf-8").splitlines())
            if count > limit:
                found.append(f"{path.relative_to(base).as_posix()}: {count} lines")
    return sorted(found)


def test_no_module_over_500_lines() -> None:
    over = oversized(PACKAGES)
    assert not over, f"modules over {MAX_LINES} lines (split them by job): {over}"


def test_the_size_check_names_every_long_module(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "inner").mkdir(parents=True)
    (package / "short.py").write_text("x = 1\n" * 500, encoding="utf-8")
    (package / "long.py").write_text("x = 1\n" * 501, encoding="utf-8")
    (package / "inner" / "deep.py").write_text("x = 1\n" * 900, encoding="utf-8")
    assert oversized((package,), base=tmp_path, limit=500) == [
        "package/inner/deep.py: 900 lines",
        "package/long.py: 501 lines",
    ]
