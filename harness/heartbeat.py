"""A line at least every few seconds while a long stage runs, so a slow run never looks hung.

Each stage is a context manager: while its body runs, a daemon thread reports the stage's name, its
elapsed time and, when the stage can say it cheaply, how far it is (e.g. tests done of collected).
The lines go through the gate's ``progress`` callback, so ``-q`` silences them with the rest.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

HEARTBEAT_INTERVAL_S = 10.0  # issue 19: a line at least every 10 s during synthesis and the tiers


class Heartbeat:
    def __init__(self, *, progress: Callable[[str], None], interval_s: float = HEARTBEAT_INTERVAL_S) -> None:
        self.progress = progress
        self.interval_s = interval_s
        # What runs in the background meanwhile (the tiers during synthesis): added to every line.
        self.background: Callable[[], str] | None = None

    @contextmanager
    def stage(self, name: str, *, detail: Callable[[], str] | None = None) -> Iterator[None]:
        """Report ``name`` every ``interval_s`` until the body returns or raises."""
        stop = threading.Event()
        started = time.monotonic()

        def beat() -> None:
            while not stop.wait(self.interval_s):
                parts = [f"{name}: still running after {time.monotonic() - started:.0f} s"]
                parts += [part for part in (_safe(detail), _safe(self.background)) if part]
                self.progress("; ".join(parts))

        thread = threading.Thread(target=beat, name=f"heartbeat {name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _safe(detail: Callable[[], str] | None) -> str:
    # How far a stage is, is a courtesy: a detail that cannot be read (a file being written) says nothing.
    if detail is None:
        return ""
    try:
        return detail()
    except (OSError, ValueError):
        return ""
