"""``plan-of-action-and-milestones.json``: every active waiver as a POA&M item.

A waiver (policies/waivers.yaml) is an accepted, owned, expiring exception. Each one that has not
expired is a POA&M item with its risk (``deviation-approved``: the reason, the owner as the
risk-owner party), the observations of this run it covers, and its expiry as the milestone of
the planned response: review it before that date, then renew it with a new reason or fix the
stack and delete it. An expired waiver is not here: it fails the gate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from harness.audit.oscal.common import href, metadata, new, prop, resource, stable_uuid, text
from harness.audit.oscal.component import stack_component_uuid
from harness.audit.oscal.plan import stack_component
from harness.audit.oscal.results import expiry, inventory, observation, waiver_risk
from harness.audit.oscal.run import Assessment, risk_uuid
from harness.model import Status

ASSESSMENT_RESULTS = "assessment-results.json"


def _milestone(waiver: Mapping[str, Any], owner_uuid: str) -> Any:
    from trestle.oscal import common  # noqa: PLC0415

    waiver_id = str(waiver["waiver_id"])
    return new(
        common.Response,
        uuid=stable_uuid("response", waiver_id),
        lifecycle="planned",
        title=f"Review {waiver_id} before it expires",
        description="Renew the waiver with a new reason and expiry, or fix the stack and delete the waiver.",
        tasks=[
            new(
                common.Task,
                uuid=stable_uuid("milestone", waiver_id),
                type="milestone",
                title=f"{waiver_id} expires",
                description=f"From {waiver['expires']} the gate fails on what {waiver_id} covers.",
                timing=new(common.TimingOnDate, on_date=new(common.OnDate, date=expiry(str(waiver["expires"])))),
                responsible_roles=[new(common.ResponsibleRole, role_id="risk-owner", party_uuids=[owner_uuid])],
            )
        ],
    )


def poam(assessment: Assessment, *, results_sha256: str) -> Any:
    from trestle.oscal import common  # noqa: PLC0415
    from trestle.oscal import poam as model  # noqa: PLC0415

    evidence = resource(
        "evidence",
        title="evidence.json",
        sha256=assessment.evidence_sha256,
        link=href(assessment.oscal_dir.parent / "evidence" / "evidence.json", oscal_dir=assessment.oscal_dir),
        description="Hashes of every input and the verdict of the run this POA&M was written by.",
    )
    results = resource(
        "assessment-results",
        title=ASSESSMENT_RESULTS,
        link=ASSESSMENT_RESULTS,
        sha256=results_sha256,
        description="The run whose findings these waivers cover.",
    )
    waivers_file = assessment.root / str((assessment.evidence.get("policies") or {}).get("path", "policies"))
    waivers = resource(
        "waivers",
        title="waivers.yaml",
        description="Every accepted exception, as data.",
        link=href(waivers_file / "waivers.yaml", oscal_dir=assessment.oscal_dir),
    )
    covered: dict[str, list[Any]] = defaultdict(list)
    waived = [f for f in assessment.findings if f.status is Status.WAIVED and f.waiver_id]
    for finding in waived:
        covered[finding.waiver_id].append(
            observation(assessment, finding, template_uuid=None, evidence_uuid=evidence.uuid)
        )
    observations: dict[str, Any] = {}
    risks, items = [], []
    for waiver in assessment.active_waivers:
        waiver_id = str(waiver["waiver_id"])
        owner = assessment.parties.owner_uuid(str(waiver["owner"]))
        mine = {o.uuid: o for o in covered.get(waiver_id, [])}
        observations.update(mine)
        risk = waiver_risk(waiver, observations=sorted(mine), parties_owner=owner)
        risk.remediations = [_milestone(waiver, owner)]
        risks.append(risk)
        items.append(
            new(
                model.PoamItem,
                uuid=stable_uuid("poam-item", waiver_id),
                title=f"{waiver_id}: {waiver['rule']} on {waiver['target']}",
                description=text(str(waiver.get("reason", ""))),
                props=[
                    prop("waiver", waiver_id),
                    prop("owner", str(waiver["owner"])),
                    prop("expires", str(waiver["expires"])),
                    prop("matched-in-this-run", str(waiver.get("matched", 0))),
                ],
                origins=[new(model.Origination, actors=[new(common.OriginActor, type="party", actor_uuid=owner)])],
                related_observations=[new(common.RelatedObservation, observation_uuid=u) for u in sorted(mine)] or None,
                related_risks=[new(common.AssociatedRisk, risk_uuid=risk_uuid(waiver_id))],
            )
        )
    return new(
        model.PlanOfActionAndMilestones,
        uuid=stable_uuid("poam", assessment.run_key),
        metadata=metadata(
            f"{assessment.stack}: accepted risks (waivers) and their milestones",
            version=f"evidence sha256:{assessment.evidence_sha256[:16]}",
            times=assessment.times,
            parties=assessment.parties,
            risk_owners=True,
        ),
        system_id=new(
            common.SystemId, identifier_type="http://ietf.org/rfc/rfc4122", id=stack_component_uuid(assessment.stack)
        ),
        local_definitions=new(
            model.LocalDefinitions,
            components=[stack_component(assessment)],
            inventory_items=inventory(assessment, waived) or None,
            remarks="The stack as gated; each item's risk names the waiver's owner and expiry.",
        ),
        observations=[observations[k] for k in sorted(observations)] or None,
        risks=risks or None,
        poam_items=items
        or [
            new(
                model.PoamItem,
                uuid=stable_uuid("poam-item", "none"),
                title="No active waiver",
                description="policies/waivers.yaml holds no unexpired waiver: no accepted risk is open.",
            )
        ],
        back_matter=new(common.BackMatter, resources=[results, evidence, waivers]),
    )
