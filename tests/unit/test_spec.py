"""infra/spec.toml: the one source of the spec's values, loadable anywhere, traceable to the seed spec."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from infra.app_builder import PROJECT_ROOT, cdk_json_context
from infra.config import StagingDatabaseConfig
from infra.spec import SPEC_FILE, SpecError, load_spec, spec

REQUIREMENTS = PROJECT_ROOT / "policies" / "requirements.yaml"
_QUOTE = re.compile(r'^# (REQ-[A-Z]+-\d+): "(.*)"$', re.MULTILINE)


def test_every_quoted_requirement_is_the_seed_spec_word_for_word() -> None:
    texts = {r["id"]: r["text"] for r in yaml.safe_load(REQUIREMENTS.read_text(encoding="utf-8"))["requirements"]}
    quotes = _QUOTE.findall(SPEC_FILE.read_text(encoding="utf-8"))
    assert len(quotes) >= 15
    wrong = {req: quote for req, quote in quotes if texts.get(req) != quote}
    assert wrong == {}, f"spec.toml quotes that are not policies/requirements.yaml's text: {wrong}"


def test_every_value_says_where_it_comes_from() -> None:
    """Each key line follows a comment block naming a REQ id, an AWS limit or a project decision."""
    lines = SPEC_FILE.read_text(encoding="utf-8").splitlines()
    comment: list[str] = []
    unsourced = []
    for line in lines:
        if line.startswith("#"):
            comment.append(line)
        elif line.startswith("["):
            comment = []
        elif "=" in line and not line.startswith(" "):
            if not any(re.match(r"# (REQ-[A-Z]+-\d+|AWS|project)\b", c) for c in comment):
                unsourced.append(line)
        elif not line.strip():
            comment = []
    assert unsourced == []


def test_cdk_json_holds_exactly_the_spec_values() -> None:
    config = StagingDatabaseConfig.from_context(cdk_json_context())
    the_spec = spec()
    assert config.instance_class == the_spec.database.instance_class
    assert config.maintenance_window.rds_format() == the_spec.database.maintenance_window
    assert config.max_connections == the_spec.parameters.max_connections
    assert config.shared_buffers_rds_pages == the_spec.parameters.shared_buffers_pages
    assert config.free_storage_alarm_threshold_bytes == the_spec.monitoring.free_storage_alarm_threshold_bytes
    assert config.required_tags == the_spec.environment.required_tags
    assert config.app_subnet_cidrs == the_spec.network.app_subnet_cidrs


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("max_connections = 200", 'max_connections = "200"'), "parameters max_connections: must be int, got '200'"),
        (("multi_az = true", "multi_az = 1"), "database multi_az: must be bool, got 1"),
        (("backup_retention_days = 7", "backup_retention_days = true"), "must be int, got True"),
        (("port = { min = 1150, max = 65535 }", "port = { min = 1150 }"), "missing key(s) ['max']"),
        (("suffix_max_length = 16", "suffix_max_length = 16\nsuffix_min_length = 1"), "unknown key(s) ['suffix_min"),
        (("[logs]", "[log]"), "unknown key(s) ['log'], missing key(s) ['logs']"),
        (('engine = "postgres"', 'engine = "postgres'), "not valid TOML"),
    ],
)
def test_a_broken_spec_is_one_line_naming_the_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    broken = tmp_path / "spec.toml"
    original, replacement = edit
    text = SPEC_FILE.read_text(encoding="utf-8")
    assert original in text
    broken.write_text(text.replace(original, replacement, 1), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(broken)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_loader_imports_only_the_standard_library() -> None:
    tree = ast.parse((PROJECT_ROOT / "infra" / "spec.py").read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert {m.split(".")[0] for m in modules} <= {*sys.stdlib_module_names, "__future__"}


def test_the_spec_loads_without_any_installed_package() -> None:
    """As checkov's venv would: ``-I -S`` (no site-packages, no project on the path), loaded by path."""
    code = (
        "import importlib.util, sys; "
        f"s = importlib.util.spec_from_file_location('stg_spec', {str(PROJECT_ROOT / 'infra' / 'spec.py')!r}); "
        "m = importlib.util.module_from_spec(s); sys.modules['stg_spec'] = m; s.loader.exec_module(m); "
        "print(m.spec().database.instance_class, m.spec().parameters.shared_buffers_pages)"
    )
    result = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["db.t3.medium", "32768"]
