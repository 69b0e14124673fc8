"""Integrity of policies/: metadata, fixtures, requirements, mappings, waivers, the catalog."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from harness import catalog
from harness.catalog import (
    CHECKS_DIR,
    FIXTURE_KINDS,
    POLICIES_DIR,
    Severity,
    Tool,
    load_mappings,
    load_policies,
    load_requirements,
    load_waivers,
    render_catalog_markdown,
    rule_files,
    validate_catalog,
)

# The day this catalog was last reviewed (move it when the waivers are reviewed again). Fixed, so these
# tests do not start failing the day a waiver expires: the gate checks expiry against the real date.
TODAY = dt.date(2026, 12, 7)
FRAMEWORKS = {"PCI DSS v4.0.1", "NIST SP 800-53 Rev. 5", "AWS FSBP"}


@pytest.fixture(scope="module")
def data() -> dict[str, list]:  # type: ignore[type-arg]
    return {
        "requirements": load_requirements(),
        "policies": load_policies(),
        "mappings": load_mappings(),
        "waivers": load_waivers(),
    }


def test_catalog_is_consistent(data) -> None:
    assert validate_catalog(**data, today=TODAY) == []


def test_every_policy_has_complete_metadata(data) -> None:
    for policy in data["policies"]:
        assert policy.title and policy.rationale and policy.remediation, policy.id
        assert policy.severity in Severity, policy.id
        assert policy.requirements and policy.resource_types, policy.id
        assert policy.engine in ("yaml", "python"), policy.id
        assert set(policy.fixtures) == set(FIXTURE_KINDS), policy.id
        assert all(path.is_file() for path in policy.fixtures.values()), policy.id


def test_must_exist_types_are_judged_by_the_policy(data) -> None:
    """``requires`` names real CloudFormation types the policy itself gives verdicts on."""
    known = json.loads((POLICIES_DIR / "lib" / "cfn_types.json").read_text(encoding="utf-8"))["types"]
    for policy in data["policies"]:
        assert set(policy.requires) <= set(policy.resource_types) or "*" in policy.resource_types, policy.id
        assert all(t in known for t in policy.requires), policy.id


def test_policy_ids_are_unique_and_stable(data) -> None:
    ids = [p.id for p in data["policies"]]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"CKV_STG_[A-Z]+_\d+", i) for i in ids)
    # The rule file is named after its id, so a renamed id cannot hide behind an old file name.
    for policy in data["policies"]:
        assert policy.check_file.stem.startswith(policy.id.lower() + "_"), policy.check_file


def test_checks_dir_is_loadable_by_checkov() -> None:
    """checkov skips .py files silently in a directory without __init__.py, and loads every
    *.yaml/*.yml/*.json as a graph policy: the checks tree holds rules and nothing else."""
    assert CHECKS_DIR.is_dir()
    for directory in [CHECKS_DIR, *(d for d in CHECKS_DIR.rglob("*") if d.is_dir() and d.name != "__pycache__")]:
        assert (directory / "__init__.py").is_file(), f"{directory} lacks __init__.py"
    stems = [p.stem for p in rule_files() if p.suffix == ".py"]
    assert len(stems) == len(set(stems)), "Python rule file names must be unique across the tree"
    assert all(s.startswith("ckv_stg_") for s in stems), "prefix avoids shadowing real modules"
    assert not list(CHECKS_DIR.rglob("*.json")), "fixtures must not live under CHECKS_DIR"


def test_every_requirement_is_covered(data) -> None:
    policy_requirements = {r for p in data["policies"] for r in p.requirements}
    for requirement in data["requirements"]:
        assert requirement.id in policy_requirements or requirement.covered_by, requirement.id
        for coverage in requirement.covered_by:
            assert coverage.reason and coverage.reference and coverage.by, requirement.id


# The seed spec, vendored word for word so the quote check runs (and can fail) in any clone.
SPEC = POLICIES_DIR / "spec.md"


def _misquoted(requirements: list, spec_text: str) -> list[str]:  # type: ignore[type-arg]
    text = spec_text.replace("**", "")
    return [r.id for r in requirements if r.text not in text]


def test_requirements_quote_the_spec(data) -> None:
    assert _misquoted(data["requirements"], SPEC.read_text(encoding="utf-8")) == []


def test_a_misquoted_requirement_is_caught(data) -> None:
    first = data["requirements"][0]
    altered = dataclasses.replace(first, text=first.text.replace("13.7", "14.2"))
    assert altered.text != first.text
    assert _misquoted([altered], SPEC.read_text(encoding="utf-8")) == [first.id]


def test_mappings_reference_existing_checks_and_frameworks(data) -> None:
    policy_ids = {p.id for p in data["policies"]}
    assert {m.framework for m in data["mappings"]} == FRAMEWORKS
    for mapping in data["mappings"]:
        assert mapping.controls, mapping
        if mapping.tool is Tool.PROJECT:
            assert mapping.check_id in policy_ids, mapping
    mapped = {m.check_id for m in data["mappings"] if m.tool is Tool.PROJECT}
    assert mapped == policy_ids, f"policies mapped to no framework: {sorted(policy_ids - mapped)}"


def test_waivers_load_and_none_is_expired(data) -> None:
    waivers = data["waivers"]
    assert waivers
    assert len({w.id for w in waivers}) == len(waivers)
    for waiver in waivers:
        assert not waiver.is_expired(TODAY), f"{waiver.id} expired on {waiver.expires}"
        assert waiver.expires <= TODAY + dt.timedelta(days=366), f"{waiver.id}: waivers are reviewed at least yearly"
        if waiver.tool is Tool.CDK_NAG:
            assert re.match(r"^[A-Za-z0-9.]+::", waiver.rule), waiver.id
            assert waiver.target.startswith("StagingDatabase/"), waiver.id


def _copy_policies(tmp_path: Path) -> Path:
    root = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda w: w[0].update(id=w[1]["id"]), "field 'id' duplicates"),
        (lambda w: w[5].pop("resource_type"), "field 'resource_type'"),
        (lambda w: w[0].update(target="DatabaseInstanceAA8A5FDE"), "must be a construct path"),
        (lambda w: w[0].update(targets=["A/B"]), "exactly one of 'target'"),
        (lambda w: w[5].update(subtree=True), "subtree waiver"),
        (lambda w: w[0].update(scope="everything"), "unknown field 'scope'"),
        (lambda w: w[0].update(reason=""), "field 'reason'"),
        (lambda w: w[0].pop("owner"), "field 'owner'"),
        (lambda w: w[0].update(tool="trivy"), "field 'tool'"),
        (lambda w: w[0].update(expires="next spring"), "field 'expires'"),
        (lambda w: w[0].update(rule="AwsSolutions-RDS11"), "namespaced"),
    ],
)
def test_waiver_validation_names_file_entry_and_field(tmp_path: Path, mutate, message: str) -> None:
    root = _copy_policies(tmp_path)
    document = yaml.safe_load((root / "waivers.yaml").read_text(encoding="utf-8"))
    mutate(document["waivers"])
    (root / "waivers.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ValueError, match=message) as error:
        load_waivers(root)
    assert "waivers.yaml" in str(error.value) and "WVR-00" in str(error.value)


def test_expired_waiver_is_reported(data) -> None:
    later = max(w.expires for w in data["waivers"]) + dt.timedelta(days=1)
    problems = validate_catalog(**data, today=later)
    assert any("expired" in p for p in problems)


def test_policy_without_fixture_or_requirement_is_reported(tmp_path: Path) -> None:
    root = _copy_policies(tmp_path)
    (root / "fixtures" / "CKV_STG_RDS_1" / "suppressed.json").unlink()
    rule = root / "checks" / "rds" / "ckv_stg_rds_1_deletion_protection.py"
    rule.write_text(rule.read_text(encoding="utf-8").replace('["REQ-DB-04"]', '["REQ-NOPE-99"]'), encoding="utf-8")
    problems = validate_catalog(
        requirements=load_requirements(root), policies=load_policies(root), mappings=load_mappings(root), waivers=[]
    )
    assert any("CKV_STG_RDS_1: missing suppressed fixture" in p for p in problems)
    assert any("unknown requirement REQ-NOPE-99" in p for p in problems)
    assert any(p.startswith("REQ-DB-04: covered by no policy") for p in problems)


def test_fixtures_are_small_cloudformation_templates(data) -> None:
    for policy in data["policies"]:
        for kind, path in policy.fixtures.items():
            template = json.loads(path.read_text(encoding="utf-8"))
            assert template.get("Resources"), path
            assert len(template["Resources"]) <= 16, f"{path}: keep fixtures small"
            assert policy.id in template.get("Description", ""), path
            skips = [
                s["id"]
                for r in template["Resources"].values()
                for s in r.get("Metadata", {}).get("checkov", {}).get("skip", [])
            ]
            assert (policy.id in skips) == (kind == "suppressed"), path


def test_catalog_markdown_lists_every_policy(data) -> None:
    markdown = render_catalog_markdown(**data)
    for policy in data["policies"]:
        assert f"## {policy.id}" in markdown
        assert policy.title.replace("|", "\\|") in markdown
    for waiver in data["waivers"]:
        assert waiver.id in markdown
    assert "PCI DSS v4.0.1: 3.6.1" in markdown  # CKV_STG_RDS_13
    assert markdown == render_catalog_markdown(**data), "stable output"


def test_policy_ids_are_in_checkov_id_namespace_we_own() -> None:
    """Built-in checkov ids are CKV_AWS_*/CKV2_AWS_*; ours never collide with them."""
    assert all(p.id.startswith("CKV_STG_") for p in catalog.load_policies())


_NAG_PACK_FILES = {
    "AwsSolutions": "aws-solutions.js",
    "NIST.800.53.R5": "nist-800-53-r5.js",
    "PCI.DSS.321": "pci-dss-321.js",
}


def _nag_pack_sources() -> dict[str, str]:
    import importlib.util  # noqa: PLC0415
    import tarfile  # noqa: PLC0415

    spec = importlib.util.find_spec("cdk_nag")
    assert spec is not None and spec.origin is not None
    bundle = next((Path(spec.origin).parent / "_jsii").glob("cdk-nag@*.jsii.tgz"))
    sources = {}
    with tarfile.open(bundle) as archive:
        for pack, file_name in _NAG_PACK_FILES.items():
            member = archive.extractfile(f"package/lib/packs/{file_name}")
            assert member is not None
            sources[pack] = member.read().decode("utf-8")
    return sources


def test_cdk_nag_rule_ids_exist_in_the_installed_packs(data) -> None:
    """Mappings and waivers name cdk-nag rules that the pinned cdk-nag really has."""
    sources = _nag_pack_sources()
    rule_ids = [m.check_id for m in data["mappings"] if m.tool is Tool.CDK_NAG]
    rule_ids += [w.rule.split("::", 1)[1] for w in data["waivers"] if w.tool is Tool.CDK_NAG]
    for rule_id in rule_ids:
        pack, _, rule = rule_id.partition("-")
        rule = rule.split("[", 1)[0]
        assert pack in sources, rule_id
        assert re.search(rf"['.\s]{re.escape(rule)}['\s,)]", sources[pack]), f"{rule_id} is not a rule of {pack}"
    for waiver in data["waivers"]:
        if waiver.tool is Tool.CDK_NAG:
            namespace, _, rule_id = waiver.rule.partition("::")
            assert rule_id.startswith(namespace + "-"), waiver.id


def test_cfn_lint_rule_ids_exist(data) -> None:
    import importlib.util  # noqa: PLC0415

    spec = importlib.util.find_spec("cfnlint")
    assert spec is not None and spec.origin is not None
    rules_dir = Path(spec.origin).parent / "rules"
    known = {
        m for f in rules_dir.rglob("*.py") for m in re.findall(r'id = "([EWI]\d{4})"', f.read_text(encoding="utf-8"))
    }
    for mapping in data["mappings"]:
        if mapping.tool is Tool.CFN_LINT:
            assert mapping.check_id in known, mapping.check_id


def test_checkov_rule_ids_exist_in_the_pinned_checkov(data) -> None:
    from tests.policies.conftest import checkov_executable  # noqa: PLC0415

    venv = checkov_executable().resolve().parent.parent
    packages = list(venv.glob("lib/python*/site-packages/checkov/cloudformation/checks"))
    assert packages, f"no checkov package next to {venv}"
    known = {
        m
        for f in packages[0].rglob("*")
        if f.suffix in (".py", ".json", ".yaml")
        for m in re.findall(r"CKV2?_AWS_\d+", f.read_text(encoding="utf-8", errors="replace"))
    }
    rule_ids = [m.check_id for m in data["mappings"] if m.tool is Tool.CHECKOV]
    rule_ids += [w.rule for w in data["waivers"] if w.tool is Tool.CHECKOV]
    for rule_id in rule_ids:
        assert rule_id in known, f"{rule_id} is not a CloudFormation check of the pinned checkov"
