"""CKV_STG_IAM_2: key and resource policies grant nothing outside the account or named AWS services.

Python because principals hide in many places: ``Principal``/``NotPrincipal`` of every Allow
statement of every policy document (key policies, topic/queue/bucket/secret/log resource
policies, role trust policies, endpoint policies, documents given as JSON strings), and the
``Principal``/``SourceAccount`` properties of permission resources. Which properties hold a
policy or a principal is read from CloudFormation's schemas (``policies/lib/cfn_types.json``),
so a new resource type with principals is judged, or NOT EVALUATED until reviewed.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib

METADATA = {
    "id": "CKV_STG_IAM_2",
    "name": "Key and resource policies grant access only inside the account or to named AWS services",
    "category": "IAM",
    "severity": "CRITICAL",
    "rationale": (
        "A key policy or resource policy that names another account, a federated or anonymous principal, or '*' "
        "without pinning the caller to this account, opens the stack's key, secrets, topics or logs to someone "
        "this account's IAM does not govern (PCI DSS 7.2.1, NIST AC-3, AC-6). Service principals are allowed when "
        "they name one AWS service. NotPrincipal in an Allow grants everyone else. Principals the template does "
        "not determine (a parameter, an import) cannot be judged."
    ),
    "requirements": ["REQ-SEC-04", "REQ-CON-03", "REQ-SEC-03"],
    "remediation": (
        "Name principals of this account (arn:aws:iam::${AWS::AccountId}:root, roles of this stack) or one AWS "
        "service (logs.us-east-1.amazonaws.com); for '*' add a Condition pinning aws:PrincipalAccount, "
        "aws:SourceAccount or kms:CallerAccount to ${AWS::AccountId}; give every VPC endpoint a policy "
        "(endpoint.add_to_policy with iam.AccountRootPrincipal()), or it allows everyone."
    ),
    "resource_types": ["*"],
    "judges": {
        "AWS::KMS::Key": ["KeyPolicy"],
        "AWS::SecretsManager::ResourcePolicy": ["ResourcePolicy"],
        "AWS::EC2::VPCEndpoint": ["PolicyDocument"],
        "AWS::IAM::Role": ["AssumeRolePolicyDocument"],
    },
}

ACCOUNT = iam.ACCOUNT
_SERVICE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$")
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:(iam|sts)::(?P<account>[^:]*):")
# Condition keys that pin the caller (or the calling resource) to one account.
ACCOUNT_KEYS = frozenset({"aws:principalaccount", "aws:sourceaccount", "kms:calleraccount", "aws:sourceowner"})
PINNING_OPERATORS = frozenset({"stringequals", "stringlike", "arnequals", "arnlike"})
IDENTITY_TYPES = iam.IDENTITY_TYPES
# Permission resources whose Principal/SourceAccount properties this policy has reviewed.
REVIEWED_PRINCIPAL_TYPES = frozenset({"AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission"})
# Resources whose *missing* policy is not "nothing granted" but AWS's default one, which allows
# every principal of every account every action: an interface or gateway VPC endpoint.
DEFAULT_OPEN = {"AWS::EC2::VPCEndpoint": "PolicyDocument"}
ENDPOINT_TYPES_WITH_POLICIES = frozenset({"Interface", "Gateway"})  # Gateway is the default type


_text = iam.text_of
is_this_account = iam.is_this_account


def aws_principal(ctx: lib.Context, value: Any) -> lib.Verdict:
    found = lib.symbol(value)
    if found is not None and found.kind in ("ref", "getatt") and found.resource_type in IDENTITY_TYPES:
        return lib.passed()
    if isinstance(value, cfn.Unknown):
        return lib.not_evaluated(f"principal {value.reason}")
    text = _text(ctx, value)
    if text is None:
        return lib.not_evaluated(f"principal {lib.describe(value)} is not determined by the template")
    if text == "*":
        return lib.failed("principal '*'")
    match = _ARN_ACCOUNT.match(text)
    account = match["account"] if match else text
    decided = is_this_account(ctx, account)
    if decided is None:
        return lib.not_evaluated(f"principal {text}: its account is not determined by the template")
    return lib.passed() if decided else lib.failed(f"principal {text} is outside this stack's account")


def service_principal(value: Any) -> lib.Verdict:
    if isinstance(value, cfn.Unknown):
        return lib.not_evaluated(f"service principal {value.reason}")
    text = str(value) if isinstance(value, cfn.Text) else value
    if isinstance(text, str):
        text = text.replace("${AWS::Region}", "region").replace("${AWS::URLSuffix}", "amazonaws.com")
    if isinstance(text, str) and _SERVICE.match(text):
        return lib.passed()
    return lib.failed(f"service principal {lib.describe(value)} does not name one AWS service")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def pins_account(ctx: lib.Context, condition: Any) -> bool:
    """True if a statement's Condition pins the caller to this account."""
    if not isinstance(condition, Mapping):
        return False
    for operator, tests in condition.items():
        if str(operator).lower() not in PINNING_OPERATORS or not isinstance(tests, Mapping):
            continue
        for key, expected in tests.items():
            if str(key).lower() in ACCOUNT_KEYS:
                values = [_text(ctx, v) for v in _as_list(expected)]
                if values and all(
                    v is not None
                    and is_this_account(ctx, v.split(":")[4] if v.startswith("arn:") and v.count(":") >= 5 else v)
                    for v in values
                ):
                    return True
    return False


