"""Evidence bound to the inputs: ``reports/evidence/``.

``evidence.json`` records, for one gate run: the SHA-256 of every file of every gated cloud
assembly (manifests, construct trees, templates, asset manifests and assets, the construct
source map, the stack metadata, cdk-nag's validation report: every regular file in it), of every
file under ``policies/`` and of the lock files; the versions of the tools as the running tools
reported them (checkov from its own process, cfn-lint, cdk-nag and its packs with the resources
each was handed); the exact commands (scratch paths shown as ``$GATE_SCRATCH``); the commit and
whether the tree was clean; when the run started and finished; and the verdict.
``SHA256SUMS`` repeats the hashes in ``sha256sum`` format, paths relative to the project root, so
``sha256sum -c reports/evidence/SHA256SUMS`` works from the root for an assembly inside it.

The signed statement over these files and every report is ``harness.audit.attest``; checking a run's
reports, assembly and rules against it is ``python -m harness verify`` (``harness.audit.verify``).

Everything but the run's times is deterministic (sorted); ``SOURCE_DATE_EPOCH`` pins the times too.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.hashing import sha256_file, tree_digest
from harness.reading.inputs import regular_files
from harness.tools.run_checkov import CHECKOV_OFFLINE_ENV

EVIDENCE_DIR = "evidence"
EVIDENCE_FILE = "evidence.json"
SUMS_FILE = "SHA256SUMS"
SCHEMA = "staging-rds-compliance-evidence/2"  # 2: the run's times and the checkout's state; every assembly file
LOCK_GLOBS = ("requirements/*.txt", "requirements/*.in", "package-lock.json")
SCRATCH = "$GATE_SCRATCH"
MAX_CHANGED_SHOWN = 50  # changed files named in the evidence (all are counted)


# ------------------------------------------------------------------------------------ run times


@dataclass(frozen=True, kw_only=True)
class RunTimes:
    """When a run started and finished (UTC), and where the times came from."""

    started: dt.datetime
    finished: dt.datetime
    source: str  # "clock" (the run's own UTC times) or "SOURCE_DATE_EPOCH" (pinned by the user)

    @property
    def started_iso(self) -> str:
        return self.started.isoformat(timespec="seconds")

    @property
    def finished_iso(self) -> str:
        return self.finished.isoformat(timespec="seconds")

    def as_dict(self) -> dict[str, str]:
        return {"started": self.started_iso, "finished": self.finished_iso, "source": self.source}


class RunClock:
    """The run's UTC wall clock, or ``SOURCE_DATE_EPOCH`` for every time when the user sets it.

    Evidence and OSCAL carry when the run happened (an assessor dates observations by it);
    ``SOURCE_DATE_EPOCH`` is the reproducible-builds convention for byte-identical output, so
    it pins every time only when it is set. A bad value is refused before the run starts.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        raw = env.get("SOURCE_DATE_EPOCH")
        self._pinned: dt.datetime | None = None
        if raw is not None:
            if not raw.strip().isdigit():
                raise HarnessError(
                    f"SOURCE_DATE_EPOCH has invalid value {raw!r}: must be a non-negative integer count of seconds "
                    "since 1970-01-01 UTC (valid example: 1767225600), or unset for the run's own times"
                )
            self._pinned = dt.datetime.fromtimestamp(int(raw), tz=dt.UTC)
        self.started = self.now()

    def now(self) -> dt.datetime:
        return self._pinned or dt.datetime.now(dt.UTC).replace(microsecond=0)

    def times(self) -> RunTimes:
        """The run so far: started when the clock was made, finished now."""
        return RunTimes(
            started=self.started, finished=self.now(), source="SOURCE_DATE_EPOCH" if self._pinned else "clock"
        )


def checkout_state(root: Path) -> dict[str, Any]:
    """The commit the run judged and whether the tree was clean (tracked changes and untracked files alike).

    A run from a modified tree is not a run of its commit: the evidence says which files differed.
    Outside a git checkout the commit is empty and the tree is not clean (nothing can vouch for it).
    """
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False
        )  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain=v1", "-z", "--untracked-files=all"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"commit": "", "clean": False, "changed": [], "note": f"git unavailable: {error}"}
    if head.returncode != 0 or status.returncode != 0:
        return {"commit": "", "clean": False, "changed": [], "note": "not a git checkout"}
    changed = sorted({entry[3:] for entry in status.stdout.split("\0") if len(entry) > 3})
    return {
        "commit": head.stdout.strip(),
        "clean": not changed,
        "changed": changed[:MAX_CHANGED_SHOWN],
        "changed_count": len(changed),
    }


# ------------------------------------------------------------------------------------ assembly files


def assembly_files(root: Path) -> list[Path]:
    """Every regular file of a cloud assembly: what the gate read, what a deploy publishes and everything beside.

    Not only what the manifests name: ``construct-sources.json`` moves every alert,
    ``validation-report.json`` holds cdk-nag's construct-level verdicts, ``*.metadata.json`` the
    stack metadata. A file a manifest names outside the assembly is refused by the gate itself
    (``harness.reading.inputs``). Symbolic links are followed only to regular files inside the assembly;
    FIFOs, sockets and devices are never opened (a hostile assembly is hashed, not followed).
    """
    return regular_files(root)


