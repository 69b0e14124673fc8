"""The auditable data in ``policies/``: requirements, policies, control mappings, waivers.

This module is the contract between ``policies/`` (owned by auditors and policy authors)
and the gate (``harness/``). Everything the gate and the generated catalog know about a
policy comes from these records; nothing is hard-coded elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parent.parent / "policies"


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Tool(StrEnum):
    CDK_NAG = "cdk-nag"
    CHECKOV = "checkov"
    CFN_LINT = "cfn-lint"
    PROJECT = "project"  # our own checkov custom checks in policies/


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """One requirement of the seed spec (../shared/seeds), quoted, with a stable id."""

    id: str  # e.g. "REQ-DB-03"
    text: str  # the spec's words
    section: str  # spec heading it comes from


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One project policy: a checkov custom check plus the metadata auditors read."""

    id: str  # checkov check id, stable, e.g. "CKV_STG_RDS_1"
    title: str  # desired state, e.g. "RDS instances have deletion protection enabled"
    severity: Severity
    rationale: str
    requirements: tuple[str, ...]  # Requirement ids it enforces
    remediation: str
    resource_types: tuple[str, ...]  # CloudFormation types it reports on
    check_file: Path  # the .py or .yaml checkov loads
    fixtures: dict[str, Path] = field(default_factory=dict)  # "pass" | "fail" | "suppressed" -> template


@dataclass(frozen=True, kw_only=True)
class ControlMapping:
    """Framework controls a check satisfies; kept apart from the rule logic."""

    framework: str  # "PCI DSS v4.0.1" | "NIST SP 800-53 Rev. 5" | "AWS FSBP"
    check_id: str  # a project policy id, or a cdk-nag / checkov / cfn-lint rule id
    controls: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Waiver:
    """An accepted exception: a cdk-nag acknowledgement or a checkov skip, with an expiry."""

    id: str  # stable waiver id, e.g. "WVR-001"
    tool: Tool  # CDK_NAG or CHECKOV
    rule: str  # cdk-nag namespaced id ("AwsSolutions::AwsSolutions-RDS11") or checkov id
    target: str  # construct path (cdk-nag) or logical id (checkov)
    reason: str
    owner: str
    expires: dt.date

    def is_expired(self, today: dt.date) -> bool:
        return today > self.expires


def load_requirements(root: Path = POLICIES_DIR) -> list[Requirement]:
    raise NotImplementedError  # implemented with policies/


def load_policies(root: Path = POLICIES_DIR) -> list[Policy]:
    raise NotImplementedError  # implemented with policies/


def load_mappings(root: Path = POLICIES_DIR) -> list[ControlMapping]:
    raise NotImplementedError  # implemented with policies/


def load_waivers(root: Path = POLICIES_DIR) -> list[Waiver]:
    raise NotImplementedError  # implemented with policies/
