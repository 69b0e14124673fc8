"""IAM policy documents as the project's policies read them: what they grant, to whom, and whether a call passes.

Three jobs, each over *resolved* documents (``cfn_resolver`` values; a document may also be a
JSON string or a ``Fn::Join``/``Fn::Sub`` of one, see :func:`stg_policy_lib.parse_json_text`):

- :func:`wildcard_grants`: wildcard actions an Allow grants (CKV_STG_IAM_1);
- principals: whether a principal is this stack's account (CKV_STG_IAM_2, key policies);
- :func:`decide`: whether a document lets this account's IAM principals make one call through
  one AWS service (a key policy that must let RDS or Secrets Manager use the stack's key), with
  Deny statements and the common condition keys evaluated. What the template does not
  determine, or a condition key this module does not model, is "cannot tell", never a pass.

No library evaluates IAM documents offline against a template's own values (AWS's policy
simulator is an API call), so the small subset the policies need is written here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib

# --------------------------------------------------------------------------------------
# Wildcard actions
# --------------------------------------------------------------------------------------

_IAM_WILDCARD = re.compile(r"[*?]")


@dataclass(frozen=True)
class Grants:
    """What the Allow statements of a policy document grant beyond named actions."""

    wildcards: tuple[str, ...] = ()  # "statement Sid: s3:Get*"
    undetermined: tuple[str, ...] = ()  # what the template does not fix, with why


def statement_label(statement: Any, where: str, index: int) -> str:
    sid = statement.get("Sid") if isinstance(statement, Mapping) else None
    return f"{where} statement {sid if isinstance(sid, str) else f'#{index}'}"


def _statement_grants(statement: Any, where: str, index: int) -> Grants:
    """Wildcards one statement allows (nothing for a Deny), and what it leaves open."""
    if not isinstance(statement, Mapping):
        reason = lib.undetermined(statement) or lib.describe(statement)
        return Grants(undetermined=(f"{where} statement #{index}: {reason}",))
    label = statement_label(statement, where, index)
    effect = statement.get("Effect")
    if effect == "Deny":
        return Grants()
    found = [f"NotAction {lib.describe(statement['NotAction'])}"] if "NotAction" in statement else []
    open_ended: list[str] = []
    for action in as_list(statement.get("Action", [])):
        if not isinstance(action, str):
            open_ended.append(f"{label}: action {lib.undetermined(action) or lib.describe(action)}")
        elif _IAM_WILDCARD.search(action):
            found.append(action)
    if found and not isinstance(effect, str):
        open_ended.append(f"{label} grants {', '.join(found)} if its Effect ({lib.describe(effect)}) is Allow")
        found = []
    return Grants(wildcards=tuple(f"{label}: {f}" for f in found), undetermined=tuple(open_ended))


def statements(document: Any) -> list[Any] | cfn.Unknown | str:
    """The statements of a resolved document; Unknown (or a reason) when it is not one the template fixes."""
    document = lib.parse_json_text(document)
    if not isinstance(document, Mapping):
        return cfn.Unknown(lib.undetermined(document) or f"not a policy document: {lib.describe(document)}")
    return as_list(document.get("Statement", []))


def wildcard_grants(document: Any, *, where: str = "document") -> Grants:
    """Wildcard actions (``*``/``?``, or any NotAction) granted by Allow statements of a resolved document.

    Statements, effects and actions the template does not determine are listed in
    ``undetermined``: they may grant anything.
    """
    found = statements(document)
    if not isinstance(found, list):
        return Grants(undetermined=(f"{where}: {found.reason if isinstance(found, cfn.Unknown) else found}",))
    each = [_statement_grants(s, where, i) for i, s in enumerate(found)]
    return Grants(
        wildcards=tuple(w for g in each for w in g.wildcards),
        undetermined=tuple(u for g in each for u in g.undetermined),
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --------------------------------------------------------------------------------------
# Principals
# --------------------------------------------------------------------------------------

ACCOUNT = "{this-account}"  # the account symbol, spelled without ":" so ARNs still split
REGION = "{this-region}"
# Pseudo parameters the stack's environment may leave open, spelled without ":" so ARNs still split.
PSEUDO_TEXT = {"AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "{partition}",
               "AWS::URLSuffix": "{url-suffix}"}  # fmt: skip
_ARN_ACCOUNT = re.compile(r"^arn:[^:]+:(iam|sts)::(?P<account>[^:]*):(?P<resource>.*)$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
IDENTITY_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})


def text_of(ctx: lib.Context, value: Any) -> str | None:
    """A resolved value as text, this account spelled :data:`ACCOUNT` (pseudo parameters the environment leaves
    open as :data:`PSEUDO_TEXT`, resources as ``${Name.Attribute}``); None if the template does not fix it."""
    if isinstance(value, str):
        account = ctx.environment.account
        return value.replace(account, ACCOUNT) if account else value
    if isinstance(value, cfn.Symbol):
        return PSEUDO_TEXT.get(value.name) if value.kind == "pseudo" else None
    if isinstance(value, cfn.Text):
        pieces = [text_of(ctx, p) if isinstance(p, str) or p.kind == "pseudo" else str(p) for p in value.parts]
        return None if any(p is None for p in pieces) else "".join(p for p in pieces if p is not None)
    return None


def is_this_account(ctx: lib.Context, account: str) -> bool | None:
    """True for this stack's account; False for a literal other account (an account-agnostic stack has
    no literal account of its own); None when the template does not determine it."""
    if account == ACCOUNT or (ctx.environment.account is not None and account == ctx.environment.account):
        return True
    return False if _ACCOUNT_ID.match(account) else None


def account_of(ctx: lib.Context, value: Any) -> tuple[str, str] | None:
    """(account, resource) an AWS principal names (``123456789012`` alone is that account's root); None if undetermined."""
    found = lib.symbol(value)
    if found is not None and found.kind in ("ref", "getatt") and found.resource_type in IDENTITY_TYPES:
        return ACCOUNT, found.name
    text = text_of(ctx, value)
    if text is None:
        return None
    match = _ARN_ACCOUNT.match(text)
    return (match["account"], match["resource"]) if match else (text, "root")


# --------------------------------------------------------------------------------------
# Does a document let this account make one call?
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A call this account's IAM principals make through an AWS service, and what a policy sees of it."""

    actions: tuple[str, ...]
    context: Mapping[str, str]  # lower-case condition keys the call carries -> value (:data:`ACCOUNT`)
    purpose: str  # for reasons: "RDS encrypting the database's storage"
    # An AWS service calling as its own principal (``cloudwatch.amazonaws.com`` publishing an alarm to an
    # encrypted topic); "" for this account's IAM principals.
    service: str = ""

    @property
    def caller(self) -> str:
        return self.service or "this account's principals"


YES, NO = "yes", "no"


def _action_matches(statement: Mapping[str, Any], action: str) -> bool | None:
    def hit(patterns: Any) -> bool | None:
        listed = as_list(patterns)
        if not all(isinstance(p, str) for p in listed):
            return None
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in listed)

    if "NotAction" in statement:
        excluded = hit(statement["NotAction"])
        return None if excluded is None else not excluded
    return hit(statement.get("Action", []))