def _hashes(base: Path, paths: Sequence[Path]) -> list[dict[str, str]]:
    return [{"path": p.relative_to(base).as_posix(), "sha256": sha256_file(p)} for p in sorted(paths)]


# ------------------------------------------------------------------------------------ writing


def shown(path: Path, root: Path) -> str:
    """A path relative to the project root where it is inside it, else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def sanitize(command: str, *, root: Path, scratch: str = "") -> str:
    """A command line without this machine's scratch directory and with root-relative paths."""
    if scratch:
        command = command.replace(scratch, SCRATCH)
    return command.replace(str(root.resolve()) + "/", "")


def gate_commands(argvs: Sequence[Sequence[str]], *, synth_mode: bool, root: Path, scratch: str) -> list[str]:
    """What a gate run did, in-process and as the processes it started (``argvs``), sanitized (for the evidence)."""
    lines = (
        ["synthesis: harness.tools.synth.synthesize (in-process, infra.app_builder + cdk-nag packs)"]
        if synth_mode
        else []
    )
    lines.append("cdk-nag over the world files: harness.tools.nag_include.run_nag_on_targets (in-process, CfnInclude)")
    lines.append("checkov environment: " + " ".join(f"{k}={v}" for k, v in sorted(CHECKOV_OFFLINE_ENV.items())))
    lines += [sanitize(shlex.join(argv), root=root, scratch=scratch) for argv in argvs]
    return lines


def build_evidence(
    *,
    root: Path,
    policies_dir: Path,
    assemblies: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]],
    commands: Sequence[str],
    verdict: Mapping[str, Any],
    times: RunTimes,
    versions: Mapping[str, str],
    checkout: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The evidence document (a dict, rendered by :func:`render_evidence`)."""
    inputs = []
    for assembly in sorted(assemblies, key=lambda a: str(a["label"])):
        if "files" in assembly:  # hashed by the run that read it (a shard, for python -m harness merge)
            inputs.append({"label": assembly["label"], "path": assembly["path"], "files": list(assembly["files"])})
            continue
        raw = str(assembly.get("abs_path") or "")
        directory = Path(raw)
        readable = bool(raw) and directory.is_absolute() and directory.is_dir()  # "": the run never had one
        inputs.append(
            {
                "label": assembly["label"],
                "path": shown(directory, root) if raw else "",
                "files": _hashes(directory, assembly_files(directory)) if readable else [],
            }
        )
    policy_files = [p for p in policies_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    locks = sorted({p for pattern in LOCK_GLOBS for p in root.glob(pattern) if p.is_file()})
    return {
        "schema": SCHEMA,
        "run": times.as_dict(),
        "checkout": dict(checkout or {}),
        "verdict": dict(verdict),
        "assemblies": inputs,
        "policies": {"path": shown(policies_dir, root), "files": _hashes(policies_dir, policy_files)},
        "locks": _hashes(root, locks),
        "tools": [
            {k: tool[k] for k in ("tool", "version", "evaluated", "packs") if k in tool}
            for tool in sorted(tools, key=lambda t: (str(t["tool"]), str(t.get("command", ""))))
        ],
        "versions": dict(sorted(versions.items())),
        "commands": list(commands),
    }


HARNESS_GLOBS = ("harness/**/*.py", "harness/**/*.yaml")


def harness_digest(root: Path) -> str:
    """One SHA-256 over the gate's own code (path and content of each file): which harness judged.

    Shards of one merge must come from the same harness (``python -m harness merge`` compares it).
    """
    return tree_digest({p for pattern in HARNESS_GLOBS for p in root.glob(pattern) if p.is_file()}, root=root)


def render_evidence(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def render_sums(document: Mapping[str, Any], *, root: Path) -> str:
    """``sha256sum -c`` format, paths relative to the project root (absolute outside it)."""
    lines = []
    for assembly in document["assemblies"]:
        base = root / assembly["path"]
        lines += [f"{f['sha256']}  {shown(base / f['path'], root)}" for f in assembly["files"]]
    base = root / document["policies"]["path"]
    lines += [f"{f['sha256']}  {shown(base / f['path'], root)}" for f in document["policies"]["files"]]
    lines += [f"{f['sha256']}  {f['path']}" for f in document["locks"]]
    return "\n".join(lines) + "\n"


def load_evidence(reports: Path) -> dict[str, Any]:
    path = reports / EVIDENCE_DIR / EVIDENCE_FILE
    if not path.is_file():
        raise HarnessError(f"no evidence at {path}: run the gate with --reports {reports} first")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise HarnessError(f"evidence file {path} is not valid JSON: {error}") from error
    if (
        not isinstance(document, dict)
        or document.get("schema") != SCHEMA
        or not isinstance(document.get("assemblies"), list)
    ):
        raise HarnessError(
            f"evidence file {path} is not {SCHEMA} evidence (schema {document.get('schema') if isinstance(document, dict) else None!r})"
        )
    return document
