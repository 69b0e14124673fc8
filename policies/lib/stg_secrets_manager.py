"""Secrets Manager as the policies see it: dynamic references, and secrets that must work as an RDS password.

- :func:`secret_text`: a property as written text, with its
  ``{{resolve:service:reference}}`` kept (the resolver reads a dynamic reference as unknown:
  its value is fetched at deploy time, but a rule about *where* a credential comes from needs
  the reference itself; ``cfn_references`` reads the references in it).
- :func:`password_problems`: whether a secret of the template, used as an RDS master password,
  generates a value RDS accepts and the project's password rules allow. A secret that
  generates ``/``, ``"`` or ``@`` cannot become the master password (RDS refuses them), so the
  instance cannot be created or rotated with it, whatever else the template says.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from policies.lib.cfn_references import whole_reference_service

SECRET = "AWS::SecretsManager::Secret"
ATTACHMENT = "AWS::SecretsManager::SecretTargetAttachment"
SCHEDULE = "AWS::SecretsManager::RotationSchedule"


def secret_text(ctx: lib.Context, logical_id: str, path: str) -> str | cfn.Unknown | None:
    """A property as written text, dynamic references kept (None if absent).

    Symbols render as ``${Name}``; anything else the template does not determine is :class:`cfn.Unknown`.
    """
    written: Any = lib.properties(ctx.template, logical_id)
    for key in path.split("."):
        if not isinstance(written, Mapping) or key not in written:
            return None
        written = written[key]
    if isinstance(written, str):
        return written
    value = ctx.resolver.value(written)
    if value is cfn.NO_VALUE:
        return None
    if isinstance(value, str | cfn.Text):
        return str(value)
    if isinstance(value, cfn.Unknown):
        return value
    return cfn.Unknown(f"{path} is {lib.describe(value)}, not a string")


def is_secrets_manager_reference(text: str) -> bool:
    """True if the whole text is one ``{{resolve:secretsmanager:...}}`` dynamic reference."""
    return whole_reference_service(text) == "secretsmanager"


def reference_parts(reference: str) -> tuple[str, str]:
    """(secret id, JSON key) of a Secrets Manager reference ``secret-id:SecretString:json-key:...``."""
    secret_id, _, rest = reference.partition(":SecretString")
    json_key = rest.lstrip(":").split(":", 1)[0] if rest else ""
    return secret_id, json_key


# --------------------------------------------------------------------------------------
# A generated secret as an RDS master password
# --------------------------------------------------------------------------------------

# RDS: "The password can include any printable ASCII character except "/", """, or "@"."
RDS_FORBIDDEN = '/"@'
# RDS for PostgreSQL accepts 8 to 128 characters; PCI DSS v4.0.1 8.3.6 asks for at least 12.
PASSWORD_LENGTH = (12, 128)
DEFAULT_LENGTH = 32  # Secrets Manager's GenerateSecretString default


def password_problems(ctx: lib.Context, secret: str, json_key: str) -> lib.Verdict:
    """Whether ``secret`` generates a value RDS takes as its master password under ``json_key``."""
    generate = ctx.value(secret, "GenerateSecretString")
    if generate is cfn.NO_VALUE:
        return lib.failed(
            f"secret {secret} has no GenerateSecretString: its value is written in the template or set by hand, "
            "never generated"
        )
    if not isinstance(generate, Mapping):
        return lib.unknown_in(generate, f"{secret} GenerateSecretString") or lib.failed(
            f"secret {secret} GenerateSecretString is {lib.describe(generate)}"
        )
    verdicts = [_selected_key(secret, generate, json_key), _length(secret, generate), _characters(secret, generate)]
    return lib.worst([v for v in verdicts if v is not None])


def _selected_key(secret: str, generate: Mapping[str, Any], json_key: str) -> lib.Verdict | None:
    key = generate.get("GenerateStringKey", cfn.NO_VALUE)
    if isinstance(key, cfn.Unknown):
        return lib.not_evaluated(f"secret {secret} GenerateStringKey: {key.reason}")
    if key is cfn.NO_VALUE and json_key:
        return lib.failed(
            f"the reference reads JSON key {json_key!r} of secret {secret}, which generates a plain string"
        )
    if key is not cfn.NO_VALUE and key != json_key:
        what = f"JSON key {json_key!r}" if json_key else "the whole JSON document (with its quotes)"
        return lib.failed(f"the reference reads {what} of secret {secret}, whose password is under {key!r}")
    return None


def _length(secret: str, generate: Mapping[str, Any]) -> lib.Verdict | None:
    length = generate.get("PasswordLength", DEFAULT_LENGTH)
    number = lib.as_number(length)
    if number is None:
        return lib.unknown_in(length, f"{secret} PasswordLength") or lib.failed(
            f"secret {secret} PasswordLength is {lib.describe(length)}"
        )
    low, high = PASSWORD_LENGTH
    if not low <= number <= high:
        return lib.failed(
            f"secret {secret} generates {int(number)}-character passwords: RDS for PostgreSQL takes at most {high} "
            f"and PCI DSS 8.3.6 asks for at least {low}"
        )
    return None


def _characters(secret: str, generate: Mapping[str, Any]) -> lib.Verdict | None:
    punctuation = lib.truth(generate.get("ExcludePunctuation", False))
    excluded = generate.get("ExcludeCharacters", "")
    if punctuation is None or not isinstance(excluded, str):
        undecided = generate.get("ExcludePunctuation") if punctuation is None else excluded
        return lib.unknown_in(undecided, f"{secret} GenerateSecretString") or lib.not_evaluated(
            f"secret {secret}: which characters it generates is not determined ({lib.describe(undecided)})"
        )
    if punctuation:
        return None
    missing = [c for c in RDS_FORBIDDEN if c not in excluded]
    if missing:
        return lib.failed(
            f"secret {secret} may generate {' '.join(missing)} (ExcludeCharacters {excluded!r}): RDS refuses a master "
            'password with / " or @, so creating or rotating the instance with it fails'
        )
    return None
