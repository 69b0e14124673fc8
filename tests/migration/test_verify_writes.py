"""The rehearsal's write checks can fail: each broken invariant is caught and named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from migration.rehearsal import RehearsalError, verify_writes

SEEDS = 3


def writer_record() -> dict[str, Any]:
    """Two inserts on dev, one on staging, updates on a seed and an own row; a 0.4 s pause."""
    return {
        "inserted": {"w-00000001": 4, "w-00000002": 5, "w-00000003": 6},
        "inserted_on": {"w-00000001": "dev", "w-00000002": "dev", "w-00000003": "staging"},
        "updated": {"2": [7, 900], "5": [8, 1200]},  # JSON keys are strings
        "successes": {"dev": 4, "staging": 2},
        "failures": {"InsufficientPrivilege": 3},
        "last_write": {"dev": 100.0, "staging": 101.0},
        "first_write": {"dev": 90.0, "staging": 100.4},
        "abandoned": 0,
    }


def staging_rows() -> list[tuple[str, int, int, int]]:
    return [
        ("s-00000001", 1, 0, 107),
        ("s-00000002", 2, 7, 900),
        ("s-00000003", 3, 0, 121),
        ("w-00000001", 4, 0, 500),
        ("w-00000002", 5, 8, 1200),
        ("w-00000003", 6, 0, 700),
    ]


def check(
    *, result: dict[str, Any] | None = None, rows: list[tuple[str, int, int, int]] | None = None, **kw: Any
) -> Any:
    arguments: dict[str, Any] = {
        "result": result or writer_record(),
        "staging_rows": rows if rows is not None else staging_rows(),
        "dev_refs": {"s-00000001", "s-00000002", "s-00000003", "w-00000001", "w-00000002"},
        "sequence_last_value": 6,
        "seed_rows": SEEDS,
    }
    arguments.update(kw)
    return verify_writes(**arguments)


def test_a_consistent_record_passes_and_measures_the_pause() -> None:
    report = check()
    assert report.write_pause_seconds == pytest.approx(0.4)
    assert report.rows_verified == 6 and report.writer_inserts == {"dev": 2, "staging": 1}


def broken(mutate: Any) -> dict[str, Any]:
    result = copy.deepcopy(writer_record())
    mutate(result)
    return result


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rows": [r for r in staging_rows() if r[0] != "w-00000002"]}, "acknowledged insert"),
        ({"rows": [*staging_rows()[:-1], ("w-00000003", 9, 0, 700)]}, "do not follow|missing or renumbered"),
        ({"rows": [r if r[1] != 2 else (r[0], 2, 6, 900) for r in staging_rows()]}, "acknowledged update"),
        ({"rows": [*staging_rows(), ("w-00000003", 7, 0, 700)]}, "duplicates"),
        ({"rows": [*staging_rows(), ("w-99999999", 7, 0, 1)]}, "unknown rows"),
        ({"rows": staging_rows()[1:]}, "seeded rows|acknowledged update"),
        ({"dev_refs": {"s-00000001", "x-lost-on-the-way"}}, "never reached staging"),
        ({"sequence_last_value": 5}, "next insert collides"),
        ({"result": broken(lambda r: r["last_write"].update(dev=100.5))}, "split brain"),
        ({"result": broken(lambda r: r["first_write"].pop("staging"))}, "did not write on both sides"),
        ({"result": broken(lambda r: r.update(abandoned=1))}, "writes never resumed"),
        ({"result": broken(lambda r: r["inserted"].update({"w-00000003": 3}))}, "missing or renumbered"),
    ],
)
def test_each_broken_invariant_fails(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RehearsalError, match=message):
        check(**kwargs)
