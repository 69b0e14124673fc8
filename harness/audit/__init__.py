"""The audit stage: publishing and proving a run: bundle, OSCAL, evidence, in-toto statement, verify.

It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). Nothing
is re-exported here, so each layer is real and every import names the module it uses.
"""
