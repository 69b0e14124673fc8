"""The project's policies on synthesized templates, from one warm checkov process per test session.

The policies are checkov custom checks (``policies/checks``) and checkov lives in its own venv
(``$CHECKOV_BIN``, else ``.nox/_checkov-tool``). Starting it costs 2-4 s, scanning one template
0.3-0.5 s of CPU, so a property test cannot start one per example. :class:`PolicyScanner` starts
checkov's interpreter once, imports its CloudFormation runner and loads the policies once,
then scans one template per request (a JSON line in, a JSON line out), so a Hypothesis test
can judge every example inline and shrink a failure like any other.

Only the project's policies run (``CKV_STG_*``): they carry the spec's values, which is what
the config must agree with (issue 11); checkov's built-in checks, cdk-nag and cfn-lint judge
the default stack in the gate itself. A result the gate waives (policies/waivers.yaml, applied
by harness.tools.waivers.accepted_exception, the gate's own judgement) is an accepted exception here
too; any other result but PASSED is a failure.

Fail closed: a worker that cannot start, dies, answers late, could not parse the template, or
scanned other resources than the template defines fails the test with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from harness.catalog import Waiver, load_waivers
from harness.tools.run_checkov import checkov_env, python_of
from harness.tools.waivers import accepted_exception
from infra.stacks.staging_database import STACK_ID
from tests.property.synth import Synthesized

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHECKOV = ROOT / ".nox" / "_checkov-tool" / "bin" / "checkov"
CHECKS_DIR = ROOT / "policies" / "checks"
PROJECT_CHECKS = "CKV_STG_*"
START_TIMEOUT_S = 120.0
SCAN_TIMEOUT_S = 120.0

# Runs in checkov's interpreter. checkov 3.3.30 (requirements/checkov.txt) skips parsing in
# Runner.run() when the runner already holds definitions; resetting them makes one Runner
# (with the policies loaded once) scan a new file per request. The answer names the resources
# checkov scanned, so a runner that judged a stale template is caught by the caller.
_WORKER = r"""
import json, os, sys
protocol = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)  # anything checkov prints goes to the log, never into the protocol
sys.stdout = sys.stderr
from checkov.cloudformation.runner import Runner
from checkov.runner_filter import RunnerFilter
checks_dir, pattern = sys.argv[1], sys.argv[2]
runner, loaded = Runner(), False
protocol.write(json.dumps({"ready": True}) + "\n"); protocol.flush()
for line in sys.stdin:
    request = json.loads(line)
    runner.context = runner.definitions = runner.breadcrumbs = None
    report = runner.run(
        root_folder=None, files=[request["file"]], external_checks_dir=None if loaded else [checks_dir],
        runner_filter=RunnerFilter(framework=["cloudformation"], checks=[pattern], show_progress_bar=False),
    )
    loaded = True
    results = [
        {"id": r.check_id, "name": r.check_name, "result": r.check_result["result"].name, "resource": r.resource}
        for r in report.passed_checks + report.failed_checks + report.skipped_checks
    ]
    answer = {"parsing_errors": len(report.parsing_errors), "resources": sorted(report.resources), "results": results}
    protocol.write(json.dumps(answer) + "\n"); protocol.flush()
