"""cdk-nag v3 in the gate: register the packs, apply waivers, prove they ran, read the report.

cdk-nag 3 packs are CDK policy-validation plugins. The framework writes their findings to
``validation-report.json`` but *omits* a plugin that ran clean, so the report alone cannot
tell "clean" from "never ran". Each pack is therefore wrapped in :class:`PackRecorder`,
which records that ``validate`` was called, on how many resources, and with what result;
and :func:`probe_packs` runs every pack on a known-bad probe resource to prove its rules
fire in this runtime. The gate fails closed (exit 2) on any gap.

Acknowledgements come from the waiver data in ``policies/`` and use the namespaced id
(``AwsSolutions::AwsSolutions-RDS11``) so they land in ``suppressedViolations``.
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsii
from aws_cdk import Acknowledgment, App, IPolicyValidationContext, IPolicyValidationPlugin, Stack, Validations
from aws_cdk import aws_rds as rds
from cdk_nag import AwsSolutionsChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks
from constructs import IConstruct

import infra  # noqa: F401  (selects the bundled Node.js before aws_cdk starts jsii)
from harness.catalog.schema import NAG_PACK_LABELS
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.catalog import Waiver

CDK_NAG_VERSION = importlib.metadata.version("cdk-nag")
VALIDATION_REPORT = "validation-report.json"


@dataclass(frozen=True, kw_only=True)
class PackSpec:
    name: str  # the plugin name cdk-nag reports under; the ack namespace is derived from it
    factory: Callable[[], NagPack]
    probe_rule: str  # a rule that must fire on the probe (an unencrypted RDS instance)
    label: str  # what an auditor reads: the framework and version the pack's rules come from

    @property
    def namespace(self) -> str:
        return self.name.replace(" ", "-")


# The HIPAA Security pack is not run: HIPAA is not a framework of this payments database (PCI DSS
# v4.0.1, NIST SP 800-53 Rev. 5 and AWS FSBP are), and its rules repeat the NIST pack's rules on
# this stack (it added findings and waivers twice and no evidence for any mapped control).
PACKS: tuple[PackSpec, ...] = (
    PackSpec(name="AwsSolutions", factory=AwsSolutionsChecks, probe_rule="AwsSolutions-RDS2",
             label=NAG_PACK_LABELS["AwsSolutions"]),
    PackSpec(name="NIST.800.53.R5", factory=NIST80053R5Checks, probe_rule="NIST.800.53.R5-RDSStorageEncrypted",
             label=NAG_PACK_LABELS["NIST.800.53.R5"]),
    # cdk-nag's PCI pack implements PCI DSS 3.2.1, not v4.0.1: its messages quote 3.2.1 requirement
    # numbers. Its rules are mapped to v4.0.1 in policies/mappings by what they check.
    PackSpec(name="PCI.DSS.321", factory=PCIDSS321Checks, probe_rule="PCI.DSS.321-RDSStorageEncrypted",
             label=NAG_PACK_LABELS["PCI.DSS.321"]),
)  # fmt: skip
PACK_NAMES = tuple(spec.name for spec in PACKS)
PACK_LABELS = {spec.name: spec.label for spec in PACKS}


@dataclass(kw_only=True)
class PackRun:
    """What one pack did during one synthesis."""

    name: str
    calls: int = 0
    resources: int = 0  # resources in the templates handed to the pack
    violations: int = 0
    success: bool = True


@jsii.implements(IPolicyValidationPlugin)
class PackRecorder:
    """Delegates to a cdk-nag pack under the pack's own name and records that it ran."""

    def __init__(self, pack: NagPack) -> None:
        self._pack = pack
        self.run = PackRun(name=pack.name)

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def version(self) -> str:
        return CDK_NAG_VERSION

    @property
    def rule_ids(self) -> list[str] | None:
        return None

    def validate(self, context: IPolicyValidationContext) -> Any:
        # An exception here propagates: the framework then records a plugin failure.
        report = self._pack.validate(context)
        self.run.calls += 1
        self.run.resources += sum(_resource_count(Path(p)) for p in context.template_paths)
        self.run.violations += len(report.violations)
        self.run.success = self.run.success and bool(report.success)
        return report


