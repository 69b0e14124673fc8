"""Context in, typed config or ConfigError out: no synthesis, so hundreds of examples are cheap."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import runpy
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Stack
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from infra import app_builder
from infra.app_builder import add_staging_stacks, new_app
from infra.config import _SUFFIX, ConfigError, StagingDatabaseConfig
from tests.property.invalid import INVALID_CATEGORIES, InvalidCase
from tests.property.profiles import invalid_examples
from tests.property.strategies import DEFAULTS, Overrides, disjoint_subnets, suffixes, valid_overrides, windows

ROOT = Path(__file__).resolve().parents[2]


def _decoded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith(("[", "{")) else value


@given(overrides=valid_overrides())
def test_valid_context_parses_to_the_values_given(overrides: Overrides) -> None:
    config = StagingDatabaseConfig.from_context(overrides.context)
    given_ = {k: _decoded(v) for k, v in overrides.context.items()}
    assert config.environment_suffix == given_["environmentSuffix"]
    assert list(config.app_subnet_cidrs) == given_["appSubnetCidrs"]
    assert list(config.database_subnet_cidrs) == given_["databaseSubnetCidrs"]
    assert config.backup_retention_days == int(given_["backupRetentionDays"])
    assert config.backup_window.rds_format() == given_["backupWindow"]
    assert config.maintenance_window.rds_format() == given_["maintenanceWindow"]
    assert config.instance_class == given_["instanceClass"]
    assert config.postgres_version == given_["postgresVersion"]
    assert config.cpu_alarm_threshold_percent == float(given_["cpuAlarmThresholdPercent"])
    assert config.database_port == int(given_["databasePort"])
    assert config.performance_insights_enabled is (str(given_["performanceInsightsEnabled"]).lower() == "true")
    assert (config.migration is not None) == bool(given_["migration"])


@pytest.mark.parametrize("category", sorted(INVALID_CATEGORIES))
@settings(max_examples=invalid_examples(through_app=False))
@given(data=st.data())
def test_invalid_context_is_a_config_error_naming_the_key(category: str, data: st.DataObject) -> None:
    case = data.draw(INVALID_CATEGORIES[category], label="case")
    with pytest.raises(ConfigError) as raised:
        StagingDatabaseConfig.from_context({**DEFAULTS, **case.override})
    error = raised.value
    assert error.key in case.keys, (
        f"{case.what}: error names {error.key!r}, expected one of {sorted(case.keys)}: {error}"
    )
    message = str(error)
    assert f"context key '{error.key}'" in message
    assert len(message.splitlines()) == 1, message
    _assert_the_example_is_accepted(case, error)


def _assert_the_example_is_accepted(case: InvalidCase, error: ConfigError) -> None:
    """The line says "(valid example: X)": X in place of the refused value must be accepted, even
    where the bound depends on another key (maxAllocatedStorageGiB above allocatedStorageGiB)."""
    context = {**DEFAULTS, **case.override}
    if "." in error.key or error.key not in context or "not a known context key" in error.rule:
        return  # a migration sub-key (its example is the whole object) or an unknown key (the example is a name)
    try:
        StagingDatabaseConfig.from_context({**context, error.key: error.example})
    except ConfigError as again:
        assert again.key != error.key, f"{case.what}: the example {error.example!r} is refused too: {again}"


def _json_representable(case: InvalidCase) -> bool:
    """What cdk.json and ``-c`` can carry: JSON without NaN or infinity, and no null (an App
    treats a null override as "not overridden", so cdk.json's value applies)."""
    if None in case.override.values():
        return False
    try:
        json.dumps(case.override, allow_nan=False)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("category", sorted(INVALID_CATEGORIES))
@settings(max_examples=invalid_examples(through_app=True), suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_invalid_context_stops_before_any_construct(category: str, data: st.DataObject) -> None:
    """Through the App, as ``cdk synth`` runs it: ConfigError, and not a single stack was created."""
    case = data.draw(INVALID_CATEGORIES[category].filter(_json_representable), label="case")
    app = new_app(context=case.override)
    with pytest.raises(ConfigError) as raised:
        add_staging_stacks(app)
    assert raised.value.key in case.keys, f"{case.what}: {raised.value}"
    assert not [child for child in app.node.children if isinstance(child, Stack)]


# ---------------------------------------------------------------- through app.py, as a user sees it

CLI_CASES = {
    # -c values arrive as strings, so they do here. A bad environmentSuffix through a cold
    # `python app.py` with CDK_CONTEXT_JSON (the process boundary: exit status, nothing from
    # jsii on stderr) is tests/unit/test_app_cli.py's case, word for word.
    "appSubnetCidrs": {"appSubnetCidrs": '["10.1.0.0/24","10.2.1.0/24","10.1.2.0/24"]'},
    "backupWindow": {"backupWindow": "08:30-09:30"},
}


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, subprocess.CompletedProcess[str]]]:
    """app.py run as ``python app.py`` runs it (``__main__``, its exit status and stderr), in this
    process with each case as post-CLI context, the layer ``-c`` fills. Not a cold process per
    case: each would spend ~1.5 s of CPU starting jsii and loading aws-cdk-lib before the config
    error, and the gate runs these tiers beside its own synthesis on the same CPUs (issue 12).
    """
    real_new_app = app_builder.new_app
    results = {}
    with pytest.MonkeyPatch.context() as patch:
        for key, context in CLI_CASES.items():
            outdir = str(tmp_path_factory.mktemp(f"app-py-{key}"))
            patch.setattr(app_builder, "new_app", functools.partial(real_new_app, context=context, outdir=outdir))
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                try:
                    runpy.run_path(str(ROOT / "app.py"), run_name="__main__")
                    code: object = 0
                except SystemExit as exited:
                    code = exited.code
            returncode = code if isinstance(code, int) else 1
            results[key] = subprocess.CompletedProcess(
                ["app.py", outdir], returncode, stdout.getvalue(), stderr.getvalue()
            )
    yield results