def judge_statement(ctx: lib.Context, statement: Any, where: str) -> lib.Verdict:
    if not isinstance(statement, Mapping):
        return lib.unknown_in(statement, where) or lib.not_evaluated(
            f"{where}: the statement is {lib.describe(statement)}"
        )
    effect = statement.get("Effect")
    if effect != "Allow":
        return (
            lib.passed()
            if effect == "Deny"
            else lib.unknown_in(effect, f"{where} Effect") or lib.failed(f"{where}: Effect {lib.describe(effect)}")
        )
    if "NotPrincipal" in statement:
        return lib.failed(f"{where}: NotPrincipal in an Allow grants every other principal")
    if "Principal" not in statement:
        return lib.passed()  # an identity policy: its principal is the identity it is attached to
    verdict = _principal_verdict(ctx, statement["Principal"], where)
    wildcard = verdict.status == lib.FAILED and "principal '*'" in verdict.reason
    if wildcard and pins_account(ctx, statement.get("Condition")):
        return lib.passed(f"{where}: '*' pinned to this account by its Condition")
    return verdict


def _principal_verdict(ctx: lib.Context, principal: Any, where: str) -> lib.Verdict:
    if principal == "*":
        return lib.failed(f"{where}: principal '*'")
    if isinstance(principal, cfn.Unknown):
        return lib.not_evaluated(f"{where}: principal {principal.reason}")
    if not isinstance(principal, Mapping):
        return lib.not_evaluated(f"{where}: principal {lib.describe(principal)}")
    verdicts = []
    for kind, values in sorted(principal.items()):
        for value in _as_list(values):
            if kind == "AWS":
                verdict = lib.failed("principal '*'") if value == "*" else aws_principal(ctx, value)
            elif kind == "Service":
                verdict = service_principal(value)
            else:
                verdict = lib.failed(f"{kind} principal {lib.describe(value)} is outside the account's IAM")
            verdicts.append(lib.Verdict(verdict.status, f"{where}: {verdict.reason}") if verdict.reason else verdict)
    return lib.worst(verdicts)


def documents(props: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(where, document) at a schema path (``A.*.B``) of resolved properties."""
    head, _, rest = path.partition(".")
    if isinstance(props, cfn.Unknown):
        yield path, props
    elif head == "*":
        for index, item in enumerate(props if isinstance(props, list) else []):
            for where, document in documents(item, rest):
                yield f"{index}.{where}", document
    elif isinstance(props, Mapping) and head in props:
        if rest:
            for where, document in documents(props[head], rest):
                yield f"{head}.{where}", document
        else:
            yield head, props[head]


def judge_document(ctx: lib.Context, document: Any, where: str) -> lib.Verdict:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return lib.not_evaluated(f"{where} is a string that is not a JSON policy document")
    if isinstance(document, cfn.Text):
        return lib.not_evaluated(f"{where} is a JSON string built at deploy time ({document})")
    if isinstance(document, cfn.Unknown):
        return lib.not_evaluated(f"{where}: {document.reason}")
    if not isinstance(document, Mapping):
        return lib.not_evaluated(f"{where} is {lib.describe(document)}, not a policy document")
    statements = document.get("Statement")
    return lib.worst([judge_statement(ctx, s, f"{where} statement #{i}") for i, s in enumerate(_as_list(statements))])


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    kind = ctx.type_of(logical_id)
    facts = lib.type_facts(kind)
    policy_paths, principal_paths = facts.get("policy_properties", []), facts.get("principal_properties", [])
    if not policy_paths and not principal_paths:
        return lib.not_applicable(f"{kind} holds no resource policy or principal (CloudFormation schema)")
    if principal_paths and kind not in REVIEWED_PRINCIPAL_TYPES:
        return lib.not_evaluated(f"{kind} names principals ({', '.join(principal_paths)}); no reviewed rule here")
    props = ctx.props(logical_id)
    if isinstance(props, cfn.Unknown):
        return lib.not_evaluated(props.reason)
    verdicts = [
        judge_document(ctx, document, where) for path in policy_paths for where, document in documents(props, path)
    ]
    if kind in REVIEWED_PRINCIPAL_TYPES:
        verdicts.append(_permission(ctx, props))
    if kind in DEFAULT_OPEN:
        verdicts.append(_default_policy(props, DEFAULT_OPEN[kind]))
    return lib.worst(verdicts)


def _default_policy(props: Mapping[str, Any], key: str) -> lib.Verdict:
    if props.get(key, cfn.NO_VALUE) is not cfn.NO_VALUE:
        return lib.passed()  # a policy is there: judge_document judged it
    endpoint_type = props.get("VpcEndpointType", "Gateway")
    if not isinstance(endpoint_type, str):
        return lib.unknown_in(endpoint_type, "VpcEndpointType") or lib.not_evaluated("VpcEndpointType is undetermined")
    if endpoint_type not in ENDPOINT_TYPES_WITH_POLICIES:
        return lib.not_applicable(f"a {endpoint_type} endpoint takes no policy")
    return lib.failed(
        f"no {key}: the endpoint gets AWS's default policy, which allows every principal of any account every action"
    )


def _permission(ctx: lib.Context, props: Mapping[str, Any]) -> lib.Verdict:
    principal = props.get("Principal", cfn.NO_VALUE)
    if principal is cfn.NO_VALUE:
        return lib.failed("a permission without a Principal")
    text = _text(ctx, principal)
    if text is not None and _SERVICE.match(text.replace(iam.REGION, "region").replace("{url-suffix}", "amazonaws.com")):
        return lib.passed()
    if principal == "*":
        account = props.get("SourceAccount")
        if account is not None and _text(ctx, account) is not None and is_this_account(ctx, str(_text(ctx, account))):
            return lib.passed()
        return lib.failed("Principal '*' without SourceAccount pinned to this account")
    return aws_principal(ctx, principal)


check = lib.make_check(METADATA, rule)
