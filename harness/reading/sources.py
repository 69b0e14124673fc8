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

The line that created a construct is not always the line a reviewer changed: a finding about
one property (``MultiAZ is false``) belongs on the keyword argument that set it (``multi_az=``)
or, when that argument reads the spec (``spec().database.multi_az``), on the ``infra/spec.toml``
line the value came from. So the recorder also reads the construct call in the app's source
(Python's own ``ast``, located by the calling instruction's position) and records each keyword
argument's line and, for spec values, the spec line (:class:`PropertyOrigin`); a value read from
the app's configuration (``config.allocated_storage_gib``, a field of ``infra/config.py`` that reads
one ``cdk.json`` context key) gets that key's ``cdk.json`` line, unless the synthesis overrode the
key (``-c key=value``: no file line set it). :func:`locate_properties` puts a finding that names a
property on those lines.

This module imports nothing from the gate and nothing outside the standard library at
import time: the base of a comparison is synthesized in another process from another
checkout, which loads this file by path (harness.comparison.base).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import json
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, FrameType
from typing import Any, Protocol, TypeVar

SOURCES_FILE = "construct-sources.json"
SCHEMA = "construct-sources/1"
# What counts as the app's own code, relative to the checkout it is synthesized from.
APP_SOURCES = ("infra", "app.py")
SPEC_SOURCE = "infra/spec.toml"  # the fixed spec values (infra/spec.py reads it as spec() / SPEC)
SPEC_READERS = frozenset({"spec", "SPEC"})  # spec().<table>.<key>, SPEC.<table>.<key>
CONTEXT_SOURCE = "cdk.json"  # the app's context values
CONFIG_SOURCE = "infra/config.py"  # its models: field -> context key (alias=, or _key/_fixed_key's first argument)
CONFIG_READERS = frozenset({"config"})  # config.<field>, self.config.<field>
CONFIG_KEY_MAKERS = frozenset({"_key", "_fixed_key"})  # infra/config.py's Field() helpers: (alias, ...)


@dataclass(frozen=True, kw_only=True)
class SourceLine:
    file: str  # repository-relative POSIX path, e.g. "infra/domains/database.py"
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, kw_only=True)
class PropertyOrigin:
    """Where one keyword argument of a construct call set its value."""

    keyword: SourceLine  # the ``name=`` line in the app
    value: SourceLine | None = None  # where the value came from, when elsewhere (an infra/spec.toml line)

    def record(self) -> dict[str, Any]:
        found: dict[str, Any] = {"file": self.keyword.file, "line": self.keyword.line}
        if self.value is not None:
            found["value"] = {"file": self.value.file, "line": self.value.line}
        return found


@dataclass(frozen=True, kw_only=True)
class SourceMap:
    """Construct path -> the app line that created it (only constructs created from Python)."""

    constructs: Mapping[str, SourceLine]
    # Construct path -> keyword argument of its call -> where that argument set its value.
    properties: Mapping[str, Mapping[str, PropertyOrigin]] = field(default_factory=dict)

    def _recorded(self, construct_path: str) -> str:
        path = construct_path.strip("/")
        while path and path not in self.constructs:
            path = path.rpartition("/")[0]
        return path

    def locate(self, construct_path: str) -> SourceLine | None:
        """The line that created ``construct_path`` or its nearest recorded ancestor."""
        return self.constructs.get(self._recorded(construct_path))

    def keywords(self, construct_path: str) -> Mapping[str, PropertyOrigin]:
        """The keyword arguments of the call that created ``construct_path`` (or its nearest recorded ancestor)."""
        return self.properties.get(self._recorded(construct_path), {})

    def render(self) -> str:
        constructs: dict[str, Any] = {}
        for path, where in sorted(self.constructs.items()):
            entry: dict[str, Any] = {"file": where.file, "line": where.line}
            if self.properties.get(path):
                entry["properties"] = {k: o.record() for k, o in sorted(self.properties[path].items())}
            constructs[path] = entry
        return json.dumps({"schema": SCHEMA, "constructs": constructs}, indent=1, sort_keys=True) + "\n"


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
    properties: dict[str, dict[str, PropertyOrigin]] = {}
    for construct_path, entry in entries.items():
        where = _source_line(entry)
        if where is None:
            continue
        constructs[str(construct_path)] = where
        recorded = entry.get("properties")
        for keyword, origin in recorded.items() if isinstance(recorded, dict) else ():
            line = _source_line(origin)
            if line is not None:
                value = _source_line(origin.get("value"))
                properties.setdefault(str(construct_path), {})[str(keyword)] = PropertyOrigin(keyword=line, value=value)
    return SourceMap(constructs=constructs, properties=properties)