def _resource_count(template: Path) -> int:
    try:
        return len(json.loads(template.read_text(encoding="utf-8")).get("Resources") or {})
    except (OSError, ValueError):
        return 0


@dataclass(frozen=True, kw_only=True)
class Acknowledgement:
    """A waiver of a CDK validation finding reduced to what CDK needs (built from harness.catalog.Waiver).

    CDK applies an acknowledgement to a construct and everything below it; the gate re-checks
    each acknowledged finding against the waiver's exact scope (harness.tools.waivers.WaiverBook.acknowledged).
    """

    waiver_id: str
    rule: str  # namespaced: "<Plugin>::<Rule>"
    target: str  # construct path
    reason: str


def add_nag_validations(app: App, *, acknowledgements: Sequence[Acknowledgement] | None = None) -> list[PackRecorder]:
    """Register the packs on ``app`` and acknowledge the waivers on their construct paths.

    The gate calls it on the App that ``infra.app_builder`` built (the app itself knows
    nothing of cdk-nag or policies/). Waivers default to the cdk-nag waivers in policies/.
    """
    recorders = [PackRecorder(spec.factory()) for spec in PACKS]
    Validations.of(app).add_plugins(*recorders)
    acks = default_acknowledgements() if acknowledgements is None else acknowledgements
    for ack in acks:
        node = find_construct(app, ack.target)
        if node is not None:  # a waiver whose target is gone matches nothing: the gate reports it stale
            Validations.of(node).acknowledge(Acknowledgment(id=ack.rule, reason=f"{ack.waiver_id}: {ack.reason}"))
    return recorders


def pack_runs(recorders: Iterable[PackRecorder]) -> dict[str, PackRun]:
    """What each of the recorders ``add_nag_validations`` returned saw (judge_report proves each ran).

    The caller holds the recorders of its own App: no registry keyed by the App, whose ``node.addr``
    is the same for every root App (one App's records would stand in for another's that never ran).
    """
    return {r.name: r.run for r in recorders}


def default_acknowledgements() -> list[Acknowledgement]:
    from harness.catalog import POLICIES_DIR, load_waivers  # noqa: PLC0415  (read at synth time only)

    if not (POLICIES_DIR / "waivers.yaml").is_file():
        return []  # no waiver data: nothing acknowledged; the gate reports every finding
    return acknowledgements_from(load_waivers())


def acknowledgements_from(waivers: Iterable[Waiver]) -> list[Acknowledgement]:
    """The waivers of CDK validation findings (cdk-nag, cdk-validate), one acknowledgement per target."""
    from harness.catalog import Tool  # noqa: PLC0415

    return [
        Acknowledgement(waiver_id=w.id, rule=w.rule, target=target, reason=w.reason)
        for w in waivers
        if w.tool in (Tool.CDK_NAG, Tool.CDK_VALIDATE)
        for target in w.targets
    ]


def find_construct(root: IConstruct, path: str) -> IConstruct | None:
    node: IConstruct | None = root
    for segment in (s for s in path.split("/") if s):
        node = node.node.try_find_child(segment) if node is not None else None
    return node


_PROBE_RESULT: dict[str, list[str]] = {}


def probe_packs(specs: Iterable[PackSpec] = PACKS) -> None:
    """Run each pack on an unencrypted RDS instance; a pack whose probe rule does not fire is dead."""
    specs = list(specs)
    if not _PROBE_RESULT:
        probe_app = App()
        stack = Stack(probe_app, "NagProbe")
        rds.CfnDBInstance(stack, "Db", db_instance_class="db.t3.micro", engine="postgres", storage_encrypted=False)
        for spec in specs:
            report = spec.factory().validate_scope(probe_app)
            _PROBE_RESULT[spec.name] = sorted(v.rule_name for v in report.violations)
    for spec in specs:
        if spec.probe_rule not in _PROBE_RESULT.get(spec.name, []):
            raise HarnessError(
                f"cdk-nag pack {spec.name} evaluated nothing: its probe rule {spec.probe_rule} "
                "did not fire on an unencrypted RDS instance"
            )


