"""CKV_STG_PG_2: PostgreSQL parameter groups set shared_buffers to 256 MiB in 8 kB pages (32768).

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_PG_2",
    "name": "PostgreSQL parameter groups set shared_buffers to 256 MiB in 8 kB pages (32768)",
    "category": "GENERAL_SECURITY",
    "severity": "HIGH",
    "rationale": "The spec asks for shared_buffers=256MB. RDS counts shared_buffers in 8 kB pages and accepts only "
    'integers (or formulas), so "256MB" is rejected at deploy time and 256 would mean 2 MiB. 256 MiB = '
    "256 * 1024 / 8 = 32768 pages. The value is read from infra/spec.toml.",
    "requirements": ["REQ-PARAM-03"],
    "remediation": 'Set parameters={"shared_buffers": "32768"} on rds.ParameterGroup (cdk.json sharedBuffersMiB 256; '
    "infra converts MiB to pages).",
    "resource_types": ["AWS::RDS::DBParameterGroup"],
    "requires": ["AWS::RDS::DBParameterGroup"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    pages = lib.spec().parameters.shared_buffers_pages
    return lib.expect(
        ctx, logical_id, "Parameters.shared_buffers", wanted=lib.same_text(pages), expected=f'"{pages}" (8 kB pages)'
    )


check = lib.make_check(METADATA, rule)