def _source_line(entry: Any) -> SourceLine | None:
    if not (isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("line"), int)):
        return None
    file = entry["file"]
    # Only repository-relative paths inside the app: never an absolute or escaping path.
    if file.startswith("/") or ".." in Path(file).parts or entry["line"] < 1:
        return None
    return SourceLine(file=file, line=entry["line"])


# ------------------------------------------------------------------------------------------- properties

_CFN_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*\b")


def _squashed(name: str) -> str:
    return name.replace("_", "").lower()


def keyword_of(message: str, keywords: Iterable[str]) -> str:
    """The keyword argument a finding's message is about: the first CloudFormation property name in it
    (``MultiAZ is false`` -> ``multi_az``) that a keyword names, exactly, else as a prefix of at least six
    letters (``BackupRetentionPeriod`` -> ``backup_retention``); "" when the message names none."""
    by_squashed = {_squashed(k): k for k in keywords}
    names = [part for word in _CFN_NAME.findall(message) for part in reversed(word.split("."))]
    for name in names:
        if _squashed(name) in by_squashed:
            return by_squashed[_squashed(name)]
    for name in names:
        prefixes = [s for s in by_squashed if len(s) >= 6 and _squashed(name).startswith(s)]
        if prefixes:
            return by_squashed[max(prefixes, key=len)]
    return ""