def _principal_matches(ctx: lib.Context, statement: Mapping[str, Any]) -> bool | None:
    """Whether the statement's principal is the account's IAM principals (root delegation or '*').

    '*' and the account as a whole (its root: delegation to IAM) count; a role or user of the
    account may or may not be the caller (cannot tell); other accounts and services do not.
    """
    if "NotPrincipal" in statement:
        listed = _aws_principals(statement["NotPrincipal"])
        accounts = [account_of(ctx, p) for p in listed] if listed is not None else None
        if accounts is None or any(a is None for a in accounts):
            return None
        return not any(a is not None and a[0] == ACCOUNT and a[1] == "root" for a in accounts)
    principal = statement.get("Principal")
    if principal == "*":
        return True
    listed = _aws_principals(principal)
    if listed is None:
        return None
    verdicts = [True if entry == "*" else _is_the_account(ctx, entry) for entry in listed]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _service_matches(ctx: lib.Context, statement: Mapping[str, Any], service: str) -> bool | None:
    """Whether the statement's principal is the AWS service ``service`` ('*' counts; None: cannot tell)."""
    if "NotPrincipal" in statement:
        return None
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return None
    listed = (*as_list(principal.get("AWS", [])), *as_list(principal.get("Service", [])))
    # A resource of this template (a role's Arn) is never the service, whatever its name turns out to be.
    named = ["" if isinstance(p, cfn.Symbol) and p.kind != "pseudo" else text_of(ctx, p) for p in listed]
    if "*" in named or service in named:
        return True
    return None if None in named else False


