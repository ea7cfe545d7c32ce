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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from services.casework.service import Casework
from services.errors import Refusal, RefusalKind
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint
from services.referrals.service import NOT_REFERRING, REFERRING_PURPOSES, record_referral
from services.referrals.views import ReferralRequest, ReferralView

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]


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
            refusal = Refusal(RefusalKind.FORBIDDEN, NOT_REFERRING)
            casework.refuse(asked, endpoint(request), refusal)

        def step() -> ReferralView:
            done = record_referral(casework, actor, household, body, allowed)
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
