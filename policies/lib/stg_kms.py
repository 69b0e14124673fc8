"""The stack's customer-managed key: which key a setting names, whether it is the stack's, and whether it works.

A key setting (``KmsKeyId``, ``PerformanceInsightsKMSKeyId``, ``MasterUserSecret.KmsKeyId``...)
may name a key by Ref, by ``Fn::GetAtt`` Arn or KeyId, by an alias name, by an alias or key ARN
(literal or built with ``Fn::Sub``/``Fn::Join``), through an alias of the template.
:func:`named_key` follows all of them to the ``AWS::KMS::Key`` resource, or says the setting
names no key of this stack (an AWS managed ``alias/aws/*`` key, an ARN of another account or
Region) or that the template cannot tell.

Naming the stack's key is not enough for the data to be encrypted with it. :func:`usable`
judges every property of the key that decides whether a service can encrypt with it at all,
or whether what it encrypts stays governed by it: ``Enabled``, ``KeySpec``, ``KeyUsage``,
``Origin`` (imported material), ``MultiRegion`` (copies of the key material in other
Regions), a replica key, and the key policy (it must let this account's principals use the
key through the service, and deny nothing of it). :class:`StackKeys` says which key is "the
stack's" when a template defines several. Every answer is computed once per template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_iam as iam
from policies.lib import stg_policy_lib as lib

KEY = "AWS::KMS::Key"
REPLICA_KEY = "AWS::KMS::ReplicaKey"
KEY_TYPES = (KEY, REPLICA_KEY)
ALIAS_TYPE = "AWS::KMS::Alias"
DATABASE_TYPES = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
_KMS_ARN = re.compile(r"^arn:[^:]*:kms:(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>(?:alias|key)/.*)$")
_REGION_SYMBOL = iam.REGION


# --------------------------------------------------------------------------------------
# Which key a setting names
# --------------------------------------------------------------------------------------


def alias_targets(ctx: lib.Context, alias_name: str) -> list[Any]:
    """The resolved TargetKeyId of every alias of the template named ``alias_name``."""
    return [
        ctx.value(alias, "TargetKeyId")
        for alias in ctx.of_type(ALIAS_TYPE)
        if str(ctx.value(alias, "AliasName")) == alias_name
    ]


def _here(ctx: lib.Context, region: str, account: str) -> bool | None:
    """Whether an ARN's Region and account are this stack's (None: the template does not tell)."""
    stack_region = ctx.environment.region
    in_region = region == _REGION_SYMBOL or (stack_region is not None and region == stack_region)
    if not in_region:
        return None if stack_region is None and "${" not in region and region else False
    return iam.is_this_account(ctx, account)


def _key_arn_symbol(value: cfn.Text) -> cfn.Symbol | None:
    """The key symbol at the end of a key ARN built from its KeyId (``arn:...:key/${Key.KeyId}``)."""
    *head, last = value.parts
    if isinstance(last, cfn.Symbol) and last.resource_type in KEY_TYPES and last.attribute in ("", "KeyId"):
        prefix = "".join(str(p) for p in head)
        return last if prefix.endswith(":key/") else None
    return None


def named_key(ctx: lib.Context, value: Any, *, depth: int = 0) -> cfn.Symbol | cfn.Unknown | None:
    """The KMS key resource (of this stack or its parent) that ``value`` names, directly or through an
    alias of this template; Unknown when the template cannot tell; None when it names no such key."""
    if isinstance(value, cfn.Unknown):
        return value
    if depth >= 3:  # alias to alias to alias: KMS aliases point at keys, never at aliases
        return None
    found = lib.symbol(value)
    if found is not None:
        return _named_by_symbol(ctx, found, depth)
    if isinstance(value, str | cfn.Text):
        return _named_by_text(ctx, value, depth)
    return None


def _named_by_symbol(ctx: lib.Context, found: cfn.Symbol, depth: int) -> cfn.Symbol | cfn.Unknown | None:
    if found.resource_type in KEY_TYPES:
        return found if found.attribute in ("", "Arn", "KeyId") else None
    if found.resource_type == ALIAS_TYPE and found.origin == "this":
        return named_key(ctx, ctx.value(found.name, "TargetKeyId"), depth=depth + 1)
    return None


def _named_by_text(ctx: lib.Context, value: str | cfn.Text, depth: int) -> cfn.Symbol | cfn.Unknown | None:
    """A key named in text: an alias name, or an alias or key ARN of this stack's account and Region."""
    text = iam.text_of(ctx, value)
    if text is None:
        return cfn.Unknown(f"the key {lib.describe(value)} is not determined by the template")
    arn = _KMS_ARN.match(text)
    if arn is not None:
        here = _here(ctx, arn["region"], arn["account"])
        if here is not True:
            return None if here is False else cfn.Unknown(f"whether {text} is this stack's Region and account")
        text = arn["resource"]
        if text.startswith("key/"):
            return _key_arn_symbol(value) if isinstance(value, cfn.Text) else None
    if not text.startswith("alias/") or text.startswith("alias/aws/"):
        return None  # a key id or ARN of a key outside the template, or an AWS managed key
    targets = alias_targets(ctx, text)
    if len(targets) > 1:
        return cfn.Unknown(f"{len(targets)} aliases of the template are named {text}")
    return named_key(ctx, targets[0], depth=depth + 1) if targets else None


