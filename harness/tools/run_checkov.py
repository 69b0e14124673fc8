"""checkov on the templates: one process for every template of every assembly.

checkov runs from its own venv (``nox -s compliance`` builds it from requirements/checkov.txt),
offline, with the project's custom checks from policies/. Its output is only trusted when
it parsed every template and counted exactly the resources the templates define.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.proc import Completed, Started, last_line

# The one definition of checkov's offline environment (the policy tests and the benchmarks
# import it; this module imports only the standard library): no vendor API mapping
# download, no PyPI update check, parse errors fatal.
CHECKOV_OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CKV_PARSE_ERROR_FAIL": "true",
}
CONFIG_FILE = Path(__file__).with_name("checkov.yaml")
# Exit codes checkov uses for "ran, found failures" (1) and "ran clean" (0); anything else is a crash.
CHECKOV_OK_CODES = (0, 1)
# What checkov logs when a custom check does not load; it then runs on without it (a silent gap).
LOAD_ERRORS = re.compile(
    r"Cannot load external check|Refusing to load unverified external check|Loaded data from JSON is not Dict|"
    r"Custom policy .* (is missing required fields|has an invalid)|Failed to parse check id"
)
VERSION_MARKER = "stg-gate: checkov version "
# The project's Python policies append their verdicts (with reasons) here; see policies/lib/stg_policy_lib.py.
VERDICTS_ENV = "STG_POLICY_VERDICTS"


@dataclass(frozen=True, kw_only=True)
class CheckovResult:
    check_id: str
    check_name: str
    result: str  # PASSED | FAILED | SKIPPED
    resource_type: str
    logical_id: str
    template: Path  # absolute
    suppress_comment: str = ""
    severity: str = ""
    guideline: str = ""


@dataclass(frozen=True, kw_only=True)
class PolicyVerdict:
    """What a project Python policy recorded for one resource of one file (status, reason)."""

    status: str  # passed | failed | not-evaluated | not-applicable
    reason: str


@dataclass(frozen=True, kw_only=True)
class CheckovRun:
    results: list[CheckovResult]
    resource_count: int
    duration_s: float
    command: str
    version: str = "unknown"
    verdicts: Mapping[tuple[str, Path, str], PolicyVerdict] = field(default_factory=dict)  # (policy, file, lid)

    @property
    def by_template(self) -> dict[Path, list[CheckovResult]]:
        grouped: dict[Path, list[CheckovResult]] = {}
        for result in self.results:
            grouped.setdefault(result.template, []).append(result)
        return grouped


def checkov_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.update(CHECKOV_OFFLINE_ENV)
    env.setdefault("LOG_LEVEL", "WARNING")
    return env


# Runs in checkov's own interpreter: does the slow imports (~4 s) while the gate synthesizes,
# then reads the argument list as one JSON line and runs exactly what the console script runs.
_BOOTSTRAP = """
import json, sys, warnings
try:
    from checkov.main import Checkov
    from checkov.version import version
    import checkov.cloudformation.runner
    print("stg-gate: checkov version " + version, file=sys.stderr, flush=True)
except BaseException as error:
    print(f"checkov import failed: {type(error).__name__}: {error}", file=sys.stderr)
    sys.exit(2)
line = sys.stdin.readline()
if not line.strip():
    sys.exit(3)
