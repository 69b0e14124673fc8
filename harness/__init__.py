"""The compliance gate: runs every check on a cloud assembly and writes one verdict."""

from infra.runtime import use_bundled_node

# jsii starts Node.js on the first aws_cdk import: point it at the bundled Node 24 first.
use_bundled_node()
