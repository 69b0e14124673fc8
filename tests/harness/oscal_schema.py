"""Validate OSCAL documents against NIST's OSCAL 1.2.1 JSON schemas (vendored in ``oscal_schemas/``).

``check-jsonschema`` runs as its users run it: one process per schema, every document of that
model at once. tests/harness/conftest.py sweeps every OSCAL document a test session wrote
through :func:`invalid_documents`; ``test_oscal.py`` proves the sweep can fail.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

SCHEMAS = Path(__file__).resolve().parent / "oscal_schemas"
# The root key of each OSCAL model -> its schema (and the SHA-256 the provenance README records).
MODELS = {
    "component-definition": ("oscal_component_schema.json", "ce95b3b3ea8de87c020ad4a91075241f6f863a77afe212ee828009830d6042d1"),
    "assessment-plan": ("oscal_assessment-plan_schema.json", "0153e4e0414903c51c13732d4158d955630e33a3ef009d2691cf3e07336136f4"),
    "assessment-results": ("oscal_assessment-results_schema.json", "4f9e277a177adbcca9527612ce450a33dc6096773fa229d413d801d196c61985"),
    "plan-of-action-and-milestones": ("oscal_poam_schema.json", "c02062bbc6f5092012286cbc6161b643eb6aecfbb918cb5790be777860da2c11"),
}  # fmt: skip


def model_of(document: Path) -> str:
    """The OSCAL model of a document (its one root key); '' when it is none of the four."""
    try:
        data = json.loads(document.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    keys = list(data) if isinstance(data, dict) else []
    return keys[0] if len(keys) == 1 and keys[0] in MODELS else ""


def check_jsonschema() -> str:
    return str(Path(sys.executable).parent / "check-jsonschema")


def invalid_documents(documents: Iterable[Path]) -> list[str]:
    """One line per problem: a document of no known model, or check-jsonschema's errors for a model's documents."""
    by_model: dict[str, list[Path]] = defaultdict(list)
    problems = []
    for document in sorted(set(documents)):
        model = model_of(document)
        if model:
            by_model[model].append(document)
        else:
            problems.append(f"{document}: not an OSCAL component definition, plan, results or POA&M document")
    for model, paths in sorted(by_model.items()):
        schema = SCHEMAS / MODELS[model][0]
        done = subprocess.run(
            [check_jsonschema(), "--schemafile", str(schema), "--output-format", "text", *map(str, paths)],
            capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            problems.append(f"{model} ({len(paths)} document(s)): {done.stdout.strip()} {done.stderr.strip()}"[:4000])
    return problems


def schema_digests() -> dict[str, str]:
    return {name: hashlib.sha256((SCHEMAS / name).read_bytes()).hexdigest() for name, _ in MODELS.values()}
