"""In-process synthesis for property tests: one jsii runtime, one reused output directory.

Each example builds a fresh ``App`` through ``infra.app_builder`` (the same path as
``cdk synth``), so the properties see exactly what would deploy, without what only
validates and never changes a template:

- the app carries no cdk-nag packs (only the compliance gate adds them);
- CDK's built-in CloudFormation validation plugin and ``tree.json`` are off: neither changes
  a template (test_properties_catch_bugs proves the templates are identical to the snapshot
  tier's), the gate runs the plugin on its own synthesis, and together they add about 30 ms
  to every synthesis here (and the plugin about 2.5 s of CPU to the first one);
- one output directory is reused rather than a new temp dir per example (no measurable
  speed difference; it just avoids hundreds of directories).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import App

from infra.app_builder import add_staging_stacks, new_app
from infra.config import StagingDatabaseConfig
from infra.stacks.staging_database import StagingDatabaseStack


@dataclass(frozen=True)
class Synthesized:
    stack_name: str
    config: StagingDatabaseConfig
    template: dict[str, Any]


def build_app(context: Mapping[str, Any], outdir: Path) -> tuple[App, list[StagingDatabaseStack]]:
    """The app with ``context`` overrides, built (not synthesized) as the property tier builds it."""
    app = new_app(context=context, outdir=str(outdir), builtin_validation=False, tree_metadata=False)
    return app, add_staging_stacks(app)


def read_templates(stacks: Sequence[StagingDatabaseStack], outdir: Path) -> list[Synthesized]:
    return [
        Synthesized(
            stack_name=stack.stack_name,
            config=stack.config,
            template=json.loads((outdir / stack.template_file).read_text(encoding="utf-8")),
        )
        for stack in stacks
    ]


def synth_stacks(context: Mapping[str, Any], outdir: Path) -> list[Synthesized]:
    """Synthesize the app with ``context`` overrides into ``outdir``; one entry per stack."""
    app, stacks = build_app(context, outdir)
    app.synth()
    return read_templates(stacks, outdir)
