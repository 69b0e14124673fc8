"""Synthesis mode: build the app through ``infra`` and add the gate's own validation plugins.

The deployable app (``app.py``, ``infra/``) knows nothing about the gate. Here the gate
builds the same App, registers the cdk-nag packs with the acknowledgements written from
``policies/waivers.yaml``, synthesizes, and proves the packs ran.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from harness.errors import HarnessError
from harness.reading.assembly import CloudAssembly, load_assembly
from harness.reading.sources import SourceRecorder
from harness.tools.nag import NagOutcome

APP_ROOT = Path(__file__).resolve().parents[2]  # the checkout whose infra/ is synthesized


class SynthesisRejectedError(Exception):
    """A synthesis-time rule aspect of infra/ refused the app: a violation (exit 1), not a crash."""


def synthesize(
    outdir: Path, *, acknowledgements: Sequence[object], context: Mapping[str, str] | None = None
) -> tuple[CloudAssembly, NagOutcome]:
    """Synthesize the app with the cdk-nag packs into ``outdir``; the assembly and the packs' outcome.

    ``context``: overrides of cdk.json's context, as ``cdk synth -c KEY=VALUE`` gives them (strings).
    """
    from harness.tools.nag import (  # noqa: PLC0415  (starts jsii)
        VALIDATION_REPORT,
        Acknowledgement,
        add_nag_validations,
        judge_report,
        pack_runs,
        probe_packs,
        read_validation_report,
    )
    from infra.app_builder import add_staging_stacks, new_app  # noqa: PLC0415
    from infra.config import ConfigError  # noqa: PLC0415
    from infra.errors import as_synthesis_rule_error  # noqa: PLC0415

    shutil.rmtree(outdir, ignore_errors=True)
    app = new_app(outdir=str(outdir), context=context)
    # Which infra/ line created each construct (harness.reading.sources), written into the assembly.
    recorder = SourceRecorder(root=APP_ROOT, context_overrides=context or {})
    try:
        with recorder.recording():
            add_staging_stacks(app)  # the app exactly as `cdk synth` builds it...
            recorders = add_nag_validations(
                app, acknowledgements=[a for a in acknowledgements if isinstance(a, Acknowledgement)]
            )
            app.synth()  # ...plus the gate's own plugins and the acknowledgements written from policies/
    except ConfigError as error:
        raise HarnessError(f"synthesis failed: config error: {error}") from error
    except Exception as error:
        rule_error = as_synthesis_rule_error(error)
        if rule_error is not None:  # a synthesis-time policy (required tags, no Retain) rejected the app
            raise SynthesisRejectedError(str(rule_error)) from error
        raise HarnessError(f"synthesis failed: {str(error).strip().splitlines()[0]}") from error
    recorder.write(outdir)
    probe_packs()
    # judge_report fails closed on a pack these recorders never saw invoked ("cdk-nag ... did not run").
    outcome = judge_report(read_validation_report(outdir / VALIDATION_REPORT), runs=pack_runs(recorders))
    return load_assembly(outdir), outcome
