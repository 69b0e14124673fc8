"""Builds the CDK App the same way for ``cdk synth``, ``python app.py`` and the tests.

``cdk.json`` holds every context default and the feature flags. The CDK CLI passes them to
the app through ``CDK_CONTEXT_JSON``; a bare ``App()`` (``python app.py``, pytest) would
not see them, so :func:`new_app` loads ``cdk.json`` itself. Precedence, lowest first:
cdk.json, CLI context (``-c``), then explicit overrides from the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, AspectPriority, Aspects, Tags

from infra.aspects import ForbidRetainPolicies, RequiredTagsValidator, TagRawCfnResources
from infra.config import StagingDatabaseConfig
from infra.stacks.staging_database import STACK_ID, StagingDatabaseStack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = PROJECT_ROOT / "cdk.json"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))["context"])


def new_app(*, context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """An App with cdk.json's context; ``context`` overrides it (CLI ``-c`` still wins over cdk.json)."""
    return App(context=cdk_json_context(), post_cli_context=dict(context or {}), outdir=outdir)


def app_context(app: App) -> dict[str, Any]:
    return dict(app.node.get_all_context())


def add_staging_stacks(app: App) -> list[StagingDatabaseStack]:
    """Parse the config from the App's context, add the stack, its tags and its aspects.

    Nothing of the compliance gate: the gate (harness/) adds its validation plugins and
    waivers to the App this builds; ``cdk synth`` and ``cdk deploy`` never load them.
    Raises :class:`infra.config.ConfigError` before any construct exists if the context is invalid.
    """
    config = StagingDatabaseConfig.from_context(app_context(app))
    stack = StagingDatabaseStack(app, STACK_ID, config=config)
    apply_required_tags(app, tags=config.required_tags)
    Aspects.of(app).add(ForbidRetainPolicies(), priority=AspectPriority.READONLY)
    return [stack]


def apply_required_tags(app: App, *, tags: Mapping[str, str]) -> None:
    """Tag everything, then validate (read-only priority runs after the mutating tag aspects)."""
    for key, value in sorted(tags.items()):
        Tags.of(app).add(key, value)
    raw_tagger = TagRawCfnResources(tags=tags)
    Aspects.of(app).add(raw_tagger, priority=AspectPriority.MUTATING)
    Aspects.of(app).add(RequiredTagsValidator(required=tags, raw_tagger=raw_tagger), priority=AspectPriority.READONLY)


def synthesize(*, outdir: str, context: Mapping[str, Any] | None = None) -> Path:
    """Build and synthesize the whole app into ``outdir``; return the assembly directory."""
    app = new_app(context=context, outdir=outdir)
    add_staging_stacks(app)
    app.synth()
    return Path(outdir)
