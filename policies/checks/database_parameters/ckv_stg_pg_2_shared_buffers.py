"""CKV_STG_PG_2: the database runs with shared_buffers = 256 MiB, written in 8 kB pages (32768).

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine"). Judged on
every parameter group and on every DB instance (the group it really runs with, see
``policies/lib/stg_rds.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_PG_2",
    "name": "The database runs with shared_buffers set to 256 MiB in 8 kB pages (32768)",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": "The spec asks for shared_buffers=256MB. RDS counts shared_buffers in 8 kB pages and accepts only "
    'integers (or formulas), so "256MB" is rejected at deploy time and 256 would mean 2 MiB. 256 MiB = '
    '256 * 1024 / 8 = 32768 pages (32768 and "32768" are the same value). The value is read from infra/spec.toml. '
    "It applies only if the instance runs with the group: the template's group, of its engine's family.",
    "requirements": ["REQ-PARAM-03"],
    "remediation": 'Set parameters={"shared_buffers": "32768"} on rds.ParameterGroup (cdk.json sharedBuffersMiB 256; '
    "infra converts MiB to pages) and pass that group to the instance.",
    "resource_types": ["AWS::RDS::DBParameterGroup", "AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBParameterGroup"],
    "judges": {
        "AWS::RDS::DBParameterGroup": ["Parameters.shared_buffers", "Family"],
        "AWS::RDS::DBInstance": ["DBParameterGroupName", "Engine", "EngineVersion"],
    },
}

PAGE_KIB = 8


def _why_not(value: Any) -> str | None:
    pages = lib.spec().parameters.shared_buffers_pages
    mib = lib.spec().parameters.shared_buffers_mib
    if rds.is_formula(value):
        return f"a formula RDS computes from the instance's memory, not the spec's {mib} MiB"
    found = rds.integer(value)
    if found is None:
        return f"RDS takes shared_buffers as a whole number of 8 kB pages ({pages} for {mib} MiB) and refuses units"
    if found != pages:
        return f"{found} pages of 8 kB are {found * PAGE_KIB / 1024:g} MiB, not {mib} MiB ({pages} pages)"
    return None


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    return rds.judge_parameter(ctx, logical_id, "shared_buffers", why_not=_why_not)


check = lib.make_check(METADATA, rule)
