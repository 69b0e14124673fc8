"""The staging RDS PostgreSQL stack: config, naming, constructs, stacks, aspects."""

from infra.runtime import use_bundled_node

use_bundled_node()
