"""The reporting stage: the report input and every format it is written in (Markdown, JSON, JUnit,
SARIF).

It imports only the stages below it (docs/compliance-gate.md, "Layout: a ladder of stages"). Nothing
is re-exported here, so each layer is real and every import names the module it uses.
"""
