"""The records of ``policies/`` (requirements, policies, control mappings, waivers) and where they live.

This module is the contract between ``policies/`` (owned by auditors and policy authors)
and the gate (``harness/``). Everything the gate and the generated catalog know about a
policy comes from these records; nothing is hard-coded elsewhere.

Layout of ``policies/`` (see ``policies/README.md``)::

    policies/
      checks/<domain>/ckv_stg_*.yaml|.py   the rules; CHECKS_DIR, passed to --external-checks-dir
      lib/                                 plumbing the Python rules import (not loaded as checks)
      fixtures/<POLICY_ID>/pass.json       templates each rule must pass, fail and skip
                         /fail.json
                         /suppressed.json
      requirements.yaml                    the seed spec, one quoted requirement per entry
      mappings/<framework>.yaml            control mappings, one file per framework, a rationale per entry
      frameworks/<framework>.yaml          key, source, id list and the reviewed in-scope controls
      frameworks/ids/                      every valid control id (NIST's OSCAL catalog, PCI DSS and FSBP lists)
      waivers.yaml                         every accepted exception
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
# What the gate passes to ``checkov --external-checks-dir``: the rules and nothing else
# (checkov parses every *.yaml/*.yml/*.json under it as a graph policy, so fixtures and
# data files live in sibling trees).
CHECKS_DIR = POLICIES_DIR / "checks"
FIXTURES_DIR = POLICIES_DIR / "fixtures"
FIXTURE_KINDS = ("pass", "fail", "suppressed")
# Fixtures a policy may have; tests/policies proves each one that exists. not-evaluated: a
# template where what the rule needs is fixed only at deploy time (Python rules: it must say so).
OPTIONAL_FIXTURE_KINDS = ("not-evaluated",)
# Where the per-policy tests live; node ids are derived from the policy id (policy_test_ids).
POLICY_TEST_FILE = "tests/policies/test_policy_fixtures.py"
POLICY_TEST_FUNCTIONS = {
    "pass": "test_pass_fixture_passes",
    "fail": "test_fail_fixture_fails",
    "suppressed": "test_suppressed_fixture_is_skipped",
    "stack": "test_policy_passes_on_synthesized_stack",
    "not-evaluated": "test_not_evaluated_fixture_is_not_evaluated",
}


# What an auditor reads for each cdk-nag pack the gate runs (harness.tools.nag.PACKS uses these).
# cdk-nag's PCI pack implements PCI DSS 3.2.1 (its messages quote 3.2.1 numbers), not v4.0.1.
NAG_PACK_LABELS = {
    "AwsSolutions": "AWS Solutions (cdk-nag pack)",
    "NIST.800.53.R5": "NIST SP 800-53 Rev. 5 (cdk-nag pack)",
    "PCI.DSS.321": "PCI DSS 3.2.1 (cdk-nag pack; not PCI DSS v4.0.1)",
}


def nag_pack_label(rule_id: str) -> str:
    """The label of the pack a cdk-nag rule id (``PCI.DSS.321-VPCFlowLogsEnabled``) belongs to."""
    pack = rule_id.split("::", 1)[-1].rsplit("-", 1)[0]
    return NAG_PACK_LABELS.get(pack, f"{pack} (cdk-nag pack)")


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Tool(StrEnum):
    CDK_NAG = "cdk-nag"
    CDK_VALIDATE = "cdk-validate"  # CDK's own validation plugins (CloudFormation Validate)
    CHECKOV = "checkov"
    CFN_LINT = "cfn-lint"
    PROJECT = "project"  # our own checkov custom checks in policies/
    GATE = "gate"  # the gate's own rules (content it cannot see, missing verdicts)
    CHANGE = "change"  # replacing or removing a stateful resource against a base (harness.comparison.changes)


@dataclass(frozen=True, kw_only=True)
class ExternalCoverage:
    """A requirement (or part of one) verified outside the project policies, and why."""

    by: str  # "cdk-nag", "checkov", "cfn-lint", "unit tests", "documentation", ...
    reference: str  # rule id, test path or document path
    reason: str  # why no project policy checks it (e.g. not visible in a template)


@dataclass(frozen=True, kw_only=True)
class Requirement:
    """One requirement of the seed spec (policies/spec.md), quoted, with a stable id."""

    id: str  # e.g. "REQ-DB-03"
    text: str  # the spec's words
    section: str  # spec heading it comes from
    covered_by: tuple[ExternalCoverage, ...] = ()  # coverage outside policies/checks, with reasons


@dataclass(frozen=True, kw_only=True)
class Policy:
    """One project policy: a checkov custom check plus the metadata auditors read."""

    id: str  # checkov check id, stable, e.g. "CKV_STG_RDS_1"
    title: str  # desired state, e.g. "RDS instances have deletion protection enabled"
    severity: Severity
    rationale: str
    requirements: tuple[str, ...]  # Requirement ids it enforces
    remediation: str
    resource_types: tuple[str, ...]  # CloudFormation types it gives a verdict on, every one of them
    check_file: Path  # the .py or .yaml checkov loads
    fixtures: dict[str, Path] = field(default_factory=dict)  # "pass" | "fail" | "suppressed" -> template
    engine: str = "yaml"  # "yaml" (checkov graph policy) or "python" (checkov resource check)
    category: str = ""  # checkov CheckCategories name
    # "Must exist": types of which at least one resource must exist in every deploy-time world
    # of the assembly (a required resource behind a Condition does not count).
    requires: tuple[str, ...] = ()
    # YAML policies: the resource attributes they read (the gate resolves them before checkov).
    attributes: tuple[str, ...] = ()

    @property
    def test_ids(self) -> tuple[str, ...]:
        return policy_test_ids(self.id)


@dataclass(frozen=True, kw_only=True)
class ControlMapping:
    """Framework controls a check satisfies; kept apart from the rule logic."""

    framework: str  # "PCI DSS v4.0.1" | "NIST SP 800-53 Rev. 5" | "AWS FSBP"
    check_id: str  # a project policy id, or a cdk-nag / checkov / cfn-lint rule id
    controls: tuple[str, ...]
    tool: Tool = Tool.PROJECT  # which tool reports check_id
    rationale: str = ""  # one line: what the check proves about these controls, no more
    framework_key: str = ""  # "pci-dss-4.0.1" | "nist-800-53-r5" | "aws-fsbp" (policies/frameworks/<file>.yaml key)


@dataclass(frozen=True, kw_only=True)
class Waiver:
    """An accepted exception, scoped to named resources (or, when it says so, one construct subtree).

    ``targets`` are logical ids or construct paths, each naming exactly one resource; with
    ``subtree`` a single construct path covers everything below it. ``resource_type`` binds
    the waiver to one CloudFormation type (required unless ``subtree``), ``stack`` to one
    stack id; a resource added later under a waived path or with a borrowed construct path
    does not inherit it.
    """

    id: str  # stable waiver id, e.g. "WVR-001"
    tool: Tool
    rule: str  # cdk-nag namespaced id ("AwsSolutions::AwsSolutions-RDS11"), checkov/cfn-lint/policy id
    targets: tuple[str, ...]
    reason: str
    owner: str
    expires: dt.date
    resource_type: str = ""
    stack: str = ""
    subtree: bool = False
    code_sha256: tuple[
        str, ...
    ] = ()  # the content hashes of the code the waived resource carries (harness.tools.waivers)
    requirement: str = ""  # the requirement the waived rules judge (REQ-..., optional; entries with ``rules``)

    @property
    def target(self) -> str:
        return ", ".join(self.targets)

    def is_expired(self, today: dt.date) -> bool:
        return today > self.expires


def optional_fixture(policy_id: str, kind: str) -> Path | None:
    """The policy's optional fixture of this kind (``OPTIONAL_FIXTURE_KINDS``), if it has one."""
    path = FIXTURES_DIR / policy_id / f"{kind}.json"
    return path if path.is_file() else None


def policy_test_ids(policy_id: str) -> tuple[str, ...]:
    """The pytest node ids that prove a policy (fixtures and the real synthesized stack).

    An optional fixture kind's test exists only for the policies that have that fixture.
    """
    return tuple(
        f"{POLICY_TEST_FILE}::{function}[{policy_id}]"
        for kind, function in POLICY_TEST_FUNCTIONS.items()
        if kind not in OPTIONAL_FIXTURE_KINDS or optional_fixture(policy_id, kind) is not None
    )
