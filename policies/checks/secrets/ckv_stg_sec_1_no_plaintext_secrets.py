"""CKV_STG_SEC_1: no secret material in plaintext anywhere in the template.

Python because secrets hide in any string: a ``SecretString``, an RDS ``MasterUserPassword``,
function environment variables and inline code, tags, connection strings in any property,
and the template's own parameter defaults and outputs. Recognition is detect-secrets' plus
the names of the properties (``policies/lib/stg_secrets.py``). checkov hands this check one
resource at a time; the template's own sections (Parameters, Outputs, Mappings, Metadata) are
judged by the gate itself with the same library, under this policy's id.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parents[3]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository: policies.lib

from policies.lib import cfn_resolver as cfn
from policies.lib import stg_policy_lib as lib
from policies.lib import stg_secrets

METADATA = {
    "id": "CKV_STG_SEC_1",
    "name": "No secret material in plaintext anywhere in the template",
    "category": "SECRETS",
    "severity": "CRITICAL",
    "rationale": (
        "A template is read by CloudFormation, stored in the assembly and in S3, shown in the console and "
        "copied into pull requests and CI logs: a password, key or token written into it is disclosed to "
        "everyone who can read any of those (PCI DSS 8.3.2, 3.5; NIST IA-5(7), SC-28). Credentials come from "
        "Secrets Manager (the RDS-managed master password, dynamic references), never from literals: not in a "
        "SecretString, a MasterUserPassword, function code or environment, a tag, a parameter default or an output, "
        "and not split into pieces that Fn::Join, Fn::Sub or Fn::Select put back together at deploy time. A "
        "{{resolve:secretsmanager:...}} reference feeds only a property the type's schema declares write-only: "
        "anywhere else (a tag, an output, an environment variable) CloudFormation shows the resolved secret."
    ),
    "requirements": ["REQ-SEC-01", "REQ-CON-03"],
    "judges": {
        "AWS::SecretsManager::Secret": ["SecretString"],
        "AWS::RDS::DBInstance": ["MasterUserPassword", "TdeCredentialPassword", "Tags"],
    },
    "remediation": (
        "Let RDS manage the master password (manage_master_user_password), generate secrets with "
        "secretsmanager.Secret(generate_secret_string=...), pass them as {{resolve:secretsmanager:...}} dynamic "
        "references or secret ARNs, and never echo a NoEcho parameter or give it a Default."
    ),
    "resource_types": ["*"],
}

CODE_FILENAMES = {"python": "index.py", "nodejs": "index.js", "ruby": "index.rb", "java": "Main.java"}


_ARN_TEXT = re.compile(r"^arn:(\$\{[^}]*\}|aws[a-z-]*):")


def rendered(value: Any) -> Any:
    """A resolved value as plain data: a string built with Fn::Join/Fn::Sub/Fn::Select... is the string it
    deploys as (symbols as ``${Name}``), so a secret split into pieces is read whole. A reference alone, an ARN
    built from references and what the template does not determine are not literals: dropped."""
    if isinstance(value, cfn.Text):
        document = lib.parse_json_text(value)
        if isinstance(document, Mapping | list):
            return rendered(document)
        return None if _ARN_TEXT.match(str(value)) else str(value)
    if isinstance(value, cfn.Symbol | cfn.Unknown):
        return None
    if isinstance(value, Mapping):
        return {k: rendered(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rendered(v) for v in value]
    return value


def rule(ctx: lib.Context, logical_id: str) -> lib.Verdict:
    resource = lib.resource(ctx.template, logical_id)
    written = resource.get("Properties")
    properties: Mapping[str, Any] = written if isinstance(written, Mapping) else {}
    found: list[str] = []
    kind = ctx.type_of(logical_id)
    if kind == "AWS::SecretsManager::Secret" and isinstance(properties.get("SecretString"), str):
        found.append("SecretString is a literal: the secret's value is in the template")
    code = (properties.get("Code") or {}).get("ZipFile") if isinstance(properties.get("Code"), Mapping) else None
    runtime = str(properties.get("Runtime", ""))
    if isinstance(code, str):
        filename = next((f for prefix, f in CODE_FILENAMES.items() if runtime.startswith(prefix)), "index.py")
        found += stg_secrets.code_problems(code, where="Code.ZipFile", filename=filename)
        properties = {k: v for k, v in properties.items() if k != "Code"}
    found += stg_secrets.problems(properties, where="Properties")
    write_only = lib.type_facts(kind).get("write_only", [])
    found += stg_secrets.exposed_references(resource.get("Properties"), where="Properties", write_only=write_only)
    resolved = ctx.props(logical_id)
    if kind == "AWS::SecretsManager::Secret" and isinstance(resolved, Mapping):
        secret = resolved.get("SecretString")
        if isinstance(secret, str) and not isinstance(properties.get("SecretString"), str):
            found.append(
                "SecretString is a literal built with intrinsic functions: the secret's value is in the template"
            )
    if isinstance(resolved, Mapping):  # what intrinsics assemble at deploy time, each problem reported once
        deployed = stg_secrets.problems(
            rendered({k: v for k, v in resolved.items() if k != "Code"}), where="Properties"
        )
        found += [f"{p} (as deployed)" for p in deployed if p not in found]
    found += stg_secrets.problems(resource.get("Metadata"), where="Metadata")
    found += stg_secrets.exposed_references(resource.get("Metadata"), where="Metadata")
    if found:
        return lib.failed("; ".join(dict.fromkeys(found)))
    return lib.passed()


check = lib.make_check(METADATA, rule)
