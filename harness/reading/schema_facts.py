"""Facts about every CloudFormation resource type, read from the provider schemas cfn-lint ships.

The project's policies run inside checkov's venv, which has no cfn-lint, so the facts they
need are written once to ``policies/lib/cfn_types.json`` (``python -m harness.reading.schema_facts``)
and a unit test keeps that file equal to what the pinned cfn-lint's schemas say. Nothing is
downloaded: cfn-lint's wheel carries the schemas
(``cfnlint/data/schemas/providers/us-east-1.json`` maps a type to a file under ``resources/``).

Per type (a fact that is false or empty is left out):
- ``taggable``: the schema's ``tagging.taggable`` (which resources must carry the spec's tags);
- ``key_properties``: property paths (``A.B``, ``List.*.C``) whose name says they hold a KMS key
  for data at rest (which resources the encryption policy must have a reviewed rule for);
- ``policy_properties``: property paths that hold a resource policy document (with principals);
- ``principal_properties``: property paths that name principals directly (``Principal``, ``SourceAccount``);
- ``create_only``: ``createOnlyProperties`` (a change replaces the resource);
- ``write_only``: ``writeOnlyProperties`` as paths (``MasterUserPassword``, ``Code.ZipFile``): the
  properties CloudFormation never reads back or shows, the only ones a secret dynamic reference may feed;
- ``tag_property``: the schema's ``tagging.tagProperty`` as a property path (``UserPoolTags``,
  ``TagSpecifications.*.Tags``), written only where it is not ``Tags``: where the tags are judged.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

FACTS_FILE = Path(__file__).resolve().parents[2] / "policies" / "lib" / "cfn_types.json"
REGION = "us-east-1"

_KEY_NAME = re.compile(r"(?i)(kms|encryptionkey|keyarn$|^keyid$|cmk)")
# Names that match the pattern but hold no data-at-rest key (settings, flags, other key kinds).
_NOT_A_KEY = re.compile(
    r"(?i)(period|seconds|enabled|encryptedobjects|keypair|keyname|accesskey|apikey|sshkey|publickey|"
    r"keyspec|keyusage|keypolicy|keyrotation|keyalgorithm|keystate|keyformat)"
)
# Properties that hold a resource policy (a document with principals) or name principals directly.
_POLICY_NAME = re.compile(
    r"(?i)^(policydocument|keypolicy|resourcepolicy|accesspolicies|accesspolicy|policytext|repositorypolicytext|"
    r"filesystempolicy|policy|assumerolepolicydocument|resourcebasedpolicy)$"
)
_PRINCIPAL_NAME = re.compile(r"(?i)^(principal|principals|allowedprincipals|principalarn|sourceaccount)$")
_MAX_DEPTH = 6


@functools.cache
def schemas_dir() -> Path:
    """cfn-lint's copy of the provider schemas, found without importing cfn-lint (~0.6 s of CPU)."""
    spec = importlib.util.find_spec("cfnlint")  # test and lint venvs only
    if spec is None or spec.origin is None:
        raise HarnessError("cfn-lint is not installed: its provider schemas (cfnlint/data/schemas) are needed")
    return Path(spec.origin).resolve().parent / "data" / "schemas"


def _definition(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        found = schema.get("definitions", {}).get(ref.rsplit("/", 1)[-1], {})
        return found if isinstance(found, Mapping) else {}
    return node


def _paths(
    schema: Mapping[str, Any], properties: Mapping[str, Any], prefix: str, depth: int, wanted: Callable[[str], bool]
) -> Iterator[str]:
    """Property paths (``A.B``, ``List.*.C``) whose name ``wanted`` accepts, through $refs and list items."""
    if depth > _MAX_DEPTH:
        return
    for name, node in sorted(properties.items()):
        if not isinstance(node, Mapping):
            continue
        path = f"{prefix}{name}"
        if wanted(name):
            yield path
        resolved = _definition(schema, node)
        if isinstance(resolved.get("properties"), Mapping):
            yield from _paths(schema, resolved["properties"], f"{path}.", depth + 1, wanted)
        items = resolved.get("items")
        if isinstance(items, Mapping):
            item = _definition(schema, items)
            if isinstance(item.get("properties"), Mapping):
                yield from _paths(schema, item["properties"], f"{path}.*.", depth + 1, wanted)


def _is_key(name: str) -> bool:
    return bool(_KEY_NAME.search(name)) and not _NOT_A_KEY.search(name)


def _is_policy(name: str) -> bool:
    return bool(_POLICY_NAME.match(name))


def _is_principal(name: str) -> bool:
    return bool(_PRINCIPAL_NAME.match(name))


def _create_only(schema: Mapping[str, Any]) -> list[str]:
    return sorted(p.removeprefix("/properties/").replace("/", ".") for p in schema.get("createOnlyProperties") or [])


def _write_only(schema: Mapping[str, Any]) -> list[str]:
    return sorted(p.removeprefix("/properties/").replace("/", ".") for p in schema.get("writeOnlyProperties") or [])


def _tag_property(schema: Mapping[str, Any]) -> str:
    """The taggable type's tag property as a path, "" where it is ``Tags`` (the default) or the type takes none."""
    tagging = schema.get("tagging") or {}
    found = str(tagging.get("tagProperty") or "/properties/Tags") if tagging.get("taggable", False) else ""
    path = found.removeprefix("/properties/").replace("/", ".")
    return "" if path in ("", "Tags") else path


def build(directory: Path | None = None) -> dict[str, Any]:
    root = directory or schemas_dir()
    index = json.loads((root / "providers" / f"{REGION}.json").read_text(encoding="utf-8"))
    types: dict[str, Any] = {}
    for resource_type, digest in sorted(index.items()):
        schema = json.loads((root / "resources" / f"{digest}.json").read_text(encoding="utf-8"))
        properties = schema.get("properties") or {}
        if resource_type in ("AWS::KMS::Key", "AWS::KMS::ReplicaKey", "AWS::KMS::Alias"):
            key_paths: list[str] = []  # the keys themselves
        else:
            key_paths = sorted(set(_paths(schema, properties, "", 0, _is_key)))
        facts = {
            "taggable": bool((schema.get("tagging") or {}).get("taggable", False)),
            "key_properties": key_paths,
            "policy_properties": sorted(set(_paths(schema, properties, "", 0, _is_policy))),
            "principal_properties": sorted(set(_paths(schema, properties, "", 0, _is_principal))),
            "create_only": _create_only(schema),
            "write_only": _write_only(schema),
            "tag_property": _tag_property(schema),
        }
        types[resource_type] = {name: value for name, value in facts.items() if value}  # absent = false / none
    version = (
        json.loads((root / "version.json").read_text(encoding="utf-8")) if (root / "version.json").exists() else {}
    )
    return {"source": f"cfn-lint provider schemas ({REGION})", "schemas_version": version, "types": types}


def render(facts: Mapping[str, Any]) -> str:
    return json.dumps(facts, indent=1, sort_keys=True) + "\n"


def main() -> int:
    FACTS_FILE.write_text(render(build()), encoding="utf-8")
    print(f"wrote {FACTS_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
