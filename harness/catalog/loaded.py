"""The whole of ``policies/``, loaded and validated once: what the gate and the merge judge with.

Apart from harness.gate so that ``python -m harness merge`` reads the catalog without the gate's
tools (harness.gate imports cdk-nag, whose jsii runtime takes about 1.5 s to start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.catalog import CHECKS_DIR, ControlMapping, Framework, Policy, Requirement, Waiver
from harness.catalog.code import ReviewedCode, load_reviewed_code
from harness.catalog.registry import Registry, load_registry
from harness.errors import HarnessError


@dataclass(frozen=True, kw_only=True)
class Catalog:
    requirements: list[Requirement]
    policies: list[Policy]
    mappings: list[ControlMapping]
    waivers: list[Waiver]
    policies_dir: Path  # where all of the above was read from
    frameworks: list[Framework] = field(
        default_factory=list
    )  # policies/frameworks: ids, scope (harness.verdict.controls)
    registry: Registry | None = (
        None  # policies/registry: what was reviewed (harness.verdict.reviewed); None: not loaded
    )
    reviewed_code: tuple[ReviewedCode, ...] = ()  # policies/code.yaml (harness.verdict.code_review)

    @property
    def checks_dir(self) -> Path:
        """The checkov custom checks of these policies."""
        return self.policies_dir / CHECKS_DIR.name

    def policy(self, policy_id: str) -> Policy | None:
        return next((p for p in self.policies if p.id == policy_id), None)


def load_catalog(root: Path | None = None) -> Catalog:
    """Everything policies/ declares, or a HarnessError: the gate never runs without its policies."""
    from harness import catalog  # noqa: PLC0415

    policies_dir = catalog.POLICIES_DIR if root is None else root
    try:
        loaded = Catalog(
            requirements=catalog.load_requirements(policies_dir),
            policies=catalog.load_policies(policies_dir),
            mappings=catalog.load_mappings(policies_dir),
            waivers=catalog.load_waivers(policies_dir),
            policies_dir=policies_dir,
            frameworks=catalog.load_frameworks(policies_dir),
            registry=load_registry(policies_dir),
            reviewed_code=load_reviewed_code(policies_dir),
        )
    except HarnessError:
        raise
    except Exception as error:
        raise HarnessError(f"policies/ cannot be loaded: {type(error).__name__}: {error}") from error
    if not loaded.policies:
        raise HarnessError(f"{policies_dir} declares no policies")
    if not loaded.checks_dir.is_dir():
        raise HarnessError(f"policy checks directory {loaded.checks_dir} is missing")
    _check_registry_rules(loaded)
    return loaded


def _check_registry_rules(loaded: Catalog) -> None:
    """Every project policy a registry entry names exists (its verdict may land on another resource: an alarm's
    properties decide the database's CKV_STG_CW_1)."""
    registry = loaded.registry
    if registry is None:
        return
    for where, review in registry.entries():
        for rule in review.judged_by:
            if rule.startswith("gate:"):
                continue
            policy = loaded.policy(rule)
            if policy is None:
                raise HarnessError(
                    f"{registry.directory}: {where} {review.path} is judged_by {rule}, which is no policy in "
                    f"{loaded.checks_dir} (e.g. CKV_STG_RDS_6)"
                )
