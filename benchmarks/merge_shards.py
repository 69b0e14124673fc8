"""HOOK (issue 12, not built yet): wall time of ``python -m harness merge`` over 2 and 8 shards.

The CI matrix runs one gate per shard of assemblies and a merge step folds the shards'
reports into one verdict. When ``harness/merge.py`` exists this benchmark produces the
shards (one ``python -m harness --assembly ...`` per shard, untimed) and times the merge
for 2 and 8 of them; until then it says so and measures nothing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARD_COUNTS = (2, 8)


def merge_wall_times() -> dict[int, float]:
    """Shard count -> merge wall time. To write with the merge command (issue 12, CI matrix part)."""
    raise NotImplementedError("python -m harness merge does not exist yet")


def main() -> int:
    if importlib.util.find_spec("harness.merge") is None:
        print(
            f"merge of {' and '.join(map(str, SHARD_COUNTS))} shards: not measured (python -m harness merge does not exist yet)"
        )
        return 0
    for shards, seconds in merge_wall_times().items():
        print(f"  merge of {shards} shards: {seconds:.1f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
