"""The auditable data in ``policies/``: schema (records), loading (validation) and rendering (Markdown).

``python -m harness.catalog > policy-catalog.md`` prints the catalog.
"""

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
    OPTIONAL_FIXTURE_KINDS,
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
    optional_fixture,
    policy_test_ids,
)

__all__ = [
    "CHECKS_DIR",
    "FIXTURES_DIR",
    "FIXTURE_KINDS",
    "OPTIONAL_FIXTURE_KINDS",
    "POLICIES_DIR",
    "POLICY_TEST_FILE",
    "POLICY_TEST_FUNCTIONS",
    "ControlMapping",
    "ExternalCoverage",
    "Policy",
    "Requirement",
    "Severity",
    "Tool",
    "Waiver",
    "load_mappings",
    "load_policies",
    "load_requirements",
    "load_waivers",
    "optional_fixture",
    "policies_for_requirement",
    "policy_test_ids",
    "render_catalog_markdown",
    "rule_files",
    "validate_catalog",
    "waiver_scope",
]
