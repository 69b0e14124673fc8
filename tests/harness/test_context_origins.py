"""Issue 19: a value the app read from cdk.json context (``config.X``, a field of infra/config.py)
points its finding at that key's cdk.json line, as a spec value points at its infra/spec.toml line.

In-process: the recorder's reading of a construct call (the same code path jsii's metaclass hook
takes, without jsii), over a copy of the real infra/config.py and cdk.json; then the finding and
its SARIF location."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from harness.reading.sources import (
    CONTEXT_SOURCE,
    PropertyOrigin,
    SourceLine,
    SourceMap,
    SourceRecorder,
    locate_properties,
)
from tests.harness.conftest import ROOT
from tests.harness.test_property_origins import DATABASE, INSTANCE, _finding, _sarif_result, _where

APP_CALL = '''"""A construct call as infra/ writes one."""
import sys

HOOK = []


def construct(**properties):
    HOOK[0](sys._getframe(1))


def build(config):
    construct(
        allocated_storage=config.allocated_storage_gib,
        parameters=config.shared_buffers_rds_pages,
        port=5432,
    )
'''


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def _record(tmp_path: Path, **recorder: Any) -> dict[str, PropertyOrigin]:
    root = tmp_path / "checkout"
    (root / "infra").mkdir(parents=True)
    shutil.copyfile(ROOT / "infra" / "config.py", root / "infra" / "config.py")
    shutil.copyfile(ROOT / "cdk.json", root / "cdk.json")
    (root / "infra" / "stack.py").write_text(APP_CALL, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"_context_origins_{len(recorder)}", root / "infra" / "stack.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    watcher = SourceRecorder(root=root, **recorder)
    seen: list[dict[str, PropertyOrigin]] = []

    def hook(frame: FrameType) -> None:
        caller = watcher._caller(frame)
        assert caller is not None
        seen.append(caller[1])

    hooks: list[Callable[[FrameType], None]] = module.HOOK
    hooks.append(hook)
    module.build(type("Config", (), {"allocated_storage_gib": 100, "shared_buffers_rds_pages": 32768})())
    sys.modules.pop(spec.name, None)
    [keywords] = seen
    return keywords


def test_a_config_value_is_recorded_on_its_cdk_json_key_line(tmp_path: Path) -> None:
    keywords = _record(tmp_path)
    storage = keywords["allocated_storage"]
    assert storage.keyword == SourceLine(
        file="infra/stack.py", line=_line_of(tmp_path / "checkout/infra/stack.py", "allocated_storage=")
    )
    assert storage.value == SourceLine(file=CONTEXT_SOURCE, line=_line_of(ROOT / "cdk.json", '"allocatedStorageGiB"'))
    # A property of the config that reads one key (RDS pages from MiB) points at that key.
    assert keywords["parameters"].value == SourceLine(
        file=CONTEXT_SOURCE, line=_line_of(ROOT / "cdk.json", '"sharedBuffersMiB"')
    )
    assert keywords["port"].value is None  # a literal: the keyword's own line is the one that set it


def test_a_key_overridden_with_c_has_no_cdk_json_line(tmp_path: Path) -> None:
    keywords = _record(tmp_path, context_overrides={"allocatedStorageGiB": "120"})
    assert keywords["allocated_storage"].value is None
    assert keywords["parameters"].value is not None


def test_a_finding_on_a_cdk_json_value_alerts_on_that_key_line(tmp_path: Path) -> None:
    key_line = _line_of(ROOT / "cdk.json", '"allocatedStorageGiB"')
    sources = SourceMap(
        constructs={INSTANCE: SourceLine(file=DATABASE, line=121)},
        properties={
            INSTANCE: {
                "allocated_storage": PropertyOrigin(
                    keyword=SourceLine(file=DATABASE, line=150), value=SourceLine(file=CONTEXT_SOURCE, line=key_line)
                )
            }
        },
    )
    [located] = locate_properties([_finding("AllocatedStorage is 20, not at least 100")], {"asm": sources})
    assert (located.property_name, located.value_file, located.value_line) == (
        "allocated_storage",
        "cdk.json",
        key_line,
    )
    result = _sarif_result(tmp_path, located)
    assert _where(result["locations"][0]) == ("cdk.json", key_line)
    assert [_where(r) for r in result["relatedLocations"]][:2] == [(DATABASE, 150), (DATABASE, 121)]