# --------------------------------------------------------------------------------------
# Which key is the stack's
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StackKeys:
    """What "the stack's key" means in one template: with one key, that key; with several, the one
    the database is encrypted with (a second key elsewhere is data its key policy does not govern)."""

    count: int  # KMS keys the template defines
    database: frozenset[str]  # logical ids of the keys its databases use

    @classmethod
    def of(cls, ctx: lib.Context) -> StackKeys:
        return ctx.fact(("stg_kms.StackKeys",), lambda: cls._compute(ctx))

    @classmethod
    def _compute(cls, ctx: lib.Context) -> StackKeys:
        keys = ctx.of_type(*KEY_TYPES)
        if len(keys) < 2:
            return cls(count=len(keys), database=frozenset())
        used = (named_key(ctx, ctx.value(db, "KmsKeyId")) for db in ctx.of_type(*DATABASE_TYPES))
        return cls(
            count=len(keys),
            database=frozenset(k.name for k in used if isinstance(k, cfn.Symbol) and k.origin == "this"),
        )

    def judge(self, key: cfn.Symbol, where: str) -> lib.Verdict:
        """A customer-managed key of the stack: with several in the template, it must be the database's."""
        if self.count < 2 or key.origin != "this":
            return lib.passed()
        if len(self.database) != 1:
            return lib.not_evaluated(
                f"{where}: the template defines {self.count} KMS keys and no single one encrypts the database, "
                "so which is the stack's key cannot be told"
            )
        (stack_key,) = self.database
        if key.name != stack_key:
            return lib.failed(f"{where} uses key {key.name}, not the stack's key {stack_key} (the database's)")
        return lib.passed()


# --------------------------------------------------------------------------------------
# Whether the key works for what it encrypts
# --------------------------------------------------------------------------------------

# What a service asks KMS for, as the caller's principal, when it encrypts with a customer-managed
# key (AWS documentation: RDS "Authorizing use of a KMS key" and Secrets Manager "Secret
# encryption and decryption"): RDS creates a grant and describes the key; Secrets Manager
# generates data keys and decrypts.
SERVICE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    "rds": ("kms:CreateGrant", "kms:DescribeKey"),
    "secretsmanager": ("kms:GenerateDataKey", "kms:Decrypt"),
}
# Other uses (logs, sns, ...) are judged on the key's own settings; their key-policy statements
# name service principals and encryption contexts this module does not model.

# KMS's default key policy (no KeyPolicy): the account root may call kms:*.
DEFAULT_KEY_POLICY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": cfn.Text(("arn:aws:iam::", cfn.Symbol("pseudo", "AWS::AccountId"), ":root"))},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
}

_KEY_SETTINGS: tuple[tuple[str, Any, str], ...] = (
    # (property, its value when absent, why any other value defeats encryption with the stack's key)
    ("Enabled", True, "a disabled key can neither encrypt nor decrypt: creating or reading the data fails"),
    ("KeySpec", "SYMMETRIC_DEFAULT", "RDS, Secrets Manager and CloudWatch Logs encrypt only with symmetric keys"),
    ("KeyUsage", "ENCRYPT_DECRYPT", "a key for signing or MACs cannot encrypt data"),
    (
        "Origin",
        "AWS_KMS",
        "imported key material: the key is unusable until someone imports material outside the template, "
        "KMS cannot rotate it and the material may expire",
    ),
    (
        "MultiRegion",
        False,
        "a multi-Region key's material can be replicated to other Regions: data encrypted with it can be decrypted "
        "outside this Region and deleting this key does not shred it",
    ),
)


