"""The policy catalog as Markdown, generated from ``policies/`` (never edited by hand)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.catalog.loading import load_mappings, load_policies, load_requirements, load_waivers
from harness.catalog.registry import Registry, load_registry
from harness.catalog.registry_summary import render_markdown as render_registry
from harness.catalog.registry_summary import summary
from harness.catalog.schema import POLICIES_DIR, ControlMapping, Policy, Requirement, Tool, Waiver, nag_pack_label
from harness.markdown import cell, natural_key


def waiver_scope(waiver: Waiver) -> str:
    """``AWS::RDS::DBInstance `A`, `B` in stack S`` or ``subtree `Path/…```, as the reports show it."""
    targets = ", ".join(f"`{t}`" for t in waiver.targets)
    where = f" in stack `{waiver.stack}`" if waiver.stack else ""
    if waiver.subtree:
        return f"subtree {targets}{where}" + (f" ({waiver.resource_type} only)" if waiver.resource_type else "")
    return f"{waiver.resource_type} {targets}{where}"


def render_catalog_markdown(
    *,
    requirements: Sequence[Requirement] | None = None,
    policies: Sequence[Policy] | None = None,
    mappings: Sequence[ControlMapping] | None = None,
    waivers: Sequence[Waiver] | None = None,
    registry: Registry | None = None,
    root: Path = POLICIES_DIR,
) -> str:
    """The human-readable policy catalog, generated from policies/ (never edited by hand)."""
    requirements = load_requirements(root) if requirements is None else requirements
    policies = load_policies(root) if policies is None else policies
    mappings = load_mappings(root) if mappings is None else mappings
    waivers = load_waivers(root) if waivers is None else waivers
    registry = load_registry(root) if registry is None else registry
    frameworks = sorted({m.framework for m in mappings})
    requirement_text = {r.id: r for r in requirements}
    repo = root.parent

    def relative(path: Path) -> str:
        try:
            return path.relative_to(repo).as_posix()
        except ValueError:
            return path.as_posix()

    lines = [
        "# Policy catalog",
        "",
        "Generated from `policies/` by `harness.catalog.render_catalog_markdown`; do not edit.",
        "",
        f"{len(policies)} project policies, {len(requirements)} spec requirements, "
        f"{len(mappings)} control mappings over {len(frameworks)} frameworks, {len(waivers)} waivers.",
        "",
        "| Id | Title | Severity | Engine | Requirements |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| [{p.id}](#{p.id.lower()}) | {cell(p.title)} | {p.severity} | {p.engine} | {', '.join(p.requirements)} |"
        for p in policies
    ]
    for policy in policies:
        lines += ["", f"## {policy.id}", "", f"**{policy.title}**", ""]
        lines += [
            f"- Severity: {policy.severity}",
            f"- Engine: checkov {'YAML graph policy' if policy.engine == 'yaml' else 'Python check'} "
            f"(`{relative(policy.check_file)}`)",
            f"- Resource types (a verdict on every one): {', '.join(f'`{t}`' for t in policy.resource_types)}",
            *(
                [f"- Must exist in every deploy-time world: {', '.join(f'`{t}`' for t in policy.requires)}"]
                if policy.requires
                else []
            ),
            f"- Rationale: {policy.rationale}",
            f"- Remediation: {policy.remediation}",
            "- Requirements:",
        ]
        for requirement_id in policy.requirements:
            req = requirement_text.get(requirement_id)
            lines.append(f'  - {requirement_id}: "{req.text}" ({req.section})' if req else f"  - {requirement_id}")
        lines.append("- Controls:")
        for framework in frameworks:
            entries = [
                m for m in mappings if m.framework == framework and m.check_id == policy.id and m.tool is Tool.PROJECT
            ]
            controls = [c for m in entries for c in m.controls]
            why = "; ".join(m.rationale for m in entries if m.rationale)
            lines.append(
                f"  - {framework}: {', '.join(controls) if controls else 'none mapped'}" + (f" — {why}" if why else "")
            )
        lines.append(
            "- Fixtures: " + ", ".join(f"[{kind}]({relative(path)})" for kind, path in sorted(policy.fixtures.items()))
        )
        lines.append("- Tests: " + ", ".join(f"`{t}`" for t in policy.test_ids))
    lines += ["", "## Requirements not covered by a project policy alone", ""]
    for requirement in requirements:
        for coverage in requirement.covered_by:
            lines.append(f"- {requirement.id} ({coverage.by}, `{coverage.reference}`): {coverage.reason}")
    other = sorted(
        (m for m in mappings if m.tool is not Tool.PROJECT),
        key=lambda m: (m.tool, natural_key(m.check_id), m.framework),
    )
    lines += [
        "",
        "## Tool rules the gate relies on",
        "",
        "cdk-nag's `PCI.DSS.321-*` rules come from its PCI DSS 3.2.1 pack; they are mapped to PCI DSS v4.0.1 by "
        "what they check, never by the 3.2.1 numbers their messages quote.",
        "",
        "| Tool | Rule | Framework | Controls | Rationale |",
        "|---|---|---|---|---|",
    ]
    for m in other:
        tool = nag_pack_label(m.check_id) if m.tool is Tool.CDK_NAG else str(m.tool)
        lines.append(
            f"| {cell(tool)} | `{m.check_id}` | {m.framework} | {', '.join(m.controls)} | {cell(m.rationale)} |"
        )
    lines += ["", *render_registry(summary(registry), details=True)]
    lines += [
        "",
        "## Waivers",
        "",
        "| Id | Tool | Rule | Scope | Owner | Expires | Reason |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {w.id} | {w.tool} | `{cell(w.rule)}` | {cell(waiver_scope(w))} | {w.owner} | {w.expires.isoformat()} | "
        f"{cell(w.reason)} |"
        for w in sorted(waivers, key=lambda w: w.id)
    ]
    return "\n".join(lines) + "\n"
