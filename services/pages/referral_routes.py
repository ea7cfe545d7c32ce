"""The referral pages: VT's "Doorverwijzen naar OM" form on a report whose safety assessment found a
suspected offence (on the household page), and the OM's and police's list of the referrals
addressed to their organisation ("Doorverwijzingen") with each one's decision state.

The form is a step like the API's (services/referrals/routes.py): through the gate under the
household's worklist, the same request model, one access-log entry. The list is one read
through the gate under the `referrals` resource (purpose prosecution), one entry per page.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from privacy.policy import AccessRequest, Decision
from privacy.purposes import PurposeRegister, Resource
from radar.case import case_id
from radar.case_assessment import assessment_id
from services.casework.service import Casework
from services.errors import Refusal, RefusalKind
from services.gate import Answer
from services.http import endpoint
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.purposeful import Pages
from services.pages.sessions import PageSession, SessionBook
from services.pages.step_routes import Household, Text, page_step, parsed
from services.pages.web import refused_page, see_other
from services.referrals.service import NOT_REFERRING, REFERRING_PURPOSES, record_referral
from services.referrals.store import ReferralStore
from services.referrals.views import ReferralRequest

ReportId = Annotated[str, Form(pattern=r"^[0-9a-f-]{36}$")]
Chosen = Annotated[list[str] | None, Form()]


def referral_routes(
    router: APIRouter,
    sessions: SessionBook,
    casework: Casework,
    register: PurposeRegister,
    store: ReferralStore,
    recipients: Collection[str],
) -> None:
    @router.post("/pages/households/{household}/referrals")
    def refer(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        report_id: ReportId,
        recipient: Annotated[str, Form(max_length=64)],
        reason: Text,
        persons: Chosen = None,
        signals: Chosen = None,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """Doorverwijzen naar OM: the persons and signals VT ticked, to one recipient."""
        session = current(request, sessions)
        if session is None:
            return see_other(SIGN_IN)
        access = page_step(casework, session, household, purpose)

        def perform() -> None:
            if purpose not in REFERRING_PURPOSES:
                raise Refusal(RefusalKind.FORBIDDEN, NOT_REFERRING)
            body = parsed(
                ReferralRequest,
                {
                    "purpose": purpose,
                    "assessment_id": assessment_id(case_id(household), report_id),
                    "recipient": recipient,
                    "persons": persons or [],
                    "signals": signals or [],
                    "reason": reason,
                },
            )
            record_referral(casework, session.analyst, household, body, recipients)

        try:
            require_csrf(csrf, session.csrf)
            casework.perform(access, endpoint(request), ["referral"], perform)
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return see_other(f"/pages/households/{household}?purpose={purpose}")

    pages = Pages(sessions, register)

    @router.get("/pages/referrals")
    def referrals(
        request: Request, purpose: Annotated[str | None, Query(max_length=64)] = None
    ) -> Response:
        """Doorverwijzingen: the referrals addressed to the person's organisation."""

        def read(session: PageSession, chosen: str) -> dict[str, Any]:
            access = AccessRequest(
                actor=session.analyst,
                resource=Resource.REFERRALS,
                purpose=chosen,
                subject_region=str(session.analyst.region),
            )

            def listed(_decision: Decision) -> Answer:
                found = store.addressed_to(session.analyst.organisation)
                return Answer({"referrals": found}, ["referrals"], len(found))

            context: dict[str, Any] = casework.gate.answer(access, endpoint(request), listed)
            return context

        return pages.page(request, Resource.REFERRALS, purpose, "referrals.html", read)
