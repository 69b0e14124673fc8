"""CKV_STG_LOG_2: CloudWatch log groups retain logs for at least 365 days.

The spec's value is read from infra/spec.toml (see policies/README.md, "Engine").
"""

from __future__ import annotations

import sys
from pathlib import Path

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_LOG_2",
    "name": "CloudWatch log groups retain logs for at least 365 days",
    "category": "LOGGING",
    "severity": "MEDIUM",
    "rationale": "Without RetentionInDays logs are kept forever (cost, and data kept longer than needed); PCI DSS "
    "v4.0.1 10.5.1 asks for at least 12 months of audit log history. 365 days is the floor. The value "
    "is read from infra/spec.toml.",
    "requirements": ["REQ-CON-10"],
    "remediation": "Set retention=logs.RetentionDays.ONE_YEAR (or longer) on logs.LogGroup (cdk.json "
    "logRetentionDays).",
    "resource_types": ["AWS::Logs::LogGroup"],
    "requires": ["AWS::Logs::LogGroup"],
}


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    days = lib.spec().logs.retention_days_min
    return lib.expect(ctx, logical_id, "RetentionInDays", wanted=lib.at_least(days), expected=f"at least {days} days")


check = lib.make_check(METADATA, rule)
