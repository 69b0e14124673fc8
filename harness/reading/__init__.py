"""The reading stage: what the gate is given, read defensively: assemblies, assets, sources, worlds,
rules.

It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). Nothing
is re-exported here, so each layer is real and every import names the module it uses.
"""
