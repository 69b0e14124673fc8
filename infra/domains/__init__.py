"""Constructs, one module per domain: network, keys and secrets, database, monitoring, migration."""
