"""CKV_STG_RDS_4: the daily backup window is set, valid and clear of the maintenance window.

Python because the rule is arithmetic on two properties (a daily window repeated on every day
of the week against a weekly window), which checkov's YAML operators cannot express.
"""

from __future__ import annotations

import sys
from pathlib import Path

_LIB = str(Path(__file__).resolve().parents[2] / "lib")
if _LIB not in sys.path:
    sys.path.insert(0, _LIB)

import re  # noqa: E402

import stg_policy_lib as lib  # noqa: E402

METADATA = {
    "id": "CKV_STG_RDS_4",
    "name": "RDS DB instances have an explicit backup window of at least 30 minutes that does not overlap the maintenance window",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "MEDIUM",
    "rationale": (
        "RDS requires the two windows not to overlap and each to last at least 30 minutes; without an explicit "
        "backup window RDS picks a random 30-minute slot in the region's 8-hour block, which may collide with "
        "the Sunday maintenance window the spec fixes. Backups of a payments database should run at a known time."
    ),
    "requirements": ["REQ-DB-05", "REQ-PARAM-05"],
    "remediation": (
        'Set preferred_backup_window="05:00-06:00" (UTC, cdk.json backupWindow) on rds.DatabaseInstance: any '
        "30+ minute daily window outside sun:08:00-sun:10:00."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
}

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAILY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_WEEKLY = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$"
)
_WEEK = 7 * 24 * 60


def _daily_minutes(window: str) -> set[int] | None:
    match = _DAILY.fullmatch(window)
    if not match:
        return None
    start = int(match[1]) * 60 + int(match[2])
    length = (int(match[3]) * 60 + int(match[4]) - start) % (24 * 60)
    if length < 30:
        return None
    return {(day * 24 * 60 + start + m) % _WEEK for day in range(7) for m in range(length)}


def _weekly_minutes(window: str) -> set[int] | None:
    match = _WEEKLY.fullmatch(window.lower())
    if not match:
        return None
    start = _DAYS.index(match[1]) * 24 * 60 + int(match[2]) * 60 + int(match[3])
    end = _DAYS.index(match[4]) * 24 * 60 + int(match[5]) * 60 + int(match[6])
    length = (end - start) % _WEEK
    if length < 30:
        return None
    return {(start + m) % _WEEK for m in range(length)}


def rule(template: lib.Template, logical_id: str) -> bool | None:
    props = lib.properties(template, logical_id)
    backup, maintenance = props.get("PreferredBackupWindow"), props.get("PreferredMaintenanceWindow")
    if not isinstance(backup, str) or not isinstance(maintenance, str):
        return False
    backup_minutes, maintenance_minutes = _daily_minutes(backup), _weekly_minutes(maintenance)
    if backup_minutes is None or maintenance_minutes is None:
        return False
    return not (backup_minutes & maintenance_minutes)


check = lib.make_check(METADATA, rule)
