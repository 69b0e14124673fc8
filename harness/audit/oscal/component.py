"""``component-definition.json``: the stack as one component; each check the gate relies on a rule
(compliance-trestle's ``Rule_Id`` / ``Rule_Description`` convention), each mapped control an implemented
requirement naming its checks with the mapping's rationale."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.audit.oscal.common import TRESTLE_NS, control_id, href, metadata, new, prop, stable_uuid
from harness.audit.oscal.run import Assessment
from harness.catalog import ControlMapping, Tool, nag_pack_label
from harness.markdown import natural_key

TOOL_TITLES = {
    Tool.PROJECT: "Project policies (policies/checks, run by checkov as custom checks)",
    Tool.CHECKOV: "checkov (built-in CloudFormation checks)",
    Tool.CDK_NAG: "cdk-nag packs (AwsSolutions, NIST SP 800-53 Rev. 5, PCI DSS 3.2.1)",
    Tool.CDK_VALIDATE: "CDK validation plugins (CloudFormation Validate)",
    Tool.CFN_LINT: "cfn-lint",
    Tool.GATE: "The gate's own rules (content it cannot see, missing verdicts, waivers)",
    Tool.CHANGE: "Change policies against a base (policies/stateful.yaml)",
}


def checks(assessment: Assessment) -> list[tuple[Tool, str, str]]:
    """(tool, check id, description) of every check a mapping names, sorted."""
    titles = {p.id: f"{p.title}. {p.rationale}" for p in assessment.policies}
    seen: dict[tuple[Tool, str], str] = {}
    for mapping in assessment.mappings:
        key = (mapping.tool, mapping.check_id)
        if key not in seen:
            if mapping.tool is Tool.PROJECT:
                seen[key] = titles.get(mapping.check_id, mapping.check_id)
            elif mapping.tool is Tool.CDK_NAG:
                seen[key] = f"{nag_pack_label(mapping.check_id)} rule {mapping.check_id}"
            else:
                seen[key] = f"{mapping.tool} rule {mapping.check_id}"
    return sorted(((tool, check, text) for (tool, check), text in seen.items()), key=lambda t: (t[0].value, t[1]))


def stack_component_uuid(stack: str) -> str:
    return stable_uuid("component", stack)


def component_definition(assessment: Assessment) -> Any:
    """The stack's component definition: each policy a rule, each mapped control an implemented requirement."""
    from trestle.oscal import component  # noqa: PLC0415

    stack = assessment.stack
    rule_props = []
    for index, (tool, check, description) in enumerate(checks(assessment), start=1):
        group = f"rule_set_{index:03d}"
        rule_props += [
            prop("Rule_Id", check, ns=TRESTLE_NS, remarks=group),
            prop("Rule_Description", f"{tool}: {description}", ns=TRESTLE_NS, remarks=group),
        ]
    implementations = []
    for framework in assessment.frameworks:
        by_control: dict[str, list[ControlMapping]] = defaultdict(list)
        for mapping in assessment.mappings:
            if mapping.framework_key == framework.key:
                for control in mapping.controls:
                    by_control[control].append(mapping)
        requirements = [
            _requirement(stack, framework.key, control, entries)
            for control, entries in sorted(by_control.items(), key=lambda item: natural_key(item[0]))
        ]
        if requirements:
            implementations.append(
                new(
                    component.ControlImplementation,
                    uuid=stable_uuid("cd", stack, framework.key),
                    source=href(framework.ids_file, oscal_dir=assessment.oscal_dir),
                    description=f"{framework.name} ({framework.version}); source: {framework.source}",
                    implemented_requirements=requirements,
                )
            )
    defined = new(
        component.DefinedComponent,
        uuid=stack_component_uuid(stack),
        type="service",
        title=f"{stack}: staging RDS PostgreSQL stack",
        description="The staging RDS PostgreSQL stack of the payments database (VPC, subnets, security groups, "
        "KMS key, RDS instance, secret, logs, alarms) as synthesized by this repository's CDK app, and the "
        "template-time checks the compliance gate runs on it (policies/).",
        props=rule_props,
        control_implementations=implementations,
    )
    digest = assessment.rules_digest
    return new(
        component.ComponentDefinition,
        uuid=stable_uuid("component-definition", stack, digest),
        metadata=metadata(
            f"{stack}: compliance gate policies",
            version=f"rules {digest[:23]}",
            times=assessment.times,
            parties=assessment.parties,
        ),
        components=[defined],
    )


def _requirement(stack: str, framework: str, control: str, entries: Sequence[ControlMapping]) -> Any:
    from trestle.oscal import component  # noqa: PLC0415

    ordered = sorted(entries, key=lambda m: (m.tool.value, m.check_id))
    return new(
        component.ImplementedRequirement,
        uuid=stable_uuid("cd", stack, framework, control),
        control_id=control_id(framework, control),
        description=" ".join(f"{m.check_id} ({m.tool}): {m.rationale}" for m in ordered),
        props=[prop("label", control), *(prop("Rule_Id", m.check_id, ns=TRESTLE_NS) for m in ordered)],
    )
