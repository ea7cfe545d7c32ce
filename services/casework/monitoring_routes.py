"""Routes for monitoring safety over time: a region's monitoring overview; and the steps: record
safety conditions, assess a check date, close monitoring with its outcome, record a move or a
member's departure. Each
answers through the gate (Resource.WORKLIST), recording the analyst who took the step."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from contracts.pseudonyms_v2 import HouseholdPseudonymV2, PersonPseudonymV2
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.safety import add_months, default_check_dates
from services.casework.service import Casework, staff
from services.casework.views import (
    CheckAssessment,
    ConditionsRequest,
    ConditionsView,
    DepartureRequest,
    MonitoringClosure,
    MonitoringStepView,
    MonitoringView,
    MoveRequest,
)
from services.gate import Answer
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint
from services.projections.waiting import After

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
Member = Annotated[PersonPseudonymV2, Path(description="Person pseudonym")]
PlanId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Safety conditions id")]
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]
MONITORING_MONTHS = 12


def monitoring_router(casework: Casework, person: Any) -> APIRouter:
    """The region's monitoring overview."""
    router = APIRouter(tags=["monitoring"], responses=QUERY_ERRORS)

    @router.get("/v1/monitoring", response_model=MonitoringView, response_model_exclude_unset=True)
    def monitoring(
        request: Request,
        purpose: Purpose = None,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> MonitoringView:
        """The region's safety conditions under monitoring, and how monitoring ended."""
        casework.read_after(after, casework.monitoring)
        region = str(actor.region)
        request_ = AccessRequest(
            actor=actor, resource=Resource.WORKLIST, purpose=purpose, subject_region=region
        )

        def read(decision: Decision) -> Answer:
            return casework.monitoring_answer(decision, region, purpose)

        result: MonitoringView = casework.gate.answer(request_, endpoint(request), read)
        return result

    return router


def monitoring_steps_router(casework: Casework, person: Any) -> APIRouter:
    """The analysts' monitoring steps; a step the domain refuses (conditions already
    monitored, a check already assessed) is logged as a deny and answered 409 or 422."""
    router = APIRouter(tags=["monitoring"], responses={**QUERY_ERRORS, **STEP_ERRORS})

    access = casework.household_step

    @router.post(
        "/v1/households/{household}/safety-conditions",
        response_model=ConditionsView,
        status_code=201,
    )
    def record_conditions(
        request: Request,
        household: Household,
        body: ConditionsRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> ConditionsView:
        """Record the safety conditions agreed with a household and how they are monitored."""
        starts_on = body.starts_on or casework.now().date()
        ends_on = body.ends_on or add_months(starts_on, MONITORING_MONTHS)
        check_dates = body.check_dates or default_check_dates(starts_on)
        excluded = [str(t) for t in body.excluded_signal_types]

        def step() -> ConditionsView:
            plan_id = casework.ledger.record_conditions(
                household, staff(actor), body.conditions, excluded, starts_on, ends_on, check_dates
            )
            case = casework.ledger.case(household)
            assert case is not None
            plan = case.plans[plan_id]
            return ConditionsView(
                plan_id=plan_id,
                household=household,
                starts_on=plan.starts_on,
                ends_on=plan.ends_on,
                check_dates=plan.check_dates,
                excluded_signal_types=plan.excluded_signal_types,
            )

        view: ConditionsView = casework.perform(
            access(actor, household, body), endpoint(request), ["safety_conditions"], step
        )
        return view

    @router.post(
        "/v1/households/{household}/safety-conditions/{plan_id}/checks",
        response_model=MonitoringStepView,
    )
    def assess_check(
        request: Request,
        household: Household,
        plan_id: PlanId,
        body: CheckAssessment,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> MonitoringStepView:
        """Record the assessment of a check date: were the conditions kept?"""

        def step() -> MonitoringStepView:
            casework.ledger.assess_check(
                household, plan_id, body.check_date, staff(actor), body.conditions_kept, body.note
            )
            return MonitoringStepView(household=household, plan_id=plan_id, recorded="assessed")

        view: MonitoringStepView = casework.perform(
            access(actor, household, body), endpoint(request), ["check_assessment"], step
        )
        return view

    @router.post(
        "/v1/households/{household}/safety-conditions/{plan_id}/close",
        response_model=MonitoringStepView,
    )
    def close_monitoring(
        request: Request,
        household: Household,
        plan_id: PlanId,
        body: MonitoringClosure,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> MonitoringStepView:
        """End monitoring, recording whether the conditions led to safety."""

        def step() -> MonitoringStepView:
            casework.ledger.close_monitoring(
                household, plan_id, staff(actor), body.safety_achieved, body.note
            )
            return MonitoringStepView(household=household, plan_id=plan_id, recorded="closed")

        view: MonitoringStepView = casework.perform(
            access(actor, household, body), endpoint(request), ["monitoring_outcome"], step
        )
        return view

    @router.post("/v1/households/{household}/move", response_model=MonitoringStepView)
    def record_move(
        request: Request,
        household: Household,
        body: MoveRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> MonitoringStepView:
        """Record that the household moved to another municipality: the responsible region,
        its open alerts and its history follow."""

        def step() -> MonitoringStepView:
            region = casework.ledger.record_move(
                household, body.municipality, body.moved_on, staff(actor)
            )
            return MonitoringStepView(household=household, region=region, recorded="moved")

        view: MonitoringStepView = casework.perform(
            access(actor, household, body), endpoint(request), ["household_region"], step
        )
        return view

    @router.post(
        "/v1/households/{household}/members/{member}/departure",
        response_model=MonitoringStepView,
        response_model_exclude_none=True,
    )
    def record_departure(
        request: Request,
        household: Household,
        member: Member,
        body: DepartureRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> MonitoringStepView:
        """Record that a person no longer lives in the household from `left_on` on: signals
        about them at other households after that no longer show in this one's timeline."""

        def step() -> MonitoringStepView:
            casework.ledger.record_departure(
                household, member, body.left_on, staff(actor), casework.now()
            )
            return MonitoringStepView(household=household, person=member, recorded="left")

        view: MonitoringStepView = casework.perform(
            access(actor, household, body), endpoint(request), ["member_departure"], step
        )
        return view

    return router
