"""In-process synthesis for property tests: one jsii runtime, one reused output directory.

Each example builds a fresh ``App`` through ``infra.app_builder`` (the same path as
``cdk synth``), so the properties see exactly what would deploy. The app carries no cdk-nag
packs (only the compliance gate adds them), and one output directory is reused rather than a
new temp dir per example (no measurable speed difference; it just avoids hundreds of
directories).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.app_builder import add_staging_stacks, new_app
from infra.config import StagingDatabaseConfig


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    config: StagingDatabaseConfig
    template: dict[str, Any]


def synth_stacks(context: Mapping[str, Any], outdir: Path) -> list[Synthesized]:
    """Synthesize the app with ``context`` overrides into ``outdir``; one entry per stack."""
    app = new_app(context=context, outdir=str(outdir))
    stacks = add_staging_stacks(app)
    app.synth()
    return [
        Synthesized(
            stack_name=stack.stack_name,
            config=stack.config,
            template=json.loads((outdir / stack.template_file).read_text(encoding="utf-8")),
        )
        for stack in stacks
    ]
