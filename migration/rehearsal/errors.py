"""What a failed rehearsal raises: one line saying what failed and why."""

from __future__ import annotations


class RehearsalError(RuntimeError):
    """The rehearsal failed; the message is one line saying what and why."""


class ServerBinariesMissingError(RehearsalError):
    """No PostgreSQL server binaries (postgres, initdb, pg_ctl) on this machine."""


class ParameterMappingError(RehearsalError):
    """A parameter group value RDS would reject, or PostgreSQL does not know."""


class SettingMismatchError(RehearsalError):
    """The server reports a different value than the spec requires (often a unit mistake)."""
