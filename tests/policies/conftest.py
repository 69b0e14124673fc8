"""One checkov run for the whole policy test module: every fixture plus the real stack.

checkov takes ~4.5 s to start, so the session copies every fixture of every policy (named
``<POLICY_ID>__<kind>.json``, optional kinds such as ``not-evaluated`` included) and the synthesized stack templates (``stack__<name>.json``, and ``stack-migration__<name>.json`` with migration on)
into one directory, scans it once with the project checks, and the tests assert per file
from the JSON report. The executable comes from ``CHECKOV_BIN`` (set by ``nox -s tests``),
else the pinned tool venv ``.nox/_checkov-tool``; if neither exists the tests fail (a policy
suite that silently skips would prove nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.catalog import CHECKS_DIR, OPTIONAL_FIXTURE_KINDS, POLICIES_DIR, Policy, load_policies, optional_fixture
from harness.catalog.registry import load_registry
from harness.tools.run_checkov import checkov_env
from infra.config import MIGRATION_EXAMPLE
from tests.conftest import TEMPLATE_NAME, synth_template
from tests.policies.registry_fixtures import RegistryFixture
from tests.policies.registry_fixtures import fixtures as registry_fixtures

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = REPO / ".nox" / "_checkov-tool" / "bin" / "checkov"
STACK_FILE = f"stack__{TEMPLATE_NAME}"
MIGRATION_STACK_FILE = f"stack-migration__{TEMPLATE_NAME}"
STACK_FILES = (STACK_FILE, MIGRATION_STACK_FILE)
# The stack with migration on (peering, routes, the dev-side ingress rule): compliant too.
MIGRATION_CONTEXT = {"migration": MIGRATION_EXAMPLE}


@dataclass(frozen=True)
class Record:
    result: str  # "passed" | "failed" | "skipped"
    resource: str  # "AWS::RDS::DBInstance.Db"
    check_name: str


@dataclass(frozen=True)
class Verdict:
    """What a Python policy recorded through $STG_POLICY_VERDICTS (status and reason)."""

    status: str  # passed | failed | not-evaluated | not-applicable
    reason: str
    logical_id: str


@dataclass
class ScanResults:
    """checkov records per (file name, check id), the Python policies' verdicts, the run's summary and stderr."""

    records: dict[tuple[str, str], list[Record]] = field(default_factory=lambda: defaultdict(list))
    verdicts: dict[tuple[str, str], list[Verdict]] = field(default_factory=lambda: defaultdict(list))
    summary: dict[str, object] = field(default_factory=dict)
    stderr: str = ""
    resource_types: dict[str, set[str]] = field(default_factory=dict)  # file -> resource types in it

    def of(self, file_name: str, check_id: str) -> list[Record]:
        return self.records.get((file_name, check_id), [])

    def verdicts_of(self, file_name: str, check_id: str) -> list[Verdict]:
        return self.verdicts.get((file_name, check_id), [])


def checkov_executable() -> Path:
    configured = os.environ.get("CHECKOV_BIN")
    path = Path(configured) if configured else DEFAULT_CHECKOV
    if not path.is_file():
        pytest.fail(
            f"checkov not found at {path} (CHECKOV_BIN={configured!r}); run the tests through `nox -s tests`, "
            "which installs the pinned checkov (requirements/checkov.txt) and sets CHECKOV_BIN",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def policies() -> list[Policy]:
    return load_policies()


def _copy_fixtures(policies: list[Policy], scan_dir: Path) -> None:
    """Every fixture of every policy, the optional kinds (not-evaluated) included, as <ID>__<kind>.json."""
    for policy in policies:
        fixtures = dict(policy.fixtures)
        for kind in OPTIONAL_FIXTURE_KINDS:
            optional = optional_fixture(policy.id, kind)
            if optional is not None:
                fixtures[kind] = optional
        for kind, fixture in fixtures.items():
            shutil.copyfile(fixture, scan_dir / f"{policy.id}__{kind}.json")


@pytest.fixture(scope="session")
def staging_templates(default_template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The staging templates the registry's fixtures edit: default context, migration on, and the behaviour
    table's two compliant variants (the key by its alias; a generated, rotated master secret)."""
    from tests.policies.behaviour_table import BASES  # noqa: PLC0415

    return {
        "default": default_template,
        "migration": synth_template(MIGRATION_CONTEXT),
        "alias": BASES["alias"](default_template),
        "secret": BASES["secret"](default_template),
    }


