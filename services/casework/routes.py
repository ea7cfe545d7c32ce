"""The regional worklist, alert lifecycle, household risk and monitoring routes.

Every route answers through `gate.answer(AccessRequest(...), endpoint, read)`: decided by the
policy, read (or, for a step, performed) only when permitted, logged exactly once. A step the
domain refuses (no such alert, out of order, already done) is still one logged request: a deny
with the domain's reason, answered 404, 409 or 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.alerts import StaffRef
from radar.regions import registry
from services.casework.assessment_routes import assessment_router
from services.casework.findings_routes import findings_router
from services.casework.monitoring_routes import monitoring_router, monitoring_steps_router
from services.casework.regie_routes import regie_router
from services.casework.service import Casework, staff
from services.casework.views import (
    AlertStep,
    AlertStepView,
    CloseStep,
    HouseholdRiskView,
    TriageStep,
    WorklistView,
)
from services.errors import Refusal, RefusalKind
from services.gate import Answer
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint
from services.projections.waiting import After

Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]
AlertId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Alert id")]


def worklist_routers(casework: Casework, person: Callable[..., Analyst]) -> list[APIRouter]:
    """Routers for analysts' worklists and monitoring, served by the query API behind the gate;
    `person` is the analysts' authentication dependency."""
    registry()  # a broken region registry stops the service at start, not at the first move
    router = APIRouter(tags=["worklist"], responses=QUERY_ERRORS)
    _worklist_routes(router, casework, person)
    _alert_routes(router, casework, person)
    return [
        router,
        monitoring_router(casework, person),
        monitoring_steps_router(casework, person),
        assessment_router(casework, person),
        regie_router(casework, person),
        findings_router(casework, person),
    ]


def _worklist_routes(router: APIRouter, casework: Casework, person: Any) -> None:
    @router.get("/v1/worklist", response_model=WorklistView, response_model_exclude_none=True)
    def worklist(
        request: Request,
        purpose: Purpose = None,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> WorklistView:
        """The open alerts of the actor's own region, most urgent first."""
        casework.read_after(after, casework.worklist)
        region = str(actor.region)
        access = AccessRequest(
            actor=actor, resource=Resource.WORKLIST, purpose=purpose, subject_region=region
        )

        def read(decision: Decision) -> Answer:
            return casework.worklist_answer(decision, region, purpose)

        result: WorklistView = casework.gate.answer(access, endpoint(request), read)
        return result

    @router.get(
        "/v1/households/{household}/risk",
        response_model=HouseholdRiskView,
        response_model_exclude_none=True,
    )
    def household_risk(
        request: Request,
        household: Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")],
        purpose: Purpose = None,
        justification: Annotated[str | None, Query(max_length=2000)] = None,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> HouseholdRiskView:
        """A household's score now, the signals behind it, and its alerts. A household the
        radar has no signals about has a score of zero, like its timeline is empty."""
        casework.read_after(after, casework.worklist)
        access = AccessRequest(
            actor=actor,
            resource=Resource.WORKLIST,
            purpose=purpose,
            subject=household,
            subject_region=casework.worklist.household_region(household),
            justification=justification,
        )

        def read(decision: Decision) -> Answer:
            return casework.household_risk_answer(decision, household, purpose)

        risk: HouseholdRiskView = casework.gate.answer(access, endpoint(request), read)
        return risk


def _alert_routes(router: APIRouter, casework: Casework, person: Any) -> None:
    def step_on(
        request: Request,
        alert: str,
        body: AlertStep,
        actor: Analyst,
        status: str,
        perform: Callable[[str, StaffRef], None],
    ) -> AlertStepView:
        found = casework.worklist.alert(alert)
        if found is None:  # an id no alert has: decided and logged without a household
            unknown = AccessRequest(
                actor=actor,
                resource=Resource.WORKLIST,
                purpose=body.purpose,
                subject_region=str(actor.region),
            )
            casework.refuse(
                unknown, endpoint(request), Refusal(RefusalKind.NOT_FOUND, "no such alert")
            )
        access = AccessRequest(
            actor=actor,
            resource=Resource.WORKLIST,
            purpose=body.purpose,
            subject=found["household"],
            subject_region=found["region"],
            justification=body.justification,
        )

        def step() -> AlertStepView:
            by = staff(actor)
            perform(found["household"], by)
            return AlertStepView(
                alert_id=alert, household=found["household"], status=status, by=by.record()
            )

        view: AlertStepView = casework.perform(access, endpoint(request), ["alert_status"], step)
        return view

    @router.post(
        "/v1/alerts/{alert}/acknowledge", response_model=AlertStepView, responses=STEP_ERRORS
    )
    def acknowledge(
        request: Request,
        alert: AlertId,
        body: AlertStep,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AlertStepView:
        """An analyst of the region takes the alert up."""
        return step_on(
            request,
            alert,
            body,
            actor,
            "acknowledged",
            lambda household, by: casework.ledger.acknowledge_alert(household, alert, by),
        )

    @router.post("/v1/alerts/{alert}/triage", response_model=AlertStepView, responses=STEP_ERRORS)
    def triage(
        request: Request,
        alert: AlertId,
        body: TriageStep,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AlertStepView:
        """Records the triage outcome and the reason for it."""
        return step_on(
            request,
            alert,
            body,
            actor,
            "triaged",
            lambda household, by: casework.ledger.triage_alert(
                household, alert, by, body.outcome, body.reason
            ),
        )

    @router.post("/v1/alerts/{alert}/close", response_model=AlertStepView, responses=STEP_ERRORS)
    def close(
        request: Request,
        alert: AlertId,
        body: CloseStep,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AlertStepView:
        """Closes a triaged alert."""
        return step_on(
            request,
            alert,
            body,
            actor,
            "closed",
            lambda household, by: casework.ledger.close_alert(household, alert, by, body.reason),
        )
