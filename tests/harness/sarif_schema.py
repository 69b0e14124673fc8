"""Validate SARIF files against the OASIS SARIF 2.1.0 schema and the schema ``upload-sarif`` checks.

Both schemas are vendored in ``sarif_schemas/`` (provenance and hashes in its README). GitHub's
copy is draft 2020-12 and not itself valid against that metaschema (one ``anyOf`` sits inside
``region.properties``), so it is used as the action uses it, without checking the schema first;
the action's validator (the ``jsonschema`` npm package) ignores the misplaced keyword the same way.
tests/harness/conftest.py validates every SARIF the gate and the merge write through
:func:`sarif_problems`; ``test_sarif_schema.py`` proves the check fails a broken one.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # (no stubs in the lint venv)

SCHEMAS = Path(__file__).resolve().parent / "sarif_schemas"
# name -> (file, SHA-256 the provenance README records, validator class)
SCHEMA_FILES = {
    "OASIS SARIF 2.1.0": ("sarif-schema-2.1.0.oasis.json", "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e", jsonschema.Draft4Validator),
    "upload-sarif": ("sarif-schema-2.1.0.upload-sarif.json", "46d4203e43b978a433943881354db1e40e81437d4b46c00f05016110c6b14693", jsonschema.Draft202012Validator),
}  # fmt: skip


@functools.cache
def _validators() -> dict[str, Any]:
    return {
        name: validator(json.loads((SCHEMAS / file).read_text(encoding="utf-8")))
        for name, (file, _, validator) in SCHEMA_FILES.items()
    }


def sarif_problems(document: Any) -> list[str]:
    """One line per schema violation of one parsed SARIF log (empty: both schemas accept it)."""
    problems = []
    for name, validator in _validators().items():
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
            where = "/".join(map(str, error.absolute_path)) or "(root)"
            problems.append(f"{name}: {where}: {error.message[:300]}")
    return problems


def invalid_sarif_files(paths: Iterable[Path]) -> list[str]:
    """``path: problem`` for every SARIF file either schema rejects (or that is not JSON)."""
    problems = []
    for path in sorted(set(paths)):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: not readable JSON: {error}")
            continue
        problems += [f"{path}: {line}" for line in sarif_problems(document)]
    return problems


def schema_digests() -> dict[str, str]:
    return {file: hashlib.sha256((SCHEMAS / file).read_bytes()).hexdigest() for file, _, _ in SCHEMA_FILES.values()}
