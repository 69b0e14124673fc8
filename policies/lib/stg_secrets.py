"""Secret material in plaintext: where a template may carry it, and how it is recognised.

Recognition is detect-secrets' (the bc-detect-secrets build checkov itself ships; the gate's
venv pins the same version): its regex detectors (AWS keys, private keys, credentials in URLs,
JWTs, vendor tokens) on every literal string, and its keyword detector on every
``"name": "value"`` pair, as it would read a JSON file. Its entropy detectors are left out:
CDK writes long hex hashes (asset names, logical ids) that would be flagged everywhere.

Structure adds what no detector can see: a property whose *name* says it holds a password,
secret or token (``MasterUserPassword``, ``SecretString``, an environment variable
``DB_PASSWORD``) must not hold a literal value, and a ``NoEcho`` parameter must not have a
``Default`` (the default is printed in the template for anyone who can read it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from policies.lib.cfn_references import dynamic_references, whole_reference_service

_DETECTORS: tuple[BasePlugin, ...] = (
    ArtifactoryDetector(),
    AWSKeyDetector(),
    AzureStorageKeyDetector(),
    BasicAuthDetector(),
    DiscordBotTokenDetector(),
    GitHubTokenDetector(),
    JwtTokenDetector(),
    MailchimpDetector(),
    NpmDetector(),
    PrivateKeyDetector(),
    SendGridDetector(),
    SlackDetector(),
    SquareOAuthDetector(),
    StripeDetector(),
    TwilioKeyDetector(),
)
_KEYWORD = KeywordDetector()
_PRIVATE_KEY_HEADER = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
# detect-secrets' BasicAuthDetector follows RFC 3986 and skips a password with a reserved
# character ("p@ss!"), which is exactly what generated passwords contain; this one does not.
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^\s/]+@[^\s/@]+", re.IGNORECASE)
# Names of properties, variables and tags that hold a credential when they hold a value at all.
SECRET_NAME = re.compile(
    r"(?i)(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth[_-]?key)"
)
# ... unless the name says it holds a reference to one, or settings about one.
REFERENCE_NAME = re.compile(
    r"(?i)(arn|id|ids|name|names|length|type|rotation|template|generate|exclude|include|manage|requireeach|"
    r"policy|version|stage|kmskey|url|uri|endpoint|enabled|required|secretsmanager|ssm)$"
)
ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:\S+$")
# A whole dynamic reference to a secret store keeps a credential out of the template.
_SECRET_STORES = frozenset({"secretsmanager", "ssm-secure"})


# A boolean written as a string ("ManageMasterUserPassword": "true") is a setting, not a credential.
_FLAGS = frozenset({"true", "false"})

# Keys that name a sibling "Value" (a tag's Key, an SSM parameter's Name, an option's name):
# {"Key": "db_password", "Value": "..."} holds a password as surely as {"db_password": "..."}.
PAIR_NAME_KEYS = ("Key", "Name", "ParameterKey", "OptionName", "ParameterName")


def strings(value: Any, path: str = "", name: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, name, literal string) for every string inside raw template data.

    The name is the nearest key's, except for the ``Value`` of a name/value pair, whose name is
    the pair's (the last segment of an SSM path such as ``/db/master-password``).
    """
    if isinstance(value, str):
        yield path, name or path.rsplit(".", 1)[-1], value
    elif isinstance(value, Mapping):
        if len(value) == 1 and next(iter(value)) in ("Ref", "Fn::GetAtt", "Fn::ImportValue"):
            return  # a reference, not a literal
        pair_name = next((n for n in (_literal_text(value.get(k)) for k in PAIR_NAME_KEYS) if n), "")
        for key, inner in value.items():
            inner_name = re.split(r"[/:]", pair_name.rstrip("/:"))[-1] if key == "Value" and pair_name else ""
            yield from strings(inner, f"{path}.{key}" if path else str(key), inner_name)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from strings(inner, f"{path}.{index}" if path else str(index))


def _literal_text(value: Any) -> str:
    """A name as written: a string, or the text of an ``Fn::Sub`` (``/${Env}/db/password`` still
    ends in ``password``); "" for anything else."""
    if isinstance(value, Mapping) and len(value) == 1 and "Fn::Sub" in value:
        value = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) and value["Fn::Sub"] else value["Fn::Sub"]
    return value if isinstance(value, str) else ""


def detected(text: str, *, name: str = "value") -> list[str]:
    """Which detectors recognise secret material in ``text`` (empty: none)."""
    found = [type(d).__name__ for d in _DETECTORS if list(d.analyze_string(text))]
    if _PRIVATE_KEY_HEADER.search(text):
        found.append("PrivateKeyDetector")
    if _URL_CREDENTIALS.search(text):
        found.append("credentials in a URL")
    # The keyword detector reads the name too: not for an ARN under a name that says it holds a
    # reference ("SecretId": "arn:aws:secretsmanager:..." names a secret, it does not hold one).
    # Only ARNs: an environment variable DB_PASSWORD_ID is named by whoever hides a password in it.
    if not (REFERENCE_NAME.search(name) and ARN.match(text.strip())):
        for number, line in enumerate(text.splitlines() or [text], start=1):
            if _KEYWORD.analyze_line(filename="template.json", line=_json_pair(name, line), line_number=number):
                found.append("KeywordDetector")
                break
    return sorted(set(found))


