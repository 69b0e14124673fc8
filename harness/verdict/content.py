"""What a template leaves to something the gate cannot see: each such place is NOT EVALUATED.

- transforms (``Transform``, ``Fn::Transform``, SAM and module resource types): CloudFormation
  (or a macro) rewrites the template at deploy time;
- nested stacks, stack sets, serverless applications and provisioned products whose template
  is not in the assembly;
- custom resources implemented outside the template (a ``ServiceToken`` that is not a Lambda
  function of the same template): what they create or change is invisible;
- in-template suppressions for other linters (``cfn-lint``, ``cdk_nag``, ``cfn_nag``, ``guard``
  metadata): an exception that is not in ``policies/waivers.yaml`` is not auditable, so it fails;
- secret material in the template's own sections (parameter defaults, outputs, mappings,
  metadata), judged here under CKV_STG_SEC_1 with that policy's library: checkov hands its
  checks one resource at a time and has no place for template-level sections.

Each finding names the resource (or the template) and why; a waiver in policies/ (tool
``gate``) can accept one after review, like any other exception.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from harness.catalog import Policy
from harness.model import Finding, Source, Status
from harness.reading.assembly import CloudAssembly, StackTemplate
from harness.reading.worlds import environment_of
from policies.lib import cfn_resolver as cfn

CUSTOM_RESOURCE_TYPE = "AWS::CloudFormation::CustomResource"
LAMBDA_FUNCTION_TYPE = "AWS::Lambda::Function"
# Resource types whose content lives outside the template, and where it lives.
EXTERNAL_CONTENT_TYPES = {
    "AWS::Serverless::Application": "a serverless application from the AWS Serverless Application Repository",
    "AWS::CloudFormation::StackSet": "a stack set, deployed from a template given at deploy time",
    "AWS::ServiceCatalog::CloudFormationProvisionedProduct": "a Service Catalog product's template",
}
SUPPRESSION_METADATA = ("cfn-lint", "cdk_nag", "cfn_nag", "guard", "checkov")

RULE_TRANSFORM = "gate:transform"
RULE_NESTED = "gate:external-template"
RULE_CUSTOM = "gate:custom-resource"
RULE_SUPPRESSION = "gate:in-template-suppression"
RULE_TITLES = {
    RULE_TRANSFORM: "the template is judged as deployed: no transform rewrites it at deploy time",
    RULE_NESTED: "every template the stack deploys is in the assembly",
    RULE_CUSTOM: "custom resources are implemented by a Lambda function of the same template",
    RULE_SUPPRESSION: "exceptions live in policies/waivers.yaml, not in template metadata",
}
REMEDIATION = {
    RULE_TRANSFORM: "synthesize what the transform would produce (CDK L2/L1 constructs) instead of deploying a transform",
    RULE_NESTED: "use a CDK NestedStack (its template ships in the assembly) or judge that template on its own",
    RULE_CUSTOM: "implement the custom resource with a provider function in this stack, or waive it after review",
    RULE_SUPPRESSION: "remove the metadata and, for an accepted exception, add a waiver to policies/waivers.yaml",
}


SECRETS_POLICY = "CKV_STG_SEC_1"


def content_findings(assemblies: Sequence[CloudAssembly], *, policies: Sequence[Policy] = ()) -> list[Finding]:
    findings: list[Finding] = []
    secrets = next((p for p in policies if p.id == SECRETS_POLICY), None)
    for assembly in assemblies:
        for stack in assembly.stacks:
            findings += list(_template_findings(stack))
            if secrets is not None:
                findings += _section_secrets(stack, secrets)
    return findings


def _section_secrets(stack: StackTemplate, policy: Policy) -> list[Finding]:
    from policies.lib import stg_secrets  # noqa: PLC0415  (detect-secrets: ~0.5 s to import; the gate runs this on a thread)

    problems = stg_secrets.template_section_problems(stack.body)
    return [
        Finding(
            source=Source.PROJECT,
            rule_id=policy.id,
            status=Status.FAILED if problems else Status.PASSED,
            title=policy.title,
            assembly=stack.assembly,
            stack=stack.stack_id,
            template=stack.relpath,
            message="; ".join(problems) if problems else "the template's parameters, outputs, mappings and metadata",
            severity=str(policy.severity),
            remediation=policy.remediation,
        )
    ]


def _finding(
    stack: StackTemplate, rule: str, message: str, logical_id: str = "", status: Status = Status.NOT_EVALUATED
) -> Finding:
    return stack.gate_finding(
        rule=rule,
        status=status,
        title=RULE_TITLES[rule],
        remediation=REMEDIATION[rule],
        message=message,
        logical_id=logical_id,
    )


def _template_findings(stack: StackTemplate) -> Iterator[Finding]:
    transforms = stack.body.get("Transform")
    if transforms:
        names = ", ".join(str(t) for t in (transforms if isinstance(transforms, list) else [transforms]))
        yield _finding(
            stack, RULE_TRANSFORM, f"the template declares Transform {names}: CloudFormation rewrites it at deploy time, "
            "so no template-time check sees what it deploys",
        )  # fmt: skip
    yield from _suppressions(stack, "", stack.body.get("Metadata"))
    resolver = cfn.Resolver(stack.body, environment=environment_of(stack))
    for logical_id, resource in sorted(stack.resources.items()):
        kind = str(resource.get("Type", ""))
        if _has_fn_transform(resource):
            yield _finding(
                stack, RULE_TRANSFORM, "Fn::Transform (a macro) rewrites this resource at deploy time", logical_id
            )
        if kind.startswith("AWS::Serverless::"):
            yield _finding(stack, RULE_TRANSFORM, f"{kind} exists only after the SAM transform expands it", logical_id)
        if kind.endswith("::MODULE"):
            yield _finding(
                stack, RULE_TRANSFORM, f"{kind} is a CloudFormation module expanded at deploy time", logical_id
            )
        if kind in EXTERNAL_CONTENT_TYPES:
            yield _finding(
                stack, RULE_NESTED, f"{kind} deploys {EXTERNAL_CONTENT_TYPES[kind]}, not in the assembly", logical_id
            )
        if logical_id in stack.external_nested:
            url = (resource.get("Properties") or {}).get("TemplateURL")
            yield _finding(
                stack, RULE_NESTED, f"nested stack template {cfn.Resolver(stack.body).value(url)} is not in the "
                "assembly: its resources cannot be judged", logical_id,
            )  # fmt: skip
        if kind == CUSTOM_RESOURCE_TYPE or kind.startswith("Custom::"):
            problem = _custom_resource_problem(resolver, resource)
            if problem:
                yield _finding(stack, RULE_CUSTOM, problem, logical_id)
        yield from _suppressions(stack, logical_id, resource.get("Metadata"))


def _has_fn_transform(value: Any) -> bool:
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if "Fn::Transform" in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _custom_resource_problem(resolver: cfn.Resolver, resource: Mapping[str, Any]) -> str:
    properties = resource.get("Properties")
    token = resolver.value(properties.get("ServiceToken")) if isinstance(properties, Mapping) else None
    if (
        isinstance(token, cfn.Symbol)
        and token.kind == "getatt"
        and token.attribute == "Arn"
        and token.resource_type == LAMBDA_FUNCTION_TYPE
        and token.origin == "this"
    ):
        return ""
    shown = token.reason if isinstance(token, cfn.Unknown) else str(token)
    return (
        f"its ServiceToken ({shown}) is not the Arn of a Lambda function defined in this template: "
        "what the custom resource creates or changes is invisible to the gate"
    )


def _suppressions(stack: StackTemplate, logical_id: str, metadata: Any) -> Iterator[Finding]:
    if not isinstance(metadata, Mapping):
        return
    for key in SUPPRESSION_METADATA:
        if key in metadata:
            where = f"resource {logical_id}" if logical_id else "the template"
            yield _finding(
                stack, RULE_SUPPRESSION, f"{where} carries '{key}' metadata, an exception outside policies/waivers.yaml",
                logical_id, status=Status.FAILED,
            )  # fmt: skip