@pytest.mark.parametrize("key", sorted(CLI_CASES))
def test_app_prints_one_line_and_exits_1(key: str, cli_runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = cli_runs[key]
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and lines[0].startswith(f"config error: context key '{key}' has invalid value"), (
        result.stderr
    )
    assert "Traceback" not in result.stderr and "jsii" not in result.stderr
    assert result.stdout == ""
    assert not list(Path(result.args[1]).glob("*.template.json")), "a config error must stop before any template"


# ---------------------------------------------------------------- the strategies reach the edges

# Existence, not a minimal example: no shrink phase (find() would otherwise spend most of its
# time shrinking what it found, about 2 s of CPU per run for nothing these tests assert).
EDGE_SEARCH = settings(database=None, derandomize=True, max_examples=5000, phases=[Phase.generate])


@pytest.mark.parametrize(
    ("what", "condition"),
    [
        ("length 1", lambda s: len(s) == 1),
        ("length 16 with hyphens", lambda s: len(s) == 16 and "-" in s),
        ("starts with a digit", lambda s: s[0].isdigit()),
        ("three inner hyphens", lambda s: s.count("-") >= 3),
    ],
)
def test_suffix_strategy_reaches(what: str, condition: Any) -> None:
    found = find(suffixes(), condition, settings=EDGE_SEARCH)
    assert _SUFFIX.fullmatch(found), what


def test_subnet_strategy_reaches_both_size_limits() -> None:
    find(disjoint_subnets(3), lambda nets: any(n.endswith("/17") for n in nets), settings=EDGE_SEARCH)
    find(disjoint_subnets(3), lambda nets: any(n.endswith("/28") for n in nets), settings=EDGE_SEARCH)


def test_window_strategy_reaches_midnight_and_week_wraps() -> None:
    find(windows(), lambda w: w[1].split("-")[0] > w[1].split("-")[1], settings=EDGE_SEARCH)  # backup crosses midnight
    find(windows(), lambda w: w[0].startswith("sun") and w[0].split("-")[1].startswith("mon"), settings=EDGE_SEARCH)


@given(st.data())
def test_suffix_strategy_only_draws_valid_suffixes(data: st.DataObject) -> None:
    assert _SUFFIX.fullmatch(data.draw(suffixes()))