def _json_pair(name: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{name}": "{escaped}"'


def secret_named(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not REFERENCE_NAME.search(name)


def problems(value: Any, *, where: str) -> list[str]:
    """Secret material in plaintext inside raw template data, one line each (empty: none)."""
    found = []
    for path, name, text in strings(value):
        if (
            not text.strip()
            or whole_reference_service(text.strip()) in _SECRET_STORES
            or text.strip().lower() in _FLAGS
        ):
            continue
        location = f"{where}.{path}" if path else where
        detectors = detected(text, name=name)
        if detectors:
            found.append(f"{location} holds secret material ({', '.join(detectors)})")
        elif secret_named(name):
            found.append(f"{location} holds a literal value in a property named for a secret")
    return found


def exposed_references(value: Any, *, where: str, write_only: Sequence[str] = ()) -> list[str]:
    """Secret dynamic references resolved where CloudFormation keeps the value readable, one line each.

    CloudFormation resolves ``{{resolve:secretsmanager:...}}`` wherever it is written and then shows
    and stores the result like any other value: an output, a tag, a description, an environment
    variable prints the secret for everyone who can describe the stack or the resource. Only a
    property the type's schema declares write-only (``MasterUserPassword``, ``SecretString``) is
    never read back, so that is the only place a secret reference may feed (``write_only``: the
    type's paths, ``A.B`` or ``A.*.B``; none for template sections and metadata).
    """
    allowed = [path.split(".") for path in write_only]
    found = []
    for path, _name, text in strings(value):
        # CloudFormation resolves a reference inside a longer string too: any one of a secret store counts.
        if not any(service in _SECRET_STORES for service, _ in dynamic_references(text)):
            continue
        segments = _property_segments(path)
        if any(segments[: len(w)] == w for w in allowed if len(w) <= len(segments)):
            continue
        location = f"{where}.{path}" if path else where
        found.append(
            f"{location} resolves a secret dynamic reference where CloudFormation shows and stores the value "
            "in plain text (only a write-only property of the resource type takes one)"
        )
    return found


def _property_segments(path: str) -> list[str]:
    """A path as the schema writes it: intrinsic functions dropped, list indexes as ``*``."""
    return ["*" if s.isdigit() else s for s in path.split(".") if s and not s.startswith("Fn::")]


def code_problems(code: str, *, where: str, filename: str) -> list[str]:
    """Secret material in inline function code (Lambda ZipFile), line by line as detect-secrets reads code."""
    found = []
    for number, line in enumerate(code.splitlines(), start=1):
        detectors = [type(d).__name__ for d in _DETECTORS if list(d.analyze_string(line))]
        if _KEYWORD.analyze_line(filename=filename, line=line, line_number=number):
            detectors.append("KeywordDetector")
        if detectors:
            found.append(f"{where} line {number} holds secret material ({', '.join(sorted(set(detectors)))})")
    return found


def template_section_problems(body: Mapping[str, Any]) -> list[str]:
    """Secret material in the template's own sections: parameter defaults, outputs, mappings, metadata."""
    found: list[str] = []
    declared = body.get("Parameters")
    parameters: Mapping[str, Any] = declared if isinstance(declared, Mapping) else {}
    no_echo = set()
    for name, declaration in parameters.items():
        if not isinstance(declaration, Mapping):
            continue
        default = declaration.get("Default")
        if str(declaration.get("NoEcho", "")).lower() == "true":
            no_echo.add(name)
            if default not in (None, ""):
                found.append(f"Parameters.{name} is NoEcho but has a Default, printed in the template")
                continue
        if isinstance(default, str) and default.strip() and (secret_named(name) or detected(default, name=name)):
            found.append(f"Parameters.{name}.Default holds secret material")
    section = body.get("Outputs")
    outputs: Mapping[str, Any] = section if isinstance(section, Mapping) else {}
    for name, output in outputs.items():
        value = output.get("Value") if isinstance(output, Mapping) else None
        if _references_any(value, no_echo):
            found.append(f"Outputs.{name} prints a NoEcho parameter in plain text")
        found += problems(value, where=f"Outputs.{name}.Value")
        found += exposed_references(output, where=f"Outputs.{name}")
    for section in ("Mappings", "Metadata"):
        found += problems(body.get(section), where=section)
        found += exposed_references(body.get(section), where=section)
    found += exposed_references(parameters, where="Parameters")
    return found


def _references_any(value: Any, names: set[str]) -> bool:
    if isinstance(value, Mapping):
        if value.get("Ref") in names:
            return True
        sub = value.get("Fn::Sub")
        text = sub[0] if isinstance(sub, list) and sub else sub
        if isinstance(text, str) and any(f"${{{n}}}" in text for n in names):
            return True
        return any(_references_any(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_references_any(v, names) for v in value)
    return False