@dataclass(frozen=True, kw_only=True)
class NagViolation:
    plugin: str
    rule: str  # rule name as reported, e.g. "AwsSolutions-IAM5[Resource::*]"
    description: str
    severity: str  # error | warning | info | fatal | custom
    construct_path: str
    template: str = ""
    logical_id: str = ""
    acknowledged_id: str = ""  # set when suppressed
    acknowledged_at: str = ""
    reason: str = ""

    @property
    def namespaced_rule(self) -> str:
        return f"{self.plugin.replace(' ', '-')}::{self.rule}"


@dataclass(frozen=True, kw_only=True)
class NagOutcome:
    violations: list[NagViolation] = field(default_factory=list)
    suppressed: list[NagViolation] = field(default_factory=list)
    packs_in_report: list[str] = field(default_factory=list)
    runs: Mapping[str, PackRun] = field(default_factory=dict)  # what each pack was handed (PackRecorder)

    def findings_of(self, pack: str) -> int:
        return sum(1 for v in (*self.violations, *self.suppressed) if v.plugin == pack)


def read_validation_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise HarnessError(f"cdk-nag did not run: no validation report at {path} ({error.strerror})") from error
    except ValueError as error:
        raise HarnessError(f"unparseable validation report {path}: {error}") from error
    if not isinstance(data, dict) or not isinstance(data.get("pluginReports"), list):
        raise HarnessError(f"malformed validation report {path}: no pluginReports list")
    return data


def _prove_ran(name: str, plugin: Mapping[str, Any] | None, runs: Mapping[str, PackRun] | None) -> None:
    """Raise unless pack ``name`` provably ran: invoked, handed resources, and in the report (or clean)."""
    error = (plugin or {}).get("metadata", {}) or {}
    if plugin is not None and isinstance(error, dict) and error.get("error"):
        raise HarnessError(f"cdk-nag pack {name} reported a plugin failure: {error['error']}")
    if plugin is not None and plugin.get("conclusion") == "failure" and not plugin.get("violations"):
        raise HarnessError(f"cdk-nag pack {name} reported a plugin failure without findings")
    run = None if runs is None else runs.get(name)
    if runs is not None and (run is None or run.calls == 0):
        raise HarnessError(f"cdk-nag pack {name} did not run: it was not invoked during synthesis")
    if run is not None and run.resources == 0:
        raise HarnessError(f"cdk-nag pack {name} evaluated nothing: it was handed no resources")
    if plugin is None and (run is None or run.violations > 0):
        raise HarnessError(f"cdk-nag pack {name} did not run: it is missing from the validation report")


def judge_report(
    report: Mapping[str, Any], *, runs: Mapping[str, PackRun] | None, expected: Sequence[str] = PACK_NAMES
) -> NagOutcome:
    """Turn the validation report into violations, failing closed when a pack did not run.

    ``runs`` is what :class:`PackRecorder` saw; ``None`` means there is no record (a report
    read on its own), so a pack missing from the report is taken as not run.
    """
    by_name = {str(p.get("pluginName")): p for p in report["pluginReports"]}
    for name in expected:
        _prove_ran(name, by_name.get(name), runs)
    outcome = NagOutcome(packs_in_report=sorted(by_name), runs=dict(runs or {}))
    for plugin in report["pluginReports"]:
        name = str(plugin.get("pluginName"))
        for key, bucket in (("violations", outcome.violations), ("suppressedViolations", outcome.suppressed)):
            for violation in plugin.get(key) or []:
                for construct in violation.get("violatingConstructs") or [{}]:
                    resource = construct.get("cloudFormationResource") or {}
                    bucket.append(
                        NagViolation(
                            plugin=name,
                            rule=str(violation.get("ruleName", "")),
                            description=str(violation.get("description", "")),
                            severity=str(violation.get("severity", "error")),
                            construct_path=str(construct.get("constructPath", "")),
                            template=str(resource.get("templatePath", "")),
                            logical_id=str(resource.get("logicalId", "")),
                            acknowledged_id=str(violation.get("acknowledgedId", "")),
                            acknowledged_at=str(violation.get("acknowledgedAt", "")),
                            reason=str(violation.get("reason", "")),
                        )
                    )
    return outcome