@pytest.fixture(scope="session")
def registry_yaml_fixtures(
    policies: list[Policy], staging_templates: dict[str, dict[str, Any]]
) -> dict[str, RegistryFixture]:
    """The registry's fixtures judged by YAML policies (checkov only): file name -> fixture, for the one scan."""
    registry = load_registry(POLICIES_DIR)
    engines = {p.id: p.engine for p in policies}
    found = [f for f in registry_fixtures(registry, staging_templates) if engines.get(f.policy) == "yaml"]
    return {f"registry__{index:03d}.json": fixture for index, fixture in enumerate(found)}


@pytest.fixture(scope="session")
def scan(
    policies: list[Policy],
    default_assembly: Path,
    staging_templates: dict[str, dict[str, Any]],
    registry_yaml_fixtures: dict[str, RegistryFixture],
    tmp_path_factory: pytest.TempPathFactory,
) -> ScanResults:
    scan_dir = tmp_path_factory.mktemp("policy-scan")
    results = ScanResults()
    _copy_fixtures(policies, scan_dir)
    shutil.copyfile(default_assembly / TEMPLATE_NAME, scan_dir / STACK_FILE)
    (scan_dir / MIGRATION_STACK_FILE).write_text(json.dumps(staging_templates["migration"]), encoding="utf-8")
    for file_name, fixture in registry_yaml_fixtures.items():
        (scan_dir / file_name).write_text(json.dumps(fixture.template), encoding="utf-8")
    for template in scan_dir.iterdir():
        resources = json.loads(template.read_text(encoding="utf-8")).get("Resources", {})
        results.resource_types[template.name] = {r["Type"] for r in resources.values()}

    argv = [
        str(checkov_executable()),
        "--directory", str(scan_dir),
        "--framework", "cloudformation",
        "--skip-download",
        "--external-checks-dir", str(CHECKS_DIR),
        "--check", ",".join(p.id for p in policies),
        "--output", "json",
        "--compact",
    ]  # fmt: skip
    verdicts_file = scan_dir.parent / f"{scan_dir.name}.verdicts.jsonl"
    env = {**checkov_env(), "STG_POLICY_VERDICTS": str(verdicts_file)}
    env.pop("STG_ENVIRONMENT_SUFFIX", None)
    completed = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    if completed.returncode not in (0, 1):
        pytest.fail(f"checkov crashed (exit {completed.returncode}):\n{completed.stderr[-4000:]}", pytrace=False)
    try:
        report = json.loads(completed.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"checkov printed no JSON report:\n{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}", pytrace=False
        )
    reports = report if isinstance(report, list) else [report]
    for part in reports:
        if part.get("check_type") != "cloudformation":
            continue
        results.summary = part["summary"]
        for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
            for item in part["results"][bucket]:
                key = (Path(item["file_path"]).name, item["check_id"])
                results.records[key].append(
                    Record(bucket.removesuffix("_checks"), item["resource"], item["check_name"])
                )
    results.stderr = completed.stderr
    for line in verdicts_file.read_text(encoding="utf-8").splitlines() if verdicts_file.exists() else []:
        entry = json.loads(line)
        results.verdicts[(Path(entry["file"]).name, entry["policy"])].append(
            Verdict(entry["status"], entry["reason"], entry["logical_id"])
        )
    return results
