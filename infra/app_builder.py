"""Builds the CDK App the same way for ``cdk synth``, ``python app.py`` and the tests.

``cdk.json`` holds every context default and the feature flags. The CDK CLI passes them to
the app through ``CDK_CONTEXT_JSON``; a bare ``App()`` (``python app.py``, pytest) would
not see them, so :func:`new_app` loads ``cdk.json`` itself. Precedence, lowest first:
:data:`CLI_DEFAULT_CONTEXT`, cdk.json, CLI context (``-c``), then explicit overrides from the caller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Tags

from infra.aspects import ForbidRetainPolicies, RequiredTagsValidator, TagRawCfnResources
from infra.config import StagingDatabaseConfig
from infra.stacks.staging_database import STACK_ID, StagingDatabaseStack

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = PROJECT_ROOT / "cdk.json"
# What the CDK CLI passes every app by default (--path-metadata, --asset-metadata): a bare App() gets
# them here, so `python app.py` and pytest write the aws:cdk:path metadata `cdk synth` writes. Not in
# cdk.json: the CLI reserves the `aws:` prefix there and warns on every run ("A reserved context key").
CLI_DEFAULT_CONTEXT: Mapping[str, Any] = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8"))["context"])


def new_app(
    *,
    context: Mapping[str, Any] | None = None,
    outdir: str | None = None,
    builtin_validation: bool = True,
    tree_metadata: bool = True,
) -> App:
    """An App with cdk.json's context; ``context`` overrides it (CLI ``-c`` still wins over cdk.json).

    ``builtin_validation=False`` skips CDK's built-in CloudFormation validation plugin and
    ``tree_metadata=False`` the ``tree.json`` file. Neither changes a template; tests that
    only read templates turn them off, because the plugin's WASM engine costs about 2.5 s
    of CPU on first use in a process and both add to every synthesis after that
    (benchmarks/property_synth_rate.py). ``cdk synth`` and the compliance gate keep both.
    """
    return App(
        context={**CLI_DEFAULT_CONTEXT, **cdk_json_context()},
        post_cli_context=dict(context or {}),
        outdir=outdir,
        builtin_cloud_formation_validation=builtin_validation,
        tree_metadata=tree_metadata,
    )


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
    ForbidRetainPolicies().attach(app)
    return [stack]


def apply_required_tags(app: App, *, tags: Mapping[str, str]) -> None:
    """Tag everything (call it once the stacks are built), then validate (validations run after
    every aspect, CDK's tag aspects included)."""
    for key, value in sorted(tags.items()):
        Tags.of(app).add(key, value)
    raw_tagger = TagRawCfnResources(tags=tags)
    raw_tagger.tag(app)
    RequiredTagsValidator(required=tags, raw_tagger=raw_tagger).attach(app)


def synthesize(*, outdir: str, context: Mapping[str, Any] | None = None, builtin_validation: bool = True) -> Path:
    """Build and synthesize the whole app into ``outdir``; return the assembly directory."""
    app = new_app(context=context, outdir=outdir, builtin_validation=builtin_validation)
    add_staging_stacks(app)
    app.synth()
    return Path(outdir)
