"""The one exception that means "the harness itself failed" (exit code 2)."""

from __future__ import annotations


class HarnessError(Exception):
    """A tool is missing or crashed, input is unreadable, or a check did not run.

    The message is one line and names what failed; the CLI prints it and exits 2.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
