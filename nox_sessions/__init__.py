"""nox sessions, one module per concern; ``noxfile.py`` imports them all."""
