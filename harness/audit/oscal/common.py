"""What every OSCAL document of a run shares: stable uuids, properties, metadata with parties and roles,
control and statement ids, back-matter resources, hrefs that resolve from ``reports/oscal/``.

trestle's models are imported inside the functions: importing them costs about a second, which
:func:`harness.audit.oscal.prewarm` spends in a background thread while the gate waits on its tools.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.audit.evidence import RunTimes
from harness.catalog import nist_oscal_id
from harness.errors import HarnessError

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:stg-gate")
# Our own properties; the rule properties use compliance-trestle's namespace so its tools read them.
GATE_NS = "urn:stg-gate"
TRESTLE_NS = "https://oscal-compass.github.io/compliance-trestle/schemas/oscal/cd"
ASSESSMENT_FILE = "assessment.yaml"  # policies/assessment.yaml: the organization the documents name
ORGANIZATION, ASSESSOR = "organization", "assessor"
# Roles of the documents' parties (OSCAL's metadata roles; "risk-owner" is each waiver's owner).
ROLES = {
    "system-owner": "System owner",
    "prepared-for": "Prepared for",
    "assessor": "Assessor",
    "prepared-by": "Prepared by",
    "risk-owner": "Owner of an accepted risk",
}


def new(model: Any, /, **fields: Any) -> Any:
    """A trestle model from field names (its models populate by name; mypy sees only the JSON aliases)."""
    return model(**fields)


@functools.lru_cache(maxsize=1 << 16)  # the same subject, tool or control is named by many findings
def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def control_id(framework: str, control: str) -> str:
    """The OSCAL control id (a token): NIST's own (``sc-28.1``); PCI DSS and FSBP ids prefixed where needed."""
    if framework.startswith("nist"):
        return nist_oscal_id(control)
    if framework.startswith("pci"):
        return f"pcidss-{control}"
    return control


def statement_id(framework: str, control: str) -> str:
    """The control's statement (OSCAL's ``<control-id>_smt`` part): what a finding about a control targets."""
    return f"{control_id(framework, control)}_smt"


def prop(name: str, value: str, *, ns: str = GATE_NS, remarks: str | None = None) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    return new(common.Property, name=name, value=" ".join(value.split()) or "-", ns=ns, remarks=remarks)


def text(value: str) -> str:
    return " ".join(value.split()) or "-"


def href(target: Path, *, oscal_dir: Path) -> str:
    """A relative href to ``target`` from the documents' folder, so it resolves where the reports are."""
    return Path(os.path.relpath(target.resolve(), oscal_dir.resolve())).as_posix()


# ------------------------------------------------------------------------------------ parties


@dataclass(frozen=True, kw_only=True)
class Parties:
    """The organization (policies/assessment.yaml), the gate as assessor, and each waiver owner."""

    organization: str
    short_name: str
    remarks: str
    gate_version: str  # the digest of harness/ (harness.audit.evidence.harness_digest)
    commit: str = ""
    risk_owners: tuple[str, ...] = ()

    def uuid_of(self, party: str) -> str:
        return stable_uuid("party", party)

    def owner_uuid(self, owner: str) -> str:
        return self.uuid_of(f"owner:{owner}")


def load_parties(policies_dir: Path, *, gate_version: str, commit: str, owners: Sequence[str]) -> Parties:
    """The parties, or one HarnessError line naming the file, the key and a valid example."""
    path = policies_dir / ASSESSMENT_FILE
    example = "organization: {name: Payments company, short_name: payments}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise HarnessError(f"{path} cannot be read ({error}): it names the organization of the OSCAL documents "
                           f"(valid example: {example})") from None  # fmt: skip
    organization = data.get("organization") if isinstance(data, dict) else None
    name = organization.get("name") if isinstance(organization, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise HarnessError(f"{path}: key organization.name has invalid value {name!r}: must be a non-empty string "
                           f"(valid example: {example})")  # fmt: skip
    assert isinstance(organization, dict)  # checked above
    return Parties(
        organization=name.strip(),
        short_name=str(organization.get("short_name") or ""),
        remarks=str(organization.get("remarks") or ""),
        gate_version=gate_version,
        commit=commit,
        risk_owners=tuple(sorted(set(owners))),
    )


def metadata(title: str, *, version: str, times: RunTimes, parties: Parties, risk_owners: bool = False) -> Any:
    """Metadata with the run's time, the parties and their roles (the owners of accepted risks when asked)."""
    from trestle.oscal import OSCAL_VERSION, common  # noqa: PLC0415

    org, gate = parties.uuid_of(ORGANIZATION), parties.uuid_of(ASSESSOR)
    party_list = [
        new(common.Parties, uuid=org, type="organization", name=parties.organization,
            short_name=parties.short_name or None, remarks=parties.remarks or None),
        new(common.Parties, uuid=gate, type="organization",
            name=f"Compliance gate (python -m harness, {parties.gate_version})",
            short_name="compliance-gate", props=[prop("version", parties.gate_version),
                                                 *([prop("commit", parties.commit)] if parties.commit else [])],
            remarks="The automated assessor: this repository's compliance gate, identified by the digest of its code."),
    ]  # fmt: skip
    responsible = {"system-owner": [org], "prepared-for": [org], "assessor": [gate], "prepared-by": [gate]}
    if risk_owners and parties.risk_owners:
        party_list += [
            new(common.Parties, uuid=parties.owner_uuid(owner), type="organization", name=owner,
                member_of_organizations=[org])
            for owner in parties.risk_owners
        ]  # fmt: skip
        responsible["risk-owner"] = [parties.owner_uuid(o) for o in parties.risk_owners]
    return new(
        common.Metadata,
        title=title,
        last_modified=times.finished,
        version=version,
        oscal_version=OSCAL_VERSION,
        props=[prop("time-source", times.source)],
        roles=[new(common.Role, id=role, title=ROLES[role]) for role in responsible],
        parties=party_list,
        responsible_parties=[
            new(common.ResponsibleParty, role_id=role, party_uuids=uuids) for role, uuids in responsible.items()
        ],
    )


# ------------------------------------------------------------------------------------ back matter


def resource(key: str, *, title: str, description: str, link: str | None = None, sha256: str | None = None) -> Any:
    """A back-matter resource: a file with its relative href (and SHA-256), or, when the file is not here, its hash."""
    from trestle.oscal import common  # noqa: PLC0415

    hashes = [new(common.Hash, algorithm="SHA-256", value=sha256)] if sha256 else None
    return new(
        common.Resource,
        uuid=stable_uuid("resource", key),
        title=title,
        description=description,
        rlinks=[new(common.Rlink, href=link, hashes=hashes)] if link else None,
        props=[prop("sha256", sha256)] if sha256 and not link else None,
    )


def serialize(model: Any) -> bytes:
    """Compact JSON: the documents are read by tools (trestle, an assessor's), not by people (controls.md is)."""
    data: bytes = model.oscal_serialize_json_bytes(pretty=False) + b"\n"
    return data
