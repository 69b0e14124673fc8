"""Where in ``infra/`` each construct was created: recorded at synthesis, read for every finding.

The app (``infra/``, ``app.py``) knows nothing about the gate, so the gate watches it from
outside while it builds the construct tree: every construct that Python code creates goes
through jsii's metaclass (``jsii._runtime.JSIIMeta.__call__``). While :meth:`SourceRecorder.recording`
is active that call is wrapped; the wrapper walks the Python stack from the caller to the first
frame whose file belongs to the app (under ``infra/``, or ``app.py``) and remembers the
construct with that file and line. After synthesis each recorded construct's path is read
once and the map is written into the cloud assembly as ``construct-sources.json``, so a
later ``--assembly`` or ``--base-assembly`` run finds it next to the templates.

Constructs that the CDK creates inside its own (JavaScript) code, such as the ``Resource``
of an L2 construct, have no Python frame: a finding on them takes the location of the
nearest recorded ancestor (:meth:`SourceMap.locate`, the longest recorded path prefix),
which is the line in ``infra/`` that created the L2.

This module imports nothing from the gate and nothing outside the standard library at
import time: the base of a comparison is synthesized in another process from another
checkout, which loads this file by path (harness.base).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TypeVar

SOURCES_FILE = "construct-sources.json"
SCHEMA = "construct-sources/1"
# What counts as the app's own code, relative to the checkout it is synthesized from.
APP_SOURCES = ("infra", "app.py")


@dataclass(frozen=True, kw_only=True)
class SourceLine:
    file: str  # repository-relative POSIX path, e.g. "infra/domains/database.py"
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, kw_only=True)
class SourceMap:
    """Construct path -> the app line that created it (only constructs created from Python)."""

    constructs: Mapping[str, SourceLine]

    def locate(self, construct_path: str) -> SourceLine | None:
        """The line that created ``construct_path`` or its nearest recorded ancestor."""
        path = construct_path.strip("/")
        while path:
            found = self.constructs.get(path)
            if found is not None:
                return found
            path = path.rpartition("/")[0]
        return None

    def render(self) -> str:
        body = {
            "schema": SCHEMA,
            "constructs": {p: {"file": s.file, "line": s.line} for p, s in sorted(self.constructs.items())},
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


EMPTY = SourceMap(constructs={})


class _Locatable(Protocol):
    @property
    def construct_path(self) -> str: ...
    @property
    def stack(self) -> str: ...
    @property
    def code_file(self) -> str: ...


F = TypeVar("F", bound=_Locatable)


def locate_findings(findings: Iterable[F], sources: SourceMap | Mapping[str, SourceMap]) -> list[F]:
    """Each finding with the app line of its construct (or of its stack), when the map knows one.

    ``sources`` is one map for every finding, or one map per assembly label (``finding.assembly``).
    A finding without a construct path (a template-level result) gets its stack's line.
    """
    located = []
    for finding in findings:
        found = sources if isinstance(sources, SourceMap) else sources.get(getattr(finding, "assembly", ""))
        where = (
            found.locate(finding.construct_path or finding.stack)
            if found is not None and not finding.code_file
            else None
        )
        located.append(dataclasses.replace(finding, code_file=where.file, code_line=where.line) if where else finding)  # type: ignore[type-var]
    return located


def read_source_map(assembly_dir: Path) -> SourceMap:
    """The map an assembly carries, or an empty one (assemblies not synthesized by the gate have none).

    A map that is present but malformed is ignored rather than trusted: it only adds
    locations to findings, it never decides a verdict.
    """
    path = assembly_dir / SOURCES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return EMPTY
    entries = data.get("constructs") if isinstance(data, dict) and data.get("schema") == SCHEMA else None
    if not isinstance(entries, dict):
        return EMPTY
    constructs: dict[str, SourceLine] = {}
    for construct_path, entry in entries.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("line"), int)):
            continue
        file = entry["file"]
        # Only repository-relative paths inside the app: never an absolute or escaping path.
        if file.startswith("/") or ".." in Path(file).parts or entry["line"] < 1:
            continue
        constructs[str(construct_path)] = SourceLine(file=file, line=entry["line"])
    return SourceMap(constructs=constructs)


class SourceRecorder:
    """Records, while active, which app line created each construct (see the module docstring)."""

    def __init__(self, *, root: Path, app_sources: Sequence[str] = APP_SOURCES) -> None:
        self.root = root.resolve()
        self._directories = tuple(str(self.root / s) + "/" for s in app_sources if not s.endswith(".py"))
        self._files = frozenset(str(self.root / s) for s in app_sources if s.endswith(".py"))
        self._created: list[tuple[Any, SourceLine]] = []
        self._relative: dict[str, str | None] = {}  # code file -> repo-relative path (None: not the app's)

    def _app_file(self, filename: str) -> str | None:
        if filename not in self._relative:
            resolved = str(Path(filename).resolve())
            inside = resolved in self._files or resolved.startswith(self._directories)
            self._relative[filename] = Path(resolved).relative_to(self.root).as_posix() if inside else None
        return self._relative[filename]

    def _caller_line(self, frame: FrameType | None) -> SourceLine | None:
        while frame is not None:
            relative = self._app_file(frame.f_code.co_filename)
            if relative is not None:
                return SourceLine(file=relative, line=frame.f_lineno)
            frame = frame.f_back
        return None

    @contextlib.contextmanager
    def recording(self) -> Iterator[SourceRecorder]:
        from jsii._runtime import JSIIMeta  # noqa: PLC0415  (jsii starts no kernel on import)

        original = JSIIMeta.__call__
        recorder = self
        construct_type: list[type] = []

        def call(cls: Any, *args: Any, **kwargs: Any) -> Any:
            instance = original(cls, *args, **kwargs)
            if not construct_type:
                from constructs import Construct  # noqa: PLC0415  (the app has started jsii by now)

                construct_type.append(Construct)
            if isinstance(instance, construct_type[0]):
                where = recorder._caller_line(sys._getframe(1))
                if where is not None:
                    recorder._created.append((instance, where))
            return instance

        JSIIMeta.__call__ = call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            JSIIMeta.__call__ = original  # type: ignore[method-assign]

    def source_map(self) -> SourceMap:
        """Read each recorded construct's path (after the tree is complete) into a map."""
        constructs: dict[str, SourceLine] = {}
        for instance, where in self._created:
            path = str(instance.node.path)
            if path:
                constructs.setdefault(path, where)
        return SourceMap(constructs=constructs)

    def write(self, assembly_dir: Path) -> SourceMap:
        found = self.source_map()
        (assembly_dir / SOURCES_FILE).write_text(found.render(), encoding="utf-8")
        return found
