"""The README is documentation users act on: its commands and context table must stay true."""

from __future__ import annotations

import json
import re

from infra.app_builder import PROJECT_ROOT, cdk_json_context
from infra.config import project_context_keys

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _table_rows() -> dict[str, str]:
    table = README.split("<!-- context-table:start -->")[1].split("<!-- context-table:end -->")[0]
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]*)` \|", table, re.MULTILINE)
    return dict(rows)


def test_context_table_lists_every_project_key_with_its_cdk_json_default() -> None:
    rows = _table_rows()
    context = cdk_json_context()
    assert list(rows) == list(project_context_keys())
    for key, documented in rows.items():
        default = context[key]
        expected = default if isinstance(default, str) else json.dumps(default, separators=(",", ":"))
        assert documented == expected, key


def _readme_commands() -> list[str]:
    """The lines of the README's "two commands" block that are not comments."""
    block = README.split("## The two commands")[1].split("```sh")[1].split("```")[0]
    return [line for line in block.strip().splitlines() if line and not line.startswith("#")]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert _readme_commands() == ["python3 bootstrap.py -s compliance", "python3 bootstrap.py -s tests"]
    assert ci == _readme_commands()[1]