class _Property(Protocol):
    @property
    def construct_path(self) -> str: ...
    @property
    def stack(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def logical_id(self) -> str: ...


P = TypeVar("P", bound=_Property)


def locate_properties(findings: Iterable[P], sources: SourceMap | Mapping[str, SourceMap]) -> list[P]:
    """Each finding about a resource whose message names a property its construct call set, with that
    keyword argument's line (``property_file``/``property_line``) and, when the value came from the spec or cdk.json,
    that line (``value_file``/``value_line``)."""
    located = []
    for finding in findings:
        found = sources if isinstance(sources, SourceMap) else sources.get(getattr(finding, "assembly", ""))
        keywords = found.keywords(finding.construct_path) if found is not None and finding.construct_path else {}
        keyword = keyword_of(finding.message, keywords) if keywords else ""
        if not keyword:
            located.append(finding)
            continue
        origin = keywords[keyword]
        value = origin.value
        located.append(
            dataclasses.replace(
                finding,  # type: ignore[type-var]
                property_name=keyword,
                property_file=origin.keyword.file,
                property_line=origin.keyword.line,
                value_file=value.file if value else "",
                value_line=value.line if value else 0,
            )
        )
    return located


@functools.cache
def _positions(code: CodeType) -> list[tuple[int | None, int | None, int | None, int | None]]:
    return list(code.co_positions())


@functools.cache
def _calls(filename: str) -> Mapping[tuple[int, int, int, int], ast.Call]:
    """Every call expression of a source file, by its position (the position the calling instruction carries)."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"), filename=filename)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    return {
        (node.lineno, node.end_lineno or node.lineno, node.col_offset, node.end_col_offset or 0): node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }


@functools.cache
def _spec_lines(path: Path) -> Mapping[tuple[str, str], int]:
    """(table, key) -> line of every top-level key of a table in the spec file (tomllib checks it is TOML)."""
    try:
        text = path.read_text(encoding="utf-8")
        tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    lines: dict[tuple[str, str], int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.fullmatch(r"\s*\[([A-Za-z0-9_.-]+)\]\s*(#.*)?", line)
        if header:
            table = header.group(1)
            continue
        key = re.match(r"\s*\"?([A-Za-z0-9_-]+)\"?\s*=", line)
        if key and table:
            lines.setdefault((table, key.group(1)), number)
    return lines


@functools.cache
def _context_lines(path: Path) -> Mapping[str, int]:
    """Context key -> line of every top-level key of cdk.json's ``context`` (json checks it is JSON)."""
    try:
        text = path.read_text(encoding="utf-8")
        context = json.loads(text).get("context")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return {}
    if not isinstance(context, dict):
        return {}
    lines = text.splitlines()
    opened = next((n for n, line in enumerate(lines) if re.match(r'\s*"context"\s*:', line)), None)
    if opened is None:
        return {}
    found: dict[str, int] = {}
    depth = 0  # nesting inside the context object: only its own keys (depth 1) count
    for number, line in enumerate(lines[opened:], start=opened + 1):
        key = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*:', line)
        if key and depth == 1 and key.group(1) in context:
            found.setdefault(key.group(1), number)
        depth += line.count("{") + line.count("[") - line.count("}") - line.count("]")
        if depth <= 0 and number > opened:
            break
    return found


def _literal(node: ast.expr | None) -> str:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""


@functools.cache
def _config_keys(path: Path) -> Mapping[str, str]:
    """Field of the app's configuration models -> the context key it reads, from infra/config.py's source.

    A field names its key as ``Field(alias="key")`` or ``_key("key", ...)``/``_fixed_key("key", ...)``; a
    ``@property`` that reads exactly one field (``shared_buffers_rds_pages`` from ``shared_buffers_mib``)
    reads that field's key."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return {}
    fields: dict[str, str] = {}
    derived: dict[str, set[str]] = {}
    for model in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for item in model.body:
            if (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and isinstance(item.value, ast.Call)
            ):
                call = item.value
                alias = next((_literal(k.value) for k in call.keywords if k.arg == "alias"), "")
                maker = call.func.id if isinstance(call.func, ast.Name) else ""
                if not alias and maker in CONFIG_KEY_MAKERS and call.args:
                    alias = _literal(call.args[0])
                if alias:
                    fields.setdefault(item.target.id, alias)
            elif isinstance(item, ast.FunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list
            ):
                derived[item.name] = {
                    n.attr
                    for n in ast.walk(item)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self"
                }
    for name, reads in derived.items():
        keys = {fields[r] for r in reads if r in fields}
        if len(keys) == 1 and name not in fields:
            fields[name] = keys.pop()
    return fields


def _config_field(value: ast.expr) -> str:
    """``config.<field>`` (or ``self.config.<field>``) inside a keyword's value: the field, else ""."""
    for node in ast.walk(value):
        if isinstance(node, ast.Attribute):
            reader = node.value
            name = reader.attr if isinstance(reader, ast.Attribute) else getattr(reader, "id", "")
            if name in CONFIG_READERS:
                return node.attr
    return ""


def _spec_key(value: ast.expr) -> tuple[str, str] | None:
    """``spec().<table>.<key>`` or ``SPEC.<table>.<key>`` inside a keyword's value: (table, key)."""
    for node in ast.walk(value):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute):
            reader = node.value.value
            if isinstance(reader, ast.Call):
                reader = reader.func
            name = reader.attr if isinstance(reader, ast.Attribute) else getattr(reader, "id", "")
            if name in SPEC_READERS:
                return node.value.attr, node.attr
    return None