def _is_the_account(ctx: lib.Context, principal: Any) -> bool | None:
    """True for this account as a whole; None for one of its roles or users (it may or may not be the caller:
    a Deny may hit it, an Allow may be its own); False for another account."""
    found = account_of(ctx, principal)
    if found is None:
        return None
    mine = is_this_account(ctx, found[0])
    if mine is not True:
        return mine
    return True if found[1] == "root" else None


def _aws_principals(principal: Any) -> list[Any] | None:
    if isinstance(principal, Mapping):
        return as_list(principal.get("AWS", []))
    return None if principal is None or isinstance(principal, cfn.Unknown | cfn.Text | cfn.Symbol) else []


_STRING_TESTS: Mapping[str, Callable[[str, str], bool]] = {
    "stringequals": lambda actual, wanted: actual == wanted,
    "stringequalsignorecase": lambda actual, wanted: actual.lower() == wanted.lower(),
    "stringlike": fnmatch.fnmatchcase,
    "arnequals": lambda actual, wanted: actual == wanted,
    "arnlike": fnmatch.fnmatchcase,
    "bool": lambda actual, wanted: actual.lower() == wanted.lower(),
}
_NEGATED = {"stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
            "stringnotlike": "stringlike", "arnnotequals": "arnequals", "arnnotlike": "arnlike"}  # fmt: skip


def _null_holds(ctx: lib.Context, key: str, wanted: Any, request: Request) -> bool | None:
    """``Null``: whether the call carries no ``key`` (only the keys the request models are known to be there)."""
    expected = text_of(ctx, wanted[0] if isinstance(wanted, list) and len(wanted) == 1 else wanted)
    if expected is None or key not in request.context:
        return None
    return expected.lower() == "false"


def _test_holds(ctx: lib.Context, operator: str, key: str, wanted: Any, request: Request) -> bool | None:
    # ForAnyValue:/ForAllValues: over one value is the plain test; ...IfExists is too, for a key the call carries.
    name = operator.lower().split(":", 1)[-1].removesuffix("ifexists")
    key = key.lower()
    if name == "null":
        return _null_holds(ctx, key, wanted, request)
    negated = name in _NEGATED
    test = _STRING_TESTS.get(_NEGATED.get(name, name))
    if test is None or key not in request.context:
        return None  # an operator or a condition key this module does not model: cannot tell
    values = [text_of(ctx, v) for v in as_list(wanted)]
    if any(v is None for v in values):
        return None
    actual = request.context[key]
    hit = any(test(actual, v) or _any_region(actual, v) for v in values if v is not None)
    return not hit if negated else hit


def _any_region(actual: str, wanted: str) -> bool:
    """A call whose Region the template leaves open (no stack environment) matches the same call in any Region:
    ``rds.{this-region}.amazonaws.com`` is ``rds.us-east-1.amazonaws.com`` wherever the stack deploys."""
    if REGION not in actual or REGION in wanted:
        return False
    pattern = re.escape(actual).replace(re.escape(REGION), "[a-z0-9-]+")
    return re.fullmatch(pattern, wanted) is not None


def _conditions_hold(ctx: lib.Context, condition: Any, request: Request) -> bool | None:
    if condition is None or condition is cfn.NO_VALUE:
        return True
    if not isinstance(condition, Mapping):
        return None
    results = [
        _test_holds(ctx, str(operator), str(key), wanted, request) if isinstance(tests, Mapping) else None
        for operator, tests in condition.items()
        for key, wanted in (tests.items() if isinstance(tests, Mapping) else [("", None)])
    ]
    if False in results:
        return False
    return None if None in results else True


