"""The OSCAL documents of a gate run, built with compliance-trestle's pydantic models (never hand-written JSON).

``reports/oscal/``:

* ``component-definition.json`` (:mod:`harness.audit.oscal.component`): the stack and the checks that
  implement each mapped control;
* ``assessment-plan.json`` (:mod:`harness.audit.oscal.plan`): what is assessed, by which tools and
  methods, against which controls (those no template-time check covers are excluded: not assessed);
* ``assessment-results.json`` (:mod:`harness.audit.oscal.results`): the run, importing the plan: one
  inventory item per resource, observations linked to them, accepted risks, a finding per control;
* ``plan-of-action-and-milestones.json`` (:mod:`harness.audit.oscal.poam`): every active waiver, its
  owner and its expiry as milestone.

Every uuid is a uuid5 of stable names; the times are the run's (``harness.audit.evidence.RunClock``),
pinned only by ``SOURCE_DATE_EPOCH``. Each document links the ones it rests on with their SHA-256,
by hrefs relative to ``reports/oscal/``. JSON is compact: tools read these files, people read
``controls.md``. Importing trestle's models takes about a second; :func:`prewarm` starts that
import in a thread while the gate runs.
"""

from __future__ import annotations

import hashlib
import threading
from typing import TYPE_CHECKING

from harness.audit.oscal.common import serialize

if TYPE_CHECKING:
    from harness.audit.oscal.run import Assessment

OSCAL_DIR = "oscal"
COMPONENT_DEFINITION = "component-definition.json"
ASSESSMENT_PLAN = "assessment-plan.json"
ASSESSMENT_RESULTS = "assessment-results.json"
POAM = "plan-of-action-and-milestones.json"
DOCUMENTS = (COMPONENT_DEFINITION, ASSESSMENT_PLAN, ASSESSMENT_RESULTS, POAM)
_prewarm: threading.Thread | None = None


def prewarm() -> None:
    """Import trestle's OSCAL models in the background (about 1 s of CPU) while the gate waits on its tools."""
    global _prewarm  # noqa: PLW0603  (one import per process)
    if _prewarm is None:
        _prewarm = threading.Thread(target=import_models, name="oscal-prewarm", daemon=True)
        _prewarm.start()


def import_models() -> None:
    import trestle.oscal.assessment_plan  # noqa: PLC0415
    import trestle.oscal.assessment_results  # noqa: PLC0415
    import trestle.oscal.component  # noqa: PLC0415
    import trestle.oscal.poam  # noqa: F401, PLC0415


def _ready() -> None:
    if _prewarm is not None:
        _prewarm.join()


def render_documents(assessment: Assessment) -> dict[str, bytes]:
    """The four documents, each hashed into the next: definition -> plan -> results -> POA&M."""
    _ready()
    from harness.audit.oscal.component import component_definition  # noqa: PLC0415
    from harness.audit.oscal.plan import assessment_plan  # noqa: PLC0415
    from harness.audit.oscal.poam import poam  # noqa: PLC0415
    from harness.audit.oscal.results import assessment_results  # noqa: PLC0415

    component = serialize(component_definition(assessment))
    plan = serialize(assessment_plan(assessment, component_sha256=_sha(component)))
    results = serialize(assessment_results(assessment, component_sha256=_sha(component), plan_sha256=_sha(plan)))
    return {
        COMPONENT_DEFINITION: component,
        ASSESSMENT_PLAN: plan,
        ASSESSMENT_RESULTS: results,
        POAM: serialize(poam(assessment, results_sha256=_sha(results))),
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["DOCUMENTS", "OSCAL_DIR", "prewarm", "render_documents", "serialize"]
