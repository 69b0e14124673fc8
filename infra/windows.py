"""RDS time windows in UTC: the weekly maintenance window and the daily backup window.

Parsing raises ``ValueError`` with the rule broken (infra/config.py turns it into a
one-line ConfigError); arithmetic is in minutes so overlaps are exact set intersections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# RDS rules for both windows.
SHORTEST_WINDOW_MINUTES = 30
LONGEST_MAINTENANCE_MINUTES = MINUTES_PER_DAY

_DAY_TIME = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, kw_only=True)
class MaintenanceWindow:
    """A weekly window in UTC, as RDS writes it: ``ddd:hh24:mi-ddd:hh24:mi``."""

    start_minute_of_week: int
    end_minute_of_week: int

    @property
    def duration_minutes(self) -> int:
        return (self.end_minute_of_week - self.start_minute_of_week) % MINUTES_PER_WEEK

    def minutes_of_week(self) -> set[int]:
        return {(self.start_minute_of_week + m) % MINUTES_PER_WEEK for m in range(self.duration_minutes)}

    def rds_format(self) -> str:
        return f"{_day_time(self.start_minute_of_week)}-{_day_time(self.end_minute_of_week)}"


@dataclass(frozen=True, kw_only=True)
class DailyWindow:
    """A daily window in UTC, as RDS writes it: ``hh24:mi-hh24:mi``."""

    start_minute_of_day: int
    end_minute_of_day: int

    @property
    def duration_minutes(self) -> int:
        return (self.end_minute_of_day - self.start_minute_of_day) % MINUTES_PER_DAY

    def rds_format(self) -> str:
        return f"{_time(self.start_minute_of_day)}-{_time(self.end_minute_of_day)}"

    def minutes_of_week(self) -> set[int]:
        """Every minute of the week this window covers (it repeats each day)."""
        return {
            (day * MINUTES_PER_DAY + self.start_minute_of_day + m) % MINUTES_PER_WEEK
            for day in range(7)
            for m in range(self.duration_minutes)
        }


def parse_maintenance_window(text: object) -> MaintenanceWindow:
    if not isinstance(text, str):
        raise ValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC")
    start_text, _, end_text = text.lower().partition("-")
    start, end = _DAY_TIME.fullmatch(start_text), _DAY_TIME.fullmatch(end_text)
    if text.count("-") != 1 or not start or not end:
        raise ValueError("must be ddd:hh24:mi-ddd:hh24:mi in UTC")
    window = MaintenanceWindow(start_minute_of_week=_minute_of_week(start), end_minute_of_week=_minute_of_week(end))
    if window.duration_minutes < SHORTEST_WINDOW_MINUTES:
        raise ValueError(f"must last at least {SHORTEST_WINDOW_MINUTES} minutes (RDS rule)")
    if window.duration_minutes > LONGEST_MAINTENANCE_MINUTES:
        raise ValueError("must last at most 24 hours (RDS rule)")
    return window


def parse_backup_window(text: object, *, maintenance: MaintenanceWindow | None) -> DailyWindow:
    """A daily window; with ``maintenance`` known, it must not overlap it on any day (RDS rule)."""
    if not isinstance(text, str):
        raise ValueError("must be hh24:mi-hh24:mi in UTC")
    start_text, _, end_text = text.partition("-")
    start, end = _HH_MM.fullmatch(start_text), _HH_MM.fullmatch(end_text)
    if text.count("-") != 1 or not start or not end:
        raise ValueError("must be hh24:mi-hh24:mi in UTC")
    window = DailyWindow(
        start_minute_of_day=int(start[1]) * 60 + int(start[2]), end_minute_of_day=int(end[1]) * 60 + int(end[2])
    )
    if window.duration_minutes < SHORTEST_WINDOW_MINUTES:
        raise ValueError(f"must last at least {SHORTEST_WINDOW_MINUTES} minutes (RDS rule)")
    if maintenance is not None and window.minutes_of_week() & maintenance.minutes_of_week():
        raise ValueError(f"must not overlap the maintenance window {maintenance.rds_format()} (RDS rule)")
    return window


def _minute_of_week(match: re.Match[str]) -> int:
    return DAYS.index(match[1]) * MINUTES_PER_DAY + int(match[2]) * 60 + int(match[3])


def _day_time(minute_of_week: int) -> str:
    day, minute = divmod(minute_of_week, MINUTES_PER_DAY)
    return f"{DAYS[day]}:{_time(minute)}"


def _time(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
