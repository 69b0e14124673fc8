"""CKV_STG_RDS_4: the daily backup window is set, valid and clear of the maintenance window.

Python because the rule is arithmetic on two properties (a daily window repeated on every day
of the week against a weekly window), which checkov's YAML operators cannot express.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_RDS_4",
    "name": "RDS DB instances have an explicit backup window of at least 30 minutes that does not overlap the maintenance window",
    "category": "BACKUP_AND_RECOVERY",
    "severity": "MEDIUM",
    "rationale": (
        "RDS requires the two windows not to overlap and each to last at least 30 minutes; without an explicit "
        "backup window RDS picks a random 30-minute slot in the region's 8-hour block, which may collide with "
        "the Sunday maintenance window the spec fixes. Backups of a payments database should run at a known time. "
        "A window the template does not determine (a parameter, an import) cannot be verified and fails."
    ),
    "requirements": ["REQ-DB-05", "REQ-PARAM-05"],
    "remediation": (
        'Set preferred_backup_window="05:00-06:00" (UTC, cdk.json backupWindow) on rds.DatabaseInstance: any '
        "30+ minute daily window outside sun:08:00-sun:10:00."
    ),
    "resource_types": ["AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBInstance"],
    "judges": {"AWS::RDS::DBInstance": ["PreferredBackupWindow", "PreferredMaintenanceWindow"]},
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


def _window(
    ctx: lib.Context, logical_id: str, prop: str, parse: Callable[[str], set[int] | None], example: str
) -> set[int] | lib.Verdict:
    """The minutes of the week a window covers, or the verdict on why it has none the rule can use."""
    value = ctx.value(logical_id, prop)
    if value is cfn.NO_VALUE:
        return lib.failed(f"no {prop}: RDS picks a random slot, which may overlap the other window")
    if not isinstance(value, str):
        reason = lib.undetermined(value)
        if reason is not None:
            return lib.not_evaluated(f"{prop}: {reason}")
        return lib.failed(f"{prop} {lib.describe(value)} is not a window")
    minutes = parse(value)
    if minutes is None:
        return lib.failed(f"{prop} {value!r} is not a window of at least 30 minutes like {example!r}")
    return minutes


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    cluster = ctx.value(logical_id, "DBClusterIdentifier")
    if cluster is not cfn.NO_VALUE:
        return lib.not_applicable(
            f"member of DB cluster {lib.describe(cluster)}: the cluster's windows apply, not the instance's"
        )
    backup = _window(ctx, logical_id, "PreferredBackupWindow", _daily_minutes, "05:00-06:00")
    maintenance = _window(ctx, logical_id, "PreferredMaintenanceWindow", _weekly_minutes, "sun:08:00-sun:10:00")
    if isinstance(backup, lib.Verdict) or isinstance(maintenance, lib.Verdict):
        return lib.worst([v for v in (backup, maintenance) if isinstance(v, lib.Verdict)])
    windows = (
        f"backup {ctx.value(logical_id, 'PreferredBackupWindow')}, "
        f"maintenance {ctx.value(logical_id, 'PreferredMaintenanceWindow')}"
    )
    if backup & maintenance:
        return lib.failed(f"the windows overlap ({windows}, UTC)")
    return lib.passed(windows)


check = lib.make_check(METADATA, rule)
