"""The compliance gate: runs every check on a cloud assembly and writes one verdict."""
