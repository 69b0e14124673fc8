#!/usr/bin/env python3
"""CDK entry point: read context, build the config, add the stack, synthesize. Nothing else."""

from __future__ import annotations

import logging
import sys

from infra.spec import SpecError, spec  # imports infra first: selects the bundled Node.js

try:
    spec()  # infra/spec.toml, read before the config models are built from it
except SpecError as broken:
    sys.exit(f"spec error: {broken}")

from infra.app_builder import add_staging_stacks, new_app
from infra.config import ConfigError
from infra.errors import SynthesisRuleError, as_synthesis_rule_error

log = logging.getLogger("app")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s", stream=sys.stderr)
    app = new_app()
    try:
        stacks = add_staging_stacks(app)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 1
    for stack in stacks:
        log.info("stack %s suffix=%s region=%s", stack.stack_name, stack.config.environment_suffix, stack.config.region)
    try:
        app.synth()
    except Exception as error:  # a rule aspect (tags, Retain) rejected the tree
        rule_error: SynthesisRuleError | None = as_synthesis_rule_error(error)
        if rule_error is None:
            raise
        print(f"synthesis error: {rule_error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
