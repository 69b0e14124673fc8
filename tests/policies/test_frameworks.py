"""Control ids in policies/mappings: valid for their framework (NIST's OSCAL catalog, the PCI DSS and
FSBP id lists), inside the reviewed scope, each mapping with a one-line rationale."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from harness.catalog import (
    POLICIES_DIR,
    Tool,
    is_known,
    load_frameworks,
    load_mappings,
    nist_oscal_id,
    validate_controls,
)

NIST_CATALOG = POLICIES_DIR / "frameworks" / "ids" / "NIST_SP-800-53_rev5_catalog-min.json"
# The catalog is vendored unchanged from usnistgov/oscal-content (see policies/frameworks/README.md).
NIST_CATALOG_SHA256 = "acf65f034c6226137a89e949545ca3fbd1bab923253e9ea028fd49acee5a6da1"


def test_every_mapped_control_is_a_valid_in_scope_id() -> None:
    assert validate_controls(load_frameworks(), load_mappings()) == []


def test_every_mapping_has_a_rationale_and_every_framework_a_definition() -> None:
    mappings = load_mappings()
    assert all(m.rationale and "\n" not in m.rationale for m in mappings)
    assert {m.framework_key for m in mappings} == {f.key for f in load_frameworks()}


def test_nist_catalog_is_nists_unchanged() -> None:
    assert hashlib.sha256(NIST_CATALOG.read_bytes()).hexdigest() == NIST_CATALOG_SHA256
    metadata = json.loads(NIST_CATALOG.read_text(encoding="utf-8"))["catalog"]["metadata"]
    assert metadata["version"] == "5.0.1" and "800-53" in metadata["title"]


def _withdrawn_nist_control() -> str:
    catalog = json.loads(NIST_CATALOG.read_text(encoding="utf-8"))["catalog"]
    for group in catalog["groups"]:
        for control in group["controls"]:
            if any(p.get("name") == "status" and p.get("value") == "withdrawn" for p in control.get("props", [])):
                label = next(p["value"] for p in control["props"] if p["name"] == "label")
                return str(label)
    raise AssertionError("the catalog has no withdrawn control")


def test_nist_ids_are_read_from_the_catalog() -> None:
    nist = next(f for f in load_frameworks() if f.key == "nist-800-53-r5")
    assert nist_oscal_id("SC-28(1)") == "sc-28.1"
    assert is_known(nist, "SC-28(1)") and is_known(nist, "AC-2")
    assert not is_known(nist, "SC-28(9)") and not is_known(nist, "sc-28.1") and not is_known(nist, "CP-9d")
    assert not is_known(nist, _withdrawn_nist_control())


@pytest.mark.parametrize(
    ("file_name", "bad"),
    [
        ("nist_sp_800_53_rev5.yaml", "SC-99"),
        ("nist_sp_800_53_rev5.yaml", "withdrawn"),
        ("pci_dss_v4_0_1.yaml", "3.5.9"),
        ("aws_fsbp.yaml", "KMS.4"),  # a Security Hub control, but not in the FSBP standard
    ],
)
def test_a_wrong_control_id_in_a_mapping_fails(tmp_path: Path, file_name: str, bad: str) -> None:
    if bad == "withdrawn":
        bad = _withdrawn_nist_control()
    root = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "mappings" / file_name
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(e for e in document["mappings"] if e.get("tool", "project") == "project")
    entry["controls"] = [*entry["controls"], bad]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    problems = validate_controls(load_frameworks(root), load_mappings(root))
    assert len(problems) == 1
    assert re.search(rf"{re.escape(entry['check_id'])}: control '{re.escape(bad)}' is not a .* id", problems[0])


def test_a_mapped_control_outside_the_reviewed_scope_fails(tmp_path: Path) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "frameworks" / "pci_dss_v4_0_1.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["scope"] = [s for s in document["scope"] if s["control"] != "10.5.1"]
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    problems = validate_controls(load_frameworks(root), load_mappings(root))
    assert problems == [
        "mappings (PCI DSS v4.0.1), project CKV_STG_LOG_2: control '10.5.1' is not in the reviewed scope pci_dss_v4_0_1.yaml"
    ]


@pytest.mark.parametrize(
    ("value", "message"), [(None, "field 'rationale' is required"), ("two\nlines", "must be one line")]
)
def test_a_mapping_without_a_one_line_rationale_is_refused(tmp_path: Path, value: str | None, message: str) -> None:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    path = root / "mappings" / "aws_fsbp.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if value is None:
        document["mappings"][0].pop("rationale")
    else:
        document["mappings"][0]["rationale"] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_mappings(root)
    assert "aws_fsbp.yaml" in str(error.value) and "CKV_STG_RDS_1" in str(error.value)


def test_the_pci_pack_of_cdk_nag_is_labelled_3_2_1() -> None:
    from harness.catalog import NAG_PACK_LABELS, render_catalog_markdown  # noqa: PLC0415

    assert "PCI DSS 3.2.1" in NAG_PACK_LABELS["PCI.DSS.321"]
    markdown = render_catalog_markdown()
    rows = [line for line in markdown.splitlines() if "`PCI.DSS.321-" in line]
    assert rows and all("PCI DSS 3.2.1" in row for row in rows)
    assert all(m.tool is not Tool.CDK_NAG or not m.check_id.startswith("HIPAA") for m in load_mappings())