def _request(ctx: lib.Context, service: str, purpose: str) -> iam.Request:
    region = ctx.environment.region or _REGION_SYMBOL
    return iam.Request(
        actions=SERVICE_ACTIONS[service],
        context={
            "kms:viaservice": f"{service}.{region}.amazonaws.com",
            "kms:calleraccount": iam.ACCOUNT,
            "aws:principalaccount": iam.ACCOUNT,
            "aws:resourceaccount": iam.ACCOUNT,
            "kms:grantisforawsresource": "true",
        },
        purpose=purpose,
    )


def _settings(ctx: lib.Context, key: str) -> list[lib.Verdict]:
    verdicts = []
    for name, default, why in _KEY_SETTINGS:
        value = ctx.value(key, name)
        if value is cfn.NO_VALUE:
            continue
        undetermined = lib.unknown_in(value, f"key {key} {name}")
        if undetermined is not None or lib.undetermined(value) is not None:
            verdicts.append(undetermined or lib.not_evaluated(f"key {key} {name}: {lib.undetermined(value)}"))
        elif lib.truth(value) != default if isinstance(default, bool) else value != default:
            verdicts.append(lib.failed(f"key {key} has {name} {lib.describe(value)}: {why}"))
    return verdicts


def _judge_usable(ctx: lib.Context, key: cfn.Symbol, service: str | None, purpose: str) -> lib.Verdict:
    if key.origin != "this":
        return lib.passed()  # the parent template's key: judged where it is defined
    if key.resource_type == REPLICA_KEY:
        primary = lib.describe(ctx.value(key.name, "PrimaryKeyArn"))
        return lib.failed(
            f"key {key.name} is a replica of {primary}: its material, rotation and deletion are governed by the "
            "primary key in another Region, not by this stack"
        )
    props = ctx.props(key.name)
    if isinstance(props, cfn.Unknown):
        return lib.not_evaluated(f"key {key.name}: {props.reason}")
    verdicts = _settings(ctx, key.name)
    if service is not None:
        policy = props.get("KeyPolicy", cfn.NO_VALUE) if isinstance(props, Mapping) else cfn.NO_VALUE
        document = DEFAULT_KEY_POLICY if policy is cfn.NO_VALUE else policy
        verdicts.append(iam.decide(ctx, document, _request(ctx, service, purpose), where=f"key {key.name} KeyPolicy"))
    return lib.worst(verdicts)


def usable(ctx: lib.Context, key: cfn.Symbol, *, service: str | None, purpose: str) -> lib.Verdict:
    """Whether the stack's key ``key`` can encrypt ``purpose`` through ``service`` (``rds``, ``secretsmanager``;
    None: the key's own settings only), and keeps what it encrypts under this stack's control."""
    return ctx.fact(("stg_kms.usable", key, service, purpose), lambda: _judge_usable(ctx, key, service, purpose))


def judge_setting(ctx: lib.Context, value: Any, *, where: str, purpose: str, service: str | None) -> lib.Verdict:
    """A key setting that must name the stack's customer-managed key, usable for ``purpose``.

    Absent fails (the AWS managed default key), another key fails, a key the template cannot
    determine is not evaluated; the named key must then work (:func:`usable`).
    """
    if value is cfn.NO_VALUE:
        return lib.failed(f"{where} is not set: {purpose} uses the AWS managed default key, not the stack's key")
    key = named_key(ctx, value)
    if isinstance(key, cfn.Unknown):
        return lib.unknown_in(value, where) or lib.not_evaluated(f"{where}: {key.reason}")
    if key is None:
        return lib.failed(f"{where} is {lib.describe(value)}, not the stack's customer-managed key ({purpose})")
    return lib.worst([StackKeys.of(ctx).judge(key, where), usable(ctx, key, service=service, purpose=purpose)])
