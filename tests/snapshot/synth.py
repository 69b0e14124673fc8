"""Synthesize the whole app and return every stack template (the snapshot tier's view)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.app_builder import synthesize


def synth_stack_templates(context: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Synthesize the app; return every CloudFormation stack's template by artifact id."""
    with tempfile.TemporaryDirectory(prefix="cdk-snapshot-") as outdir:
        assembly = synthesize(outdir=outdir, context=context, builtin_validation=False)
        manifest = json.loads((assembly / "manifest.json").read_text(encoding="utf-8"))
        return {
            artifact_id: json.loads((assembly / artifact["properties"]["templateFile"]).read_text(encoding="utf-8"))
            for artifact_id, artifact in sorted(manifest["artifacts"].items())
            if artifact["type"] == "aws:cloudformation:stack"
        }


def snapshot_file(test_file: Path, test_name: str) -> Path:
    """Where ``JSONSnapshotExtension`` keeps the snapshot of ``test_name`` in ``test_file``."""
    return test_file.parent / "__snapshots__" / test_file.stem / f"{test_name}.json"
