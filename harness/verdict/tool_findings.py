"""Every tool's output of one gate run as findings, folded over the worlds, waivers applied, then settled.

In order: the waivers must name rules the tools have (harness.verdict.rule_ids); cdk-nag's
construct-level run (synthesis mode) before its template-level run, which adds only what the first
did not see; checkov (with the project's policies), cfn-lint, the test tiers, and the worlds the
expansion could not write; then a value the resolver determines settles a tool that could not read
its written form (harness.verdict.settle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.catalog.loaded import Catalog
from harness.errors import HarnessError
from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly
from harness.reading.worlds import Expansion
from harness.tools.nag import PACK_NAMES, NagOutcome
from harness.tools.tool_runs import Collected
from harness.tools.waivers import WaiverBook
from harness.verdict.coverage import unresolved_attributes
from harness.verdict.judge import (
    checkov_findings,
    included_nag_findings,
    lint_findings,
    nag_findings,
    test_findings,
    unloadable_findings,
)
from harness.verdict.rule_ids import check_waiver_rules
from harness.verdict.settle import load_settled_by, settle_tool_findings

if TYPE_CHECKING:
    from harness.tools.nag_include import IncludedNag  # importing it starts jsii

# (check, world file, logical id) -> the verdict checkov gave; what coverage counts as judged.
Judged = dict[tuple[str, Path, str], Status]


def tool_findings(
    *,
    assemblies: Sequence[CloudAssembly],
    expansion: Expansion,
    construct_nag: Mapping[str, NagOutcome],
    included: IncludedNag,
    collected: Collected,
    catalog: Catalog,
    book: WaiverBook,
    synth_mode: bool,
    checkov: str,
    cfn_lint: str,
) -> tuple[list[Finding], Judged]:
    """Findings of every tool, and which (check, world file, resource) got a verdict (for coverage)."""
    # A waiver naming a rule no tool of this run has is a harness failure, checked once the tools
    # have proved they run: their own packages are what lists their rules.
    check_waiver_rules(
        catalog.waivers, policies=[p.id for p in catalog.policies], requirements=[r.id for r in catalog.requirements],
        packs=PACK_NAMES, checkov=checkov, cfn_lint=cfn_lint,
    )  # fmt: skip
    findings: list[Finding] = []
    seen: set[tuple[str, str, str]] = set()
    # The construct-level run comes first: its findings carry CDK's own acknowledgements.
    for assembly in assemblies:
        outcome = construct_nag.get(assembly.label)
        if outcome is not None:
            findings += nag_findings(outcome, stack=assembly.stacks[0], world="", book=book, seen=seen)
    included_findings = included_nag_findings(included.outcomes, expansion=expansion, book=book, seen=seen)
    findings += unloadable_findings(included.unloadable, expansion=expansion)
    # Synthesis mode keeps only cdk-nag's findings of the template-level run: CDK's own validation
    # already ran on the app's synthesis.
    findings += [f for f in included_findings if not synth_mode or f.source is Source.CDK_NAG]
    overrides = unresolved_attributes(catalog.policies, expansion)
    policies = {p.id: p for p in catalog.policies}
    folding = checkov_findings(
        collected.checkov, expansion=expansion, policies=policies, book=book, overrides=overrides
    )
    findings += folding.findings
    findings += lint_findings(collected.lint, assemblies=assemblies, book=book)
    if collected.tests is not None:
        findings += test_findings(collected.tests, label=assemblies[0].label)
    findings += expansion.findings
    # A value the resolver determines is judged even where a tool could not read its written form.
    try:
        settled_by = load_settled_by(catalog.policies_dir, known=list(policies))
    except ValueError as error:
        raise HarnessError(str(error)) from error
    return settle_tool_findings(findings, settled_by=settled_by, assemblies=assemblies), folding.judged
