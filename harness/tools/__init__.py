"""The tools stage: checkov, cfn-lint, pytest tiers, cdk-nag, synthesis, the waiver rule they apply.

It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). Nothing
is re-exported here, so each layer is real and every import names the module it uses.
"""