argv = json.loads(line)
sys.argv = ["checkov", *argv]
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    sys.exit(Checkov(argv=argv).run())
"""


def python_of(executable: str) -> str | None:
    """The interpreter of a Python console script (its shebang), or None for anything else."""
    try:
        with open(executable, "rb") as handle:
            first = handle.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    interpreter = first[2:].strip().split()[0] if first[2:].strip() else ""
    return interpreter if Path(interpreter).name.startswith("python") and Path(interpreter).is_file() else None


def checkov_args(*, templates: Sequence[Path], external_checks_dir: Path | None) -> list[str]:
    argv = ["--config-file", str(CONFIG_FILE), "--framework", "cloudformation", "--skip-download"]
    argv += ["--output", "json", "--compact"]
    if external_checks_dir is not None:
        argv += ["--external-checks-dir", str(external_checks_dir)]
    for template in templates:
        argv += ["--file", str(template)]
    return argv


class CheckovLauncher:
    """checkov started early: its imports overlap synthesis; the scan starts when the templates exist.

    Falls back to starting the executable at :meth:`scan` when it is not a Python console
    script (a wrapper, or a fake in the fail-closed tests).
    """

    def __init__(self, *, executable: str, cwd: Path, env: Mapping[str, str] | None = None) -> None:
        self.executable = executable
        self._cwd = cwd
        self.verdicts_file = cwd / "policy-verdicts.jsonl"
        self._env = {**checkov_env(), **(env or {}), VERDICTS_ENV: str(self.verdicts_file)}
        interpreter = python_of(executable)
        self.prewarmed: Started | None = None
        if interpreter is not None:
            self.prewarmed = Started(
                tool="checkov", argv=[interpreter, "-c", _BOOTSTRAP], env=self._env, cwd=cwd, stdin=True
            )

    def scan(self, *, templates: Sequence[Path], external_checks_dir: Path | None) -> Started:
        args = checkov_args(templates=templates, external_checks_dir=external_checks_dir)
        if self.prewarmed is not None:
            self.prewarmed.send(json.dumps(args))
            self.prewarmed.argv = [self.executable, *args]
            return self.prewarmed
        return Started(tool="checkov", argv=[self.executable, *args], env=self._env, cwd=self._cwd)

    def kill(self) -> None:
        if self.prewarmed is not None:
            self.prewarmed.kill()


def collect_checkov(
    started: Started, *, expected_resources: int, verdicts_file: Path | None = None, timeout_s: float = 300
) -> CheckovRun:
    done = started.wait(timeout_s=timeout_s)
    run = parse_checkov(done, expected_resources=expected_resources, command=" ".join(started.argv[:1]))
    if verdicts_file is None:
        return run
    return CheckovRun(
        results=run.results,
        resource_count=run.resource_count,
        duration_s=run.duration_s,
        command=run.command,
        version=run.version,
        verdicts=read_verdicts(verdicts_file),
    )


class _Resolved(dict[str, Path]):
    """Each file name resolved once: checkov names the same few world files in thousands of results."""

    def __call__(self, name: str) -> Path:
        if name not in self:
            self[name] = Path(name).resolve()
        return self[name]


def read_verdicts(path: Path) -> dict[tuple[str, Path, str], PolicyVerdict]:
    """The verdicts the project's Python policies appended (absent file: none were recorded)."""
    verdicts: dict[tuple[str, Path, str], PolicyVerdict] = {}
    if not path.exists():
        return verdicts
    resolved = _Resolved()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
            key = (str(entry["policy"]), resolved(str(entry["file"])), str(entry["logical_id"]))
            verdicts[key] = PolicyVerdict(status=str(entry["status"]), reason=str(entry.get("reason") or ""))
        except (ValueError, KeyError, TypeError) as error:
            raise HarnessError(f"policy verdict line {number} of {path} is malformed: {error}") from error
    return verdicts


def parse_checkov(done: Completed, *, expected_resources: int, command: str = "checkov") -> CheckovRun:
    if done.returncode not in CHECKOV_OK_CODES:
        raise HarnessError(f"checkov crashed (exit {done.returncode}): {last_line(done.stderr or done.stdout)}")
    load_errors = [line.strip() for line in done.stderr.splitlines() if LOAD_ERRORS.search(line)]
    if load_errors:
        raise HarnessError(f"checkov could not load a custom check: {load_errors[0][-300:]}")
    version = next(
        (line.split(VERSION_MARKER, 1)[1].strip() for line in done.stderr.splitlines() if VERSION_MARKER in line),
        "unknown",
    )
    try:
        data: Any = json.loads(done.stdout)
    except ValueError as error:
        raise HarnessError(f"checkov output is not JSON (exit {done.returncode}): {last_line(done.stdout)}") from error
    reports = data if isinstance(data, list) else [data]
    reports = [r for r in reports if isinstance(r, dict)]
    cfn = [r for r in reports if r.get("check_type") == "cloudformation"]
    if not cfn:
        summary = reports[0].get("summary", reports[0]) if reports else {}
        raise HarnessError(
            f"checkov scanned no CloudFormation resources (resource_count {summary.get('resource_count', 0)}, "
            f"expected {expected_resources})"
        )
    report = cfn[0]
    summary = report.get("summary") or {}
    if summary.get("parsing_errors", 0) != 0:
        raise HarnessError(f"checkov could not parse {summary['parsing_errors']} template(s)")
    if summary.get("resource_count") != expected_resources:
        raise HarnessError(
            f"checkov counted {summary.get('resource_count')} resources, the templates define {expected_resources}"
        )
    results: list[CheckovResult] = []
    resolved = _Resolved()
    for bucket in ("passed_checks", "failed_checks", "skipped_checks"):
        for record in (report.get("results") or {}).get(bucket) or []:
            resource = str(record.get("resource", ""))
            resource_type, _, logical_id = resource.rpartition(".")
            check_result = record.get("check_result") or {}
            results.append(
                CheckovResult(
                    check_id=str(record.get("check_id", "")),
                    check_name=str(record.get("check_name", "")),
                    result=str(check_result.get("result", "")),
                    resource_type=resource_type,
                    logical_id=logical_id,
                    template=resolved(str(record.get("file_abs_path", ""))),
                    suppress_comment=str(check_result.get("suppress_comment") or ""),
                    severity=str(record.get("severity") or ""),
                    guideline=str(record.get("guideline") or ""),
                )
            )
    if not results:
        raise HarnessError("checkov produced no check results for the templates")
    return CheckovRun(
        results=results,
        resource_count=int(summary["resource_count"]),
        duration_s=done.duration_s,
        command=command,
        version=version,
    )
