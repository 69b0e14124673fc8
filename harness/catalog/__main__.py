"""``python -m harness.catalog > policy-catalog.md``."""

from harness.catalog.rendering import render_catalog_markdown

print(render_catalog_markdown(), end="")