"""


class PolicyScanError(Exception):
    """The policies could not judge a template: never a pass."""


@dataclass(frozen=True)
class PolicyResult:
    policy_id: str
    name: str
    result: str  # PASSED | FAILED | SKIPPED
    resource: str  # "AWS::RDS::DBInstance.DatabaseInstanceAA8A5FDE"


@dataclass(frozen=True)
class PolicyScan:
    results: list[PolicyResult] = field(default_factory=list)

    @property
    def failed(self) -> list[PolicyResult]:
        return [r for r in self.results if r.result != "PASSED"]

    def describe(self) -> str:
        return "\n".join(f"  {r.policy_id} {r.result} on {r.resource}: {r.name}" for r in self.failed)


def checkov_executable() -> Path:
    configured = os.environ.get("CHECKOV_BIN")
    path = Path(configured) if configured else DEFAULT_CHECKOV
    if not path.is_file():
        raise PolicyScanError(
            f"checkov not found at {path} (CHECKOV_BIN={configured!r}): run through `nox -s tests` or "
            "`nox -s compliance`, which install the pinned checkov (requirements/checkov.txt) and set CHECKOV_BIN"
        )
    return path


class PolicyScanner:
    """One checkov worker: :meth:`scan` judges one template with the project's policies."""

    def __init__(self, *, workdir: Path, checkov: Path | None = None, checks_dir: Path = CHECKS_DIR) -> None:
        executable = checkov or checkov_executable()
        interpreter = python_of(str(executable))
        if interpreter is None:
            raise PolicyScanError(f"{executable} is not a Python console script: cannot find checkov's interpreter")
        self._workdir = workdir
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._log_path = workdir / "checkov-worker.log"
        self._log = self._log_path.open("w", encoding="utf-8")
        env = {**checkov_env(), "CHECKOV_PARALLELIZATION_TYPE": "none"}  # one file per run: forking costs more
        self._process = subprocess.Popen(
            [interpreter, "-c", _WORKER, str(checks_dir), PROJECT_CHECKS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=workdir,
        )
        self._ready = False

    def _read_line(self, *, timeout_s: float, what: str) -> dict[str, Any]:
        stdout: IO[str] | None = self._process.stdout
        assert stdout is not None
        readable, _, _ = select.select([stdout], [], [], timeout_s)
        line = stdout.readline() if readable else ""
        if not line:  # end of file (the worker is gone) or no answer in time
            reason = "exited" if readable else f"gave no answer within {timeout_s:.0f} s"
            tail = self._log_tail()
            self.close()
            raise PolicyScanError(f"checkov worker {reason} while {what}: {tail}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def _log_tail(self) -> str:
        self._log.flush()
        lines = [line for line in self._log_path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return " | ".join(lines[-3:]) or "(no output)"

    def scan(self, template: Mapping[str, Any], *, name: str = "stack") -> PolicyScan:
        if not self._ready:
            self._read_line(timeout_s=START_TIMEOUT_S, what="starting")
            self._ready = True
        self._count += 1
        # A new file per scan: the policies cache parsed templates by path and mtime.
        path = self._workdir / f"{self._count:05d}-{name}.template.json"
        path.write_text(json.dumps(template), encoding="utf-8")
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps({"file": str(path)}) + "\n")
            stdin.flush()
        except BrokenPipeError as error:
            raise PolicyScanError(f"checkov worker is gone: {self._log_tail()}") from error
        answer = self._read_line(timeout_s=SCAN_TIMEOUT_S, what=f"scanning {path.name}")
        expected = len(template.get("Resources") or {})
        scanned = answer["resources"]
        if answer["parsing_errors"]:
            raise PolicyScanError(f"checkov could not parse {path.name}")
        if len(scanned) != expected or any(not r.startswith(f"{path}:") for r in scanned):
            raise PolicyScanError(f"checkov scanned {len(scanned)} resource(s), {path.name} defines {expected}")
        results = [PolicyResult(r["id"], r["name"], r["result"], r["resource"]) for r in answer["results"]]
        if not results:
            raise PolicyScanError(f"no project policy evaluated {path.name}: were policies/checks loaded?")
        path.unlink()  # a failure is reproduced from its context (Hypothesis prints it), not from this file
        return PolicyScan(results=sorted(results, key=lambda r: (r.policy_id, r.resource, r.result)))

    def close(self) -> None:
        """Stop the worker and remove its work directory."""
        if self._process.poll() is None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()
        shutil.rmtree(self._workdir, ignore_errors=True)


def policy_failures(stack: Synthesized, *, scanner: PolicyScanner, waivers: Sequence[Waiver] | None = None) -> str:
    """What the project's policies fail on ``stack`` and no waiver of policies/ accepts ("" if nothing).

    One judgement (issue 17): the gate's own waiver application (harness.tools.waivers.accepted_exception), so
    a context whose stack carries an accepted exception passes here as it passes the gate.
    """
    scan = scanner.scan(stack.template, name=stack.stack_name)
    waivers = load_waivers() if waivers is None else waivers
    failing = [
        r for r in scan.failed
        if accepted_exception(
            waivers=waivers, today=dt.date.today(), template=stack.template, stack=STACK_ID, rule=r.policy_id,
            logical_id=r.resource.rsplit(".", 1)[-1],
        ) is None
    ]  # fmt: skip
    return (
        f"{stack.stack_name}:\n" + "\n".join(f"  {r.policy_id} {r.result} on {r.resource}: {r.name}" for r in failing)
        if failing
        else ""
    )
