"""VT's route to refer a suspected offence to the OM or the police (doorverwijzing).

A step on the household like the safety assessment it follows (Resource.WORKLIST through the
gate: Veilig Thuis roles only, the household's own region unless justified; one access-log
entry, permit or deny), recorded by the analyst who took it. What it passes is what the legal
basis allows (radar/case_referral.py); free text passes the leak guard; an assessment that did
not find a suspected offence, a person or signal the household does not hold, or a recipient
not in the register of referral recipients is 422 with the field, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field

from contracts.pseudonyms_v2 import HouseholdPseudonymV2, PersonPseudonymV2
from privacy.actors import Analyst
from radar.case_assessment import Step
from radar.case_referral import MAX_REFERRED_PERSONS, MAX_SUPPORTING_SIGNALS, ReferralError
from services.casework.service import Casework, staff
from services.casework.views import AlertStep, Note, Recorded
from services.errors import Refusal, RefusalKind
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
SignalId = Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]
REFERRING_PURPOSES = frozenset({"safety_assessment", "triage"})
"""The purposes a referral is recorded under: those the assessment that found the suspected
offence is recorded under (services/casework/assessment_routes.py)."""


class ReferralRequest(AlertStep):
    """A referral of the suspected offence an assessment found, to one OM office or police
    unit: the persons it concerns and the signals that support it, chosen by Veilig Thuis."""

    assessment_id: str = Field(
        pattern=r"^[0-9a-f-]{36}$",
        description="The safety assessment that decided suspected_offence.",
    )
    recipient: str = Field(
        max_length=64, description="The OM office or police unit (an organisation id)."
    )
    persons: list[PersonPseudonymV2] = Field(
        min_length=1,
        max_length=MAX_REFERRED_PERSONS,
        description="The persons the suspicion concerns; their roles and ages come from the "
        "household's signals.",
    )
    signals: list[SignalId] = Field(
        min_length=1,
        max_length=MAX_SUPPORTING_SIGNALS,
        description="The household's signals that support the suspicion: the referral passes "
        "their types and dates only.",
    )
    reason: Note


class ReferralView(Recorded):
    referral_id: str
    household: str
    assessment_id: str
    recipient: str
    persons: list[dict[str, Any]]
    signals: list[dict[str, Any]] = Field(description="Types and dates, as the recipient sees.")
    contact: dict[str, str]
    referred_at: datetime


def referral_router(casework: Casework, person: Any, recipients: Collection[str]) -> APIRouter:
    """The referral step; `person` authenticates the analyst; `recipients` are the
    organisations a referral may be addressed to (settings: referral_recipients)."""
    router = APIRouter(tags=["referrals"], responses={**QUERY_ERRORS, **STEP_ERRORS})
    allowed = frozenset(recipients)

    @router.post(
        "/v1/households/{household}/referrals", response_model=ReferralView, status_code=201
    )
    def refer(
        request: Request,
        household: Household,
        body: ReferralRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> ReferralView:
        """Refer the suspected offence a safety assessment found to the OM or the police."""
        asked = casework.household_step(actor, household, body)
        if body.purpose is not None and body.purpose not in REFERRING_PURPOSES:
            reason = "a referral is recorded under safety_assessment or triage"
            casework.refuse(asked, endpoint(request), Refusal(RefusalKind.FORBIDDEN, reason))

        def step() -> ReferralView:
            if body.recipient not in allowed:
                raise ReferralError("recipient", "not an OM office or police unit of the register")
            taken = Step(staff(actor), body.reason, casework.now())
            done = casework.ledger.refer_offence(
                household, body.assessment_id, body.recipient, body.persons, body.signals, taken
            )
            return ReferralView(
                referral_id=done.referral_id,
                household=household,
                assessment_id=done.assessment_id,
                recipient=done.recipient,
                persons=list(done.persons),
                signals=[
                    {"signal_type": s["signal_type"], "occurred_on": s["occurred_on"]}
                    for s in done.signals
                ],
                contact=done.contact,
                referred_at=done.referred_at,
            )

        view: ReferralView = casework.perform(asked, endpoint(request), ["referral"], step)
        return view

    return router
