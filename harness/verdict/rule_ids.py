"""Waivers that mean what they say: every rule a waiver names exists in the tool it names.

The known rules of each tool, read from the tools the gate runs (never a hand-kept list):

- ``project``: the policies of the catalog (policies/checks);
- ``cdk-nag``: the rules of the packs that run (harness.tools.nag.PACKS), read from the pack sources in
  cdk-nag's jsii bundle (``this.packName`` and each ``applyRule``'s rule or ``ruleSuffixOverride``);
- ``checkov``: the ids of checkov's CloudFormation checks in the checkov package beside the
  executable that runs (``id = "CKV_AWS_..."``: checkov's registry), plus the project policies;
- ``cfn-lint`` (and ``cdk-validate``'s ``CloudFormation-Validate`` plugin, which is cfn-lint): the ids
  of cfnlint's rules in the package beside the executable that runs;
- ``gate``: the gate's own rules (``GATE_RULES``) and the project policies (coverage gaps carry them);
- ``change``: the change policies of policies/stateful.yaml (checked where they load).

A waiver naming anything else is a harness failure (exit 2) with one line: a waiver that can never
match is either a typo that leaves the real finding unwaived, or an exception nobody can audit.
"""

from __future__ import annotations

import functools
import io
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from harness.catalog import Tool, Waiver
from harness.errors import HarnessError

GATE_RULES = frozenset({
    "gate:asset", "gate:code-review", "gate:custom-resource", "gate:deploy-time-choices", "gate:deployed-template",
    "gate:external-template", "gate:in-template-suppression", "gate:policy-change", "gate:transform",
    "gate:unreviewed-attribute", "gate:unreviewed-key", "gate:unreviewed-property", "gate:unreviewed-type",
})  # fmt: skip
VALIDATE_PLUGIN = "CloudFormation-Validate"

_PACK_NAME = re.compile(r"this\.packName\s*=\s*'([^']+)'")
_APPLY = re.compile(r"this\.applyRule\(\{(.*?)\}\);", re.S)
_SUFFIX = re.compile(r"ruleSuffixOverride:\s*'([^']+)'")
_RULE = re.compile(r"rule:\s*[A-Za-z0-9_$]+\.([A-Za-z0-9_]+)")
_CHECKOV_ID = re.compile(r"""\bid\s*=\s*["'](CKV2?_[A-Z0-9]+_\d+)["']|"id"\s*:\s*"(CKV2?_[A-Z0-9]+_\d+)\"""")
_CFNLINT_ID = re.compile(r"""^\s+id\s*=\s*["']([EWI]\d{4})["']""", re.M)