class SourceRecorder:
    """Records, while active, which app line created each construct (see the module docstring)."""

    def __init__(
        self, *, root: Path, app_sources: Sequence[str] = APP_SOURCES, context_overrides: Iterable[str] = ()
    ) -> None:
        self.root = root.resolve()
        # Keys given with -c for this synthesis: their value is set by no line of cdk.json.
        self._overridden = frozenset(context_overrides)
        self._directories = tuple(str(self.root / s) + "/" for s in app_sources if not s.endswith(".py"))
        self._files = frozenset(str(self.root / s) for s in app_sources if s.endswith(".py"))
        self._created: list[tuple[Any, SourceLine, dict[str, PropertyOrigin]]] = []
        self._relative: dict[str, str | None] = {}  # code file -> repo-relative path (None: not the app's)

    def _app_file(self, filename: str) -> str | None:
        if filename not in self._relative:
            resolved = str(Path(filename).resolve())
            inside = resolved in self._files or resolved.startswith(self._directories)
            self._relative[filename] = Path(resolved).relative_to(self.root).as_posix() if inside else None
        return self._relative[filename]

    def _caller(self, frame: FrameType | None) -> tuple[SourceLine, dict[str, PropertyOrigin]] | None:
        while frame is not None:
            relative = self._app_file(frame.f_code.co_filename)
            if relative is not None:
                return SourceLine(file=relative, line=frame.f_lineno), self._keywords(frame, relative)
            frame = frame.f_back
        return None

    def _keywords(self, frame: FrameType, relative: str) -> dict[str, PropertyOrigin]:
        """The keyword arguments of the call the frame is making, each with its line (and spec line)."""
        positions = _positions(frame.f_code)
        index = frame.f_lasti // 2  # one position per 2-byte code unit
        if not 0 <= index < len(positions):
            return {}
        line, end_line, column, end_column = positions[index]
        if line is None or end_line is None or column is None or end_column is None:
            return {}
        call = _calls(frame.f_code.co_filename).get((line, end_line, column, end_column))
        if call is None:
            return {}
        found: dict[str, PropertyOrigin] = {}
        for keyword in call.keywords:
            if keyword.arg is None:  # **kwargs: no one line sets what it holds
                continue
            found[keyword.arg] = PropertyOrigin(
                keyword=SourceLine(file=relative, line=keyword.lineno), value=self._value_line(keyword.value)
            )
        return found

    def _value_line(self, value: ast.expr) -> SourceLine | None:
        """The infra/spec.toml line or the cdk.json context line a keyword's value was read from, if any."""
        key = _spec_key(value)
        spec_line = _spec_lines(self.root / SPEC_SOURCE).get(key) if key else None
        if spec_line:
            return SourceLine(file=SPEC_SOURCE, line=spec_line)
        field_name = _config_field(value)
        context_key = _config_keys(self.root / CONFIG_SOURCE).get(field_name) if field_name else None
        if context_key is None or context_key in self._overridden:
            return None
        context_line = _context_lines(self.root / CONTEXT_SOURCE).get(context_key)
        return SourceLine(file=CONTEXT_SOURCE, line=context_line) if context_line else None

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
                caller = recorder._caller(sys._getframe(1))
                if caller is not None:
                    recorder._created.append((instance, *caller))
            return instance

        JSIIMeta.__call__ = call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            JSIIMeta.__call__ = original  # type: ignore[method-assign]

    def source_map(self) -> SourceMap:
        """Read each recorded construct's path (after the tree is complete) into a map."""
        constructs: dict[str, SourceLine] = {}
        properties: dict[str, dict[str, PropertyOrigin]] = {}
        for instance, where, keywords in self._created:
            path = str(instance.node.path)
            if path and path not in constructs:
                constructs[path] = where
                if keywords:
                    properties[path] = keywords
        return SourceMap(constructs=constructs, properties=properties)

    def write(self, assembly_dir: Path) -> SourceMap:
        found = self.source_map()
        (assembly_dir / SOURCES_FILE).write_text(found.render(), encoding="utf-8")
        return found
