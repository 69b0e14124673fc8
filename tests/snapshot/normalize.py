"""What the snapshots leave out, and why: only infrastructure changes may change a snapshot.

Two kinds of rule. *Removals* (``normalize_template``) drop parts of a template that the CDK
toolchain adds and that describe the toolchain, not the stack. *Masks* (``SNAPSHOT_MATCHER``,
syrupy ``path_value`` matchers applied while serializing) replace values that vary with the
CDK release or the deploy environment by a fixed placeholder, keeping the key visible so a
reviewer still sees that, say, a Lambda's code location exists.

Everything else stays, on purpose, even when a CDK upgrade changes it (e.g. the ``Runtime`` of
CDK's custom-resource handler): a different runtime is a different deployment, and a reviewer
must see it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from syrupy.matchers import compose_matchers, path_value
from syrupy.types import PropertyMatcher

Template = dict[str, Any]


@dataclass(frozen=True)
class Removal:
    name: str
    reason: str
    apply: Callable[[Template], None]


def _drop(section: str, *keys: str) -> Callable[[Template], None]:
    def apply(template: Template) -> None:
        entries = template.get(section)
        if isinstance(entries, dict):
            for key in keys:
                entries.pop(key, None)
            if not entries:
                del template[section]

    return apply


def _drop_toolchain_metadata(template: Template) -> None:
    for resource in template.get("Resources", {}).values():
        metadata = resource.get("Metadata")
        if not isinstance(metadata, dict):
            continue
        for key in [k for k in metadata if k.startswith(("aws:cdk:", "aws:asset:"))]:
            del metadata[key]
        if not metadata:
            del resource["Metadata"]


REMOVALS: tuple[Removal, ...] = (
    Removal(
        "CDKMetadata resource",
        "Added by the CDK CLI's version reporting: a gzipped list of construct library versions. It changes "
        "with every CDK upgrade, is absent when pytest synthesizes without the CLI, and deploys nothing.",
        _drop("Resources", "CDKMetadata"),
    ),
    Removal(
        "CDKMetadataAvailable condition",
        "Only guards the CDKMetadata resource (regions where it is supported).",
        _drop("Conditions", "CDKMetadataAvailable"),
    ),
    Removal(
        "BootstrapVersion parameter",
        "DefaultStackSynthesizer's SSM lookup of the bootstrap stack version; the minimum version belongs "
        "to the CDK release, not to this stack.",
        _drop("Parameters", "BootstrapVersion"),
    ),
    Removal(
        "CheckBootstrapVersion rule",
        "The deploy-time assertion paired with BootstrapVersion; its version list changes with CDK releases.",
        _drop("Rules", "CheckBootstrapVersion"),
    ),
    Removal(
        "aws:cdk:* and aws:asset:* resource metadata",
        "Construct paths and local asset paths (temp dirs, absolute paths) that the CLI adds with "
        "--path-metadata/--asset-metadata; CloudFormation ignores them and they differ per machine.",
        _drop_toolchain_metadata,
    ),
)


def normalize_template(template: Template) -> Template:
    """A deep copy of ``template`` with every :data:`REMOVALS` rule applied."""
    normalized = copy.deepcopy(template)
    for removal in REMOVALS:
        removal.apply(normalized)
    return normalized


# --------------------------------------------------------------------------- masks

ASSET_HASH_PLACEHOLDER = "<asset-hash>"
ASSET_BUCKET_PLACEHOLDER = "<cdk-assets-bucket>"


@dataclass(frozen=True)
class Mask:
    name: str
    reason: str
    path: str  # regex, fullmatched against the dotted path (syrupy semantics)
    value: str  # regex, fullmatched against the value; group 1 is replaced
    placeholder: str

    def matcher(self) -> PropertyMatcher:
        placeholder = self.placeholder

        def replace(data: Any, match: re.Match[str] | None) -> Any:
            return data[: match.start(1)] + placeholder + data[match.end(1) :] if match else data

        return path_value({self.path: self.value}, types=(str,), replacer=replace, regex=True)


MASKS: tuple[Mask, ...] = (
    Mask(
        "asset hash in S3Key",
        "Content hash of CDK-provided handler code (here the custom resource that closes the default "
        "security group). It changes with CDK releases although our infrastructure did not; the file "
        "extension stays so a switch from a zip to another asset type still shows.",
        path=r"Resources\.[^.]+\.Properties\.(?:.+\.)?S3Key",
        value=r"([0-9a-f]{64})\.(?:zip|json|tar\.gz)",
        placeholder=ASSET_HASH_PLACEHOLDER,
    ),
    Mask(
        "CDK assets bucket name",
        "cdk-<qualifier>-assets-<account>-<region> is the bootstrap stack's bucket: the qualifier comes "
        "from how the target account was bootstrapped, not from this stack.",
        path=r"Resources\.[^.]+\.Properties\.(?:.+\.)?S3Bucket(?:\.Fn::Sub)?",
        value=r"(cdk-[a-z0-9]+-assets-\$\{AWS::AccountId\}-(?:[a-z0-9-]+|\$\{AWS::Region\}))",
        placeholder=ASSET_BUCKET_PLACEHOLDER,
    ),
)

SNAPSHOT_MATCHER: PropertyMatcher = compose_matchers(*(mask.matcher() for mask in MASKS))
