"""CKV_STG_PG_3: the database requires TLS for every connection (rds.force_ssl = 1), with a valid CA.

Python (it was a YAML check of the group's value) because the behaviour is the instance's:
the value of the group it really runs with (``policies/lib/stg_rds.py``), and the certificate
authority RDS signs its server certificate with (CACertificateIdentifier): one that has
expired makes every client that verifies the server certificate fail to connect.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_rds as rds

METADATA = {
    "id": "CKV_STG_PG_3",
    "name": "The database requires TLS for every connection (rds.force_ssl=1) with a current certificate authority",
    "category": "ENCRYPTION",
    "severity": "HIGH",
    "rationale": (
        "Administrative access and passwords in transit must be encrypted (PCI DSS 2.2.7, 8.3.2), with a server "
        "certificate clients can verify. "
        "rds.force_ssl=1 makes PostgreSQL refuse unencrypted connections (RDS takes 1 or 0). The built-in "
        "CKV2_AWS_69 passes when no parameter group is attached; this policy checks the group the instance really "
        "runs with (the template's, of its engine's family). CACertificateIdentifier chooses the CA of the server "
        "certificate: rds-ca-2019 expired in August 2024, so clients that verify the server cannot connect (and "
        "RDS no longer assigns it); absent, RDS assigns its current default."
    ),
    "requirements": ["REQ-PARAM-01", "REQ-SEC-04"],
    "remediation": (
        'Set parameters={"rds.force_ssl": "1"} on rds.ParameterGroup, pass that group to the instance, and '
        "ca_certificate=rds.CaCertificate.RDS_CA_RSA2048_G1 (or another current CA)."
    ),
    "resource_types": ["AWS::RDS::DBParameterGroup", "AWS::RDS::DBInstance"],
    "requires": ["AWS::RDS::DBParameterGroup"],
    "judges": {
        "AWS::RDS::DBParameterGroup": ["Parameters.rds.force_ssl", "Family"],
        "AWS::RDS::DBInstance": ["DBParameterGroupName", "Engine", "EngineVersion", "CACertificateIdentifier"],
    },
}

# AWS: the certificate authorities RDS signs server certificates with today (rds-ca-2019 expired 2024-08-22).
CURRENT_CAS = ("rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1")


def _why_not(value: Any) -> str | None:
    return None if rds.integer(value) == 1 else "RDS takes 1 (TLS required) or 0, and only 1 refuses plaintext"


def _certificate(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    authority = ctx.value(logical_id, "CACertificateIdentifier")
    if authority is cfn.NO_VALUE or authority in CURRENT_CAS:
        return lib.passed()
    return lib.unknown_in(authority, "CACertificateIdentifier") or lib.failed(
        f"CACertificateIdentifier is {lib.describe(authority)}, not a current RDS certificate authority "
        f"({', '.join(CURRENT_CAS)}): clients that verify the server certificate cannot connect over TLS"
    )


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    verdict = rds.judge_parameter(ctx, logical_id, "rds.force_ssl", why_not=_why_not)
    if ctx.type_of(logical_id) != rds.INSTANCE:
        return verdict
    return lib.worst([verdict, _certificate(ctx, logical_id)])


check = lib.make_check(METADATA, rule)