def _applies(ctx: lib.Context, statement: Any, action: str, request: Request, *, effect: str) -> bool | None:
    if not isinstance(statement, Mapping):
        return None
    if statement.get("Effect") not in ("Allow", "Deny"):
        return None
    if statement["Effect"] != effect:
        return False
    results = (
        _action_matches(statement, action),
        _service_matches(ctx, statement, request.service) if request.service else _principal_matches(ctx, statement),
        _conditions_hold(ctx, statement.get("Condition"), request),
    )
    if False in results:
        return False
    return None if None in results else True


def _statement_hits(ctx: lib.Context, statement: Any, action: str, resource: Callable[[str], bool]) -> bool | None:
    """Whether an identity policy statement surely covers ``action`` on the resource (None: it may)."""
    if not isinstance(statement, Mapping) or statement.get("Effect") not in ("Allow", "Deny"):
        return None
    action_hit = _action_matches(statement, action)
    if "NotResource" in statement:
        resource_hit: bool | None = None
    else:
        texts = [text_of(ctx, r) for r in as_list(statement.get("Resource", []))]
        resource_hit = any(t is not None and resource(t) for t in texts) or (None if None in texts else False)
    results = (action_hit, resource_hit, statement.get("Condition") in (None, cfn.NO_VALUE) or None)
    if False in results:
        return False
    return None if None in results else True


def identity_allows(
    ctx: lib.Context, documents: Sequence[Any], action: str, resource: Callable[[str], bool]
) -> bool | None:
    """Whether identity policy documents (attached to one role or user) let it call ``action`` on a resource
    ``resource`` accepts (its ARN as :func:`text_of` spells it): an Allow that surely applies and no Deny that
    may. False: surely not; None: the documents do not tell."""
    allows: list[bool | None] = []
    deny_may_apply = False
    for document in documents:
        found = statements(document)
        if not isinstance(found, list):
            return None
        for statement in found:
            hit = _statement_hits(ctx, statement, action, resource)
            if isinstance(statement, Mapping) and statement.get("Effect") == "Deny":
                if hit is True:
                    return False
                deny_may_apply = deny_may_apply or hit is None
            elif hit is not False:
                allows.append(hit)
    if deny_may_apply:
        return None
    return True if True in allows else (None if None in allows else False)


def _not_allowed(request: Request, action: str, *, where: str, undecided: bool) -> str:
    via = request.context.get("kms:viaservice")
    what = f"{action}{f' through {via}' if via else ''}"
    if undecided:
        return f"whether {where} lets {request.service or 'this account'} call {what} cannot be told"
    if request.service:
        return f"{where} does not let {request.service} call {what}: {request.purpose} fails"
    return f"{where} lets no principal of this account call {what}: {request.purpose} fails"


def decide(ctx: lib.Context, document: Any, request: Request, *, where: str) -> lib.Verdict:
    """Whether ``document`` lets this account's IAM principals (or ``request.service``) make ``request``: every action allowed by a
    statement that surely applies, and no Deny that applies (or may)."""
    found = statements(document)
    if not isinstance(found, list):
        return lib.not_evaluated(f"{where}: {found.reason if isinstance(found, cfn.Unknown) else found}")
    failures: list[str] = []
    open_ended: list[str] = []
    for action in request.actions:
        for index, statement in enumerate(found):
            denied = _applies(ctx, statement, action, request, effect="Deny")
            label = statement_label(statement, where, index)
            if denied is True:
                failures.append(f"{label} denies {action} to {request.caller}: {request.purpose} fails")
            elif denied is None:
                open_ended.append(f"whether {label} denies {action} ({request.purpose}) cannot be told")
        allowed = [_applies(ctx, s, action, request, effect="Allow") for s in found]
        if True not in allowed:
            (open_ended if None in allowed else failures).append(
                _not_allowed(request, action, where=where, undecided=None in allowed)
            )
    if failures:
        return lib.failed("; ".join(dict.fromkeys(failures)))
    if open_ended:
        return lib.not_evaluated("; ".join(dict.fromkeys(open_ended)))
    return lib.passed()
