"""The rehearsal's application: keeps inserting and updating payments through the cut-over.

It behaves like an app instance with one pooled connection: it reads its endpoint (the
"secret") from a JSON file, and on any database error drops the connection, re-reads the
endpoint and retries the *same* operation until it succeeds. Every operation is
idempotent on retry (inserts carry a client reference with ``ON CONFLICT DO NOTHING``,
updates set absolute values), so a commit whose acknowledgement was lost is never doubled.

It records what the database acknowledged, so the driver can prove that no acknowledged
write was lost or duplicated, and when writes stopped and resumed (the write pause).

Run: ``python -m migration.writer --endpoint-file F --stop-file S --result R --seed-ids N``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import psycopg

INSERT_SQL = (
    "INSERT INTO public.payments (payment_ref, merchant_id, amount_cents, status, version) "
    "VALUES (%(ref)s, %(merchant)s, %(amount)s, 'pending', 0) ON CONFLICT (payment_ref) DO NOTHING RETURNING id"
)
SELECT_ID_SQL = "SELECT id FROM public.payments WHERE payment_ref = %(ref)s"
UPDATE_SQL = (
    "UPDATE public.payments SET status = 'settled', version = %(version)s, amount_cents = %(amount)s, "
    "updated_at = clock_timestamp() WHERE id = %(id)s"
)
MERCHANTS = 20


@dataclass(kw_only=True)
class WriterResult:
    """What the database acknowledged, as the app saw it. Times are ``time.monotonic()``."""

    inserted: dict[str, int] = field(default_factory=dict)  # payment_ref -> id
    inserted_on: dict[str, str] = field(default_factory=dict)  # payment_ref -> endpoint label
    updated: dict[int, list[int]] = field(default_factory=dict)  # id -> [version, amount_cents]
    successes: dict[str, int] = field(default_factory=dict)  # endpoint label -> acknowledged writes
    failures: dict[str, int] = field(default_factory=dict)  # error class -> count
    last_write: dict[str, float] = field(default_factory=dict)  # label -> last acknowledged write
    first_write: dict[str, float] = field(default_factory=dict)  # label -> first acknowledged write
    abandoned: int = 0  # operations still failing well after stop was requested (a defect)


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    label: str
    conninfo: str


def read_endpoint(path: Path) -> Endpoint:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Endpoint(label=str(data["label"]), conninfo=str(data["conninfo"]))


class Writer:
    def __init__(
        self,
        *,
        endpoint_file: Path,
        stop_file: Path,
        seed_ids: int,
        interval_seconds: float,
        rng_seed: int,
        give_up_seconds: float = 15.0,
    ) -> None:
        self._endpoint_file = endpoint_file
        self._stop_file = stop_file
        self._seed_ids = seed_ids
        self._interval = interval_seconds
        self._give_up = give_up_seconds
        self._random = random.Random(rng_seed)
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self._endpoint: Endpoint | None = None
        self._version = 0
        self.result = WriterResult()

    def run(self) -> WriterResult:
        sequence = 0
        while not self._stop_file.exists():
            sequence += 1
            # Parameters are drawn once per operation, so every retry repeats it exactly.
            ref = f"w-{sequence:08d}"
            merchant, amount = self._random.randint(1, MERCHANTS), self._random.randint(100, 500_000)
            if not self._until_acknowledged(partial(self._insert, ref=ref, merchant=merchant, amount=amount)):
                break
            own = list(self.result.inserted.values())
            # Half the updates touch seeded rows, half the writer's own (old and fresh alike).
            use_seed = not own or self._random.random() < 0.5
            target = self._random.randint(1, self._seed_ids) if use_seed else self._random.choice(own)
            self._version += 1
            version, amount = self._version, self._random.randint(100, 500_000)
            if not self._until_acknowledged(partial(self._update, target=target, version=version, amount=amount)):
                break
            time.sleep(self._interval)
        self._disconnect()
        return self.result

    def _until_acknowledged(self, operation: Callable[[], None]) -> bool:
        """Retry one idempotent operation until acknowledged; False if still failing long after stop."""
        stop_seen: float | None = None
        attempt = 0
        while True:
            try:
                self._connect()
                operation()
            except psycopg.Error as error:
                name = type(error).__name__
                self.result.failures[name] = self.result.failures.get(name, 0) + 1
                self._after_error()
                if stop_seen is None and self._stop_file.exists():
                    stop_seen = time.monotonic()
                if stop_seen is not None and time.monotonic() - stop_seen > self._give_up:
                    self.result.abandoned += 1
                    return False
                # Back off like a real client (2 ms doubling to 20 ms): a tight retry loop
                # would steal the CPU the cut-over itself needs, and lengthen the pause.
                time.sleep(min(0.002 * 2**attempt, 0.02))
                attempt += 1
                continue
            now = time.monotonic()
            label = self._endpoint.label if self._endpoint else "?"
            self.result.successes[label] = self.result.successes.get(label, 0) + 1
            self.result.first_write.setdefault(label, now)
            self.result.last_write[label] = now
            return True

    def _after_error(self) -> None:
        """Keep a healthy connection unless the endpoint (the app's secret) has changed."""
        if self._connection is None or self._connection.closed or self._connection.broken:
            self._disconnect()
            return
        try:
            current = read_endpoint(self._endpoint_file)
        except (OSError, ValueError, KeyError):
            return  # mid-switch or unreadable: keep what we have and retry
        if current != self._endpoint:
            self._disconnect()

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._connection is None or self._connection.closed:
            self._endpoint = read_endpoint(self._endpoint_file)
            self._connection = psycopg.connect(self._endpoint.conninfo, autocommit=True, connect_timeout=2)
        return self._connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg.Error):
                self._connection.close()
        self._connection = None

    def _insert(self, *, ref: str, merchant: int, amount: int) -> None:
        connection = self._connect()
        row = connection.execute(INSERT_SQL, {"ref": ref, "merchant": merchant, "amount": amount}).fetchone()
        if row is None:  # an earlier attempt committed but its acknowledgement was lost
            row = connection.execute(SELECT_ID_SQL, {"ref": ref}).fetchone()
        if row is None:
            raise psycopg.DataError(f"insert of {ref} neither committed nor conflicted")
        self.result.inserted[ref] = int(row[0])
        self.result.inserted_on[ref] = self._endpoint.label if self._endpoint else "?"

    def _update(self, *, target: int, version: int, amount: int) -> None:
        cursor = self._connect().execute(UPDATE_SQL, {"version": version, "amount": amount, "id": target})
        if cursor.rowcount != 1:
            raise psycopg.DataError(f"update of payment {target} matched {cursor.rowcount} rows")
        self.result.updated[target] = [version, amount]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m migration.writer", description=__doc__)
    parser.add_argument("--endpoint-file", type=Path, required=True)
    parser.add_argument("--stop-file", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--seed-ids", type=int, required=True, help="payments 1..N exist before the writer starts")
    parser.add_argument("--interval", type=float, default=0.002, help="sleep between insert+update pairs")
    parser.add_argument("--rng-seed", type=int, default=5)
    args = parser.parse_args(argv)
    writer = Writer(
        endpoint_file=args.endpoint_file,
        stop_file=args.stop_file,
        seed_ids=args.seed_ids,
        interval_seconds=args.interval,
        rng_seed=args.rng_seed,
    )
    result = writer.run()
    args.result.write_text(json.dumps(asdict(result)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
