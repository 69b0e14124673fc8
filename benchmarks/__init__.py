"""Benchmarks: each module but the ``_`` helpers is one ``nox -s bench`` script (never timed assertions in tests)."""
