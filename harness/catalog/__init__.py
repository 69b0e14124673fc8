"""The auditable data in ``policies/``: schema (records), loading (validation) and rendering (Markdown).

``python -m harness.catalog > policy-catalog.md`` prints the catalog.
"""

from harness.catalog.frameworks import (
    FRAMEWORKS_DIR,
    Framework,
    ScopeEntry,
    control_title,
    is_known,
    load_frameworks,
    nist_oscal_id,
    validate_controls,
)
from harness.catalog.loading import (
    load_mappings,
    load_policies,
    load_requirements,
    load_waivers,
    policies_for_requirement,
    rule_files,
    validate_catalog,
)
from harness.catalog.rendering import render_catalog_markdown, waiver_scope
from harness.catalog.schema import (
    CHECKS_DIR,
    FIXTURE_KINDS,
    FIXTURES_DIR,
    NAG_PACK_LABELS,
    POLICIES_DIR,
    POLICY_TEST_FILE,
    POLICY_TEST_FUNCTIONS,
    ControlMapping,
    ExternalCoverage,
    Policy,
    Requirement,
    Severity,
    Tool,
    Waiver,
    nag_pack_label,
    policy_test_ids,
)

__all__ = [
    "CHECKS_DIR",
    "FIXTURES_DIR",
    "FIXTURE_KINDS",
    "FRAMEWORKS_DIR",
    "NAG_PACK_LABELS",
    "POLICIES_DIR",
    "POLICY_TEST_FILE",
    "POLICY_TEST_FUNCTIONS",
    "ControlMapping",
    "ExternalCoverage",
    "Framework",
    "Policy",
    "Requirement",
    "ScopeEntry",
    "Severity",
    "Tool",
    "Waiver",
    "control_title",
    "is_known",
    "load_frameworks",
    "load_mappings",
    "load_policies",
    "load_requirements",
    "load_waivers",
    "nag_pack_label",
    "nist_oscal_id",
    "policies_for_requirement",
    "policy_test_ids",
    "render_catalog_markdown",
    "rule_files",
    "validate_catalog",
    "validate_controls",
    "waiver_scope",
]
