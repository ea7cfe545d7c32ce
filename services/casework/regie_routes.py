"""Routes for who holds the lead (regie): Veilig Thuis records it; a professional of an involved
organisation asks who leads, under its own purpose (regie_inquiry, Resource.REGIE), and learns
the lead alone. Both through the gate and in the access log; an organisation not recorded as
involved gets one and the same refusal whether or not the household is known (radar.case_regie).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.case_assessment import Step
from radar.case_regie import (
    MAX_INVOLVED,
    MAX_PROFESSIONAL_LENGTH,
    NotInvolvedError,
    who_leads,
)
from services.casework.service import Casework, staff
from services.casework.views import AlertStep, Note, Recorded
from services.errors import Refusal, RefusalKind
from services.gate import Answer
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
Organisation = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


class RegieRequest(AlertStep):
    lead_professional: str = Field(
        pattern=r"^[a-z0-9][a-z0-9._-]*$",
        max_length=MAX_PROFESSIONAL_LENGTH,
        description="The leading professional's staff id at their organisation.",
    )
    lead_organisation: Organisation
    involved_organisations: list[Organisation] = Field(
        default_factory=list,
        max_length=MAX_INVOLVED,
        description="The organisations involved; the lead's is always one of them.",
    )
    reason: Note


class RegieView(Recorded):
    household: str
    lead_professional: str
    lead_organisation: str
    involved_organisations: list[str]
    by: dict[str, str]
    recorded_at: datetime


class LeadView(BaseModel):
    """All an involved organisation learns: who leads, since when."""

    household: str
    lead_professional: str
    lead_organisation: str
    recorded_at: datetime


def regie_router(casework: Casework, person: Any) -> APIRouter:
    router = APIRouter(tags=["regie"], responses={**QUERY_ERRORS, **STEP_ERRORS})

    @router.post("/v1/households/{household}/regie", response_model=RegieView, status_code=201)
    def record_regie(
        request: Request,
        household: Household,
        body: RegieRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> RegieView:
        """Veilig Thuis records which professional leads the help and who is involved."""

        def step() -> RegieView:
            taken = Step(staff(actor), body.reason, casework.now())
            regie = casework.ledger.record_regie(
                household,
                taken,
                body.lead_professional,
                body.lead_organisation,
                body.involved_organisations,
            )
            return RegieView(
                household=household,
                lead_professional=regie.lead_professional,
                lead_organisation=regie.lead_organisation,
                involved_organisations=list(regie.involved),
                by=regie.by,
                recorded_at=regie.recorded_at,
            )

        view: RegieView = casework.perform(
            casework.household_step(actor, household, body), endpoint(request), ["regie"], step
        )
        return view

    @router.get("/v1/households/{household}/regie", response_model=LeadView)
    def lead(
        request: Request,
        household: Household,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> LeadView:
        """Who leads the help for the household, for a professional of an involved
        organisation (purpose regie_inquiry); nothing else, and nothing to anyone else."""
        access = AccessRequest(
            actor=actor, resource=Resource.REGIE, purpose=purpose, subject=household
        )

        def read(_decision: Decision) -> Answer:
            try:
                regie = who_leads(casework.ledger.case(household), actor.organisation)
            except NotInvolvedError as error:
                raise Refusal(RefusalKind.FORBIDDEN, str(error)) from error
            body = LeadView(
                household=household,
                lead_professional=regie.lead_professional,
                lead_organisation=regie.lead_organisation,
                recorded_at=regie.recorded_at,
            )
            return Answer(body, ["regie_lead"], 1)

        found: LeadView = casework.gate.answer(access, endpoint(request), read)
        return found

    return router
