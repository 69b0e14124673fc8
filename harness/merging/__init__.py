"""The merging stage: the conductors: one gate run; the shards of a CI matrix read and merged.

It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). Nothing
is re-exported here, so each layer is real and every import names the module it uses.
"""