@functools.cache
def nag_rules() -> dict[str, frozenset[str]]:
    """Pack name -> the rule ids it applies, from cdk-nag's jsii bundle."""
    import cdk_nag  # noqa: PLC0415

    bundles = sorted((Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz"))
    if not bundles:
        raise HarnessError("cdk-nag's jsii bundle is missing: the waivers' cdk-nag rules cannot be verified")
    packs: dict[str, frozenset[str]] = {}
    with tarfile.open(bundles[-1], "r:gz") as bundle:
        for member in bundle.getmembers():
            if not (member.name.startswith("package/lib/packs/") and member.name.endswith(".js")):
                continue
            handle = bundle.extractfile(member)
            text = io.TextIOWrapper(handle, encoding="utf-8").read() if handle is not None else ""
            name = _PACK_NAME.search(text)
            if name is None:
                continue
            suffixes = set()
            for block in _APPLY.findall(text):
                found = _SUFFIX.search(block) or _RULE.search(block)
                if found:
                    suffixes.add(found.group(1))
            packs[name.group(1)] = frozenset(f"{name.group(1)}-{s}" for s in suffixes)
    return packs


def _site_package(executable: str, package: str) -> Path | None:
    """The ``package`` directory in the venv of a console script (``<venv>/bin/<script>``)."""
    venv = Path(executable).parent.parent
    found = sorted(venv.glob(f"lib/python*/site-packages/{package}"))
    return found[-1] if found else None


@functools.cache
def checkov_rules(executable: str) -> frozenset[str]:
    """The ids of checkov's CloudFormation checks, in the checkov that runs."""
    package = _site_package(executable, "checkov")
    if package is None:
        raise HarnessError(
            f"cannot find checkov's checks beside {executable} (<venv>/lib/python*/site-packages/checkov): "
            "the waivers' checkov rules cannot be verified"
        )
    ids: set[str] = set()
    for path in (package / "cloudformation" / "checks").rglob("*"):
        if path.suffix in (".py", ".json", ".yaml") and path.is_file():
            ids |= {a or b for a, b in _CHECKOV_ID.findall(path.read_text(encoding="utf-8", errors="replace"))}
    return frozenset(ids)


@functools.cache
def cfnlint_rules(executable: str) -> frozenset[str]:
    """The ids of cfn-lint's rules, in the cfn-lint that runs."""
    package = _site_package(executable, "cfnlint")
    if package is None:
        raise HarnessError(
            f"cannot find cfn-lint's rules beside {executable} (<venv>/lib/python*/site-packages/cfnlint): "
            "the waivers' cfn-lint rules cannot be verified"
        )
    ids: set[str] = set()
    for path in (package / "rules").rglob("*.py"):
        ids |= set(_CFNLINT_ID.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(ids)


def unknown_rule(
    waiver: Waiver,
    *,
    policies: Iterable[str],
    packs: Sequence[str],
    checkov: str,
    cfn_lint: str,
    nag: Mapping[str, frozenset[str]] | None = None,
) -> str:
    """Why ``waiver``'s rule exists in no tool that runs ("" when it does)."""
    project = set(policies)
    rule = waiver.rule
    if waiver.tool is Tool.PROJECT:
        known = rule in project
    elif waiver.tool is Tool.CHECKOV:
        known = rule in project or rule in checkov_rules(checkov)
    elif waiver.tool is Tool.CFN_LINT:
        known = rule in cfnlint_rules(cfn_lint)
    elif waiver.tool is Tool.GATE:
        known = rule in GATE_RULES or rule in project
    elif waiver.tool is Tool.CDK_NAG:
        pack, _, rest = rule.partition("::")
        rule_id = rest.split("[", 1)[0]
        known = pack in packs and rule_id in (nag if nag is not None else nag_rules()).get(pack, frozenset())
    elif waiver.tool is Tool.CDK_VALIDATE:
        plugin, _, rest = rule.partition("::")
        known = plugin == VALIDATE_PLUGIN and rest.split("[", 1)[0] in cfnlint_rules(cfn_lint)
    else:  # change: its policy ids are checked where policies/stateful.yaml loads (harness.comparison.changes)
        known = True
    if known:
        return ""
    examples = {
        Tool.PROJECT: "CKV_STG_RDS_6", Tool.CHECKOV: "CKV_AWS_157", Tool.CFN_LINT: "W3005",
        Tool.GATE: "gate:code-review", Tool.CDK_NAG: "AwsSolutions::AwsSolutions-RDS11",
        Tool.CDK_VALIDATE: "CloudFormation-Validate::W3010",
    }  # fmt: skip
    return (
        f"policies/waivers.yaml: waiver {waiver.id} names {waiver.tool} rule {rule!r}, which no {waiver.tool} "
        f"rule of this run has (e.g. {examples.get(waiver.tool, '')}): a waiver must name a rule that exists"
    )


def check_waiver_rules(
    waivers: Iterable[Waiver],
    *,
    policies: Iterable[str],
    requirements: Iterable[str],
    packs: Sequence[str],
    checkov: str,
    cfn_lint: str,
) -> None:
    """HarnessError (exit 2, one line) for the first waiver whose rule or requirement does not exist."""
    project, known_requirements = frozenset(policies), frozenset(requirements)
    for waiver in sorted(waivers, key=lambda w: w.id):
        problem = unknown_rule(waiver, policies=project, packs=packs, checkov=checkov, cfn_lint=cfn_lint)
        if problem:
            raise HarnessError(problem)
        if waiver.requirement and waiver.requirement not in known_requirements:
            raise HarnessError(
                f"policies/waivers.yaml: waiver {waiver.id} names requirement {waiver.requirement!r}, which "
                "policies/requirements.yaml does not have (e.g. REQ-DB-03)"
            )
