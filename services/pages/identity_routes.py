"""Re-identification on the pages: who a household is (address, members' BSNs), in three steps
so that nobody sees an identity by a stray click. A form asks the purpose's justification (and
break-glass) the API asks for; a confirmation page says whose identity is about to be shown and
that it is logged; only the confirmed form reads the vault, through the gate, one access-log
entry. The identifiers are only ever in that last page's body: every step is a POST (nothing in
a URL), the titles name no one, and no page is cached."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.purposes import PurposeRegister, Resource
from privacy.storage.vault import IdentityVault
from services.errors import Refusal
from services.gate import QueryGate
from services.http import endpoint
from services.oversight.identity import IdentityRequest, reidentify
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.purposeful import with_purpose
from services.pages.sessions import PageSession, SessionBook
from services.pages.step_routes import parsed
from services.pages.web import refused_page, render, see_other

Household = Annotated[HouseholdPseudonymV2, Path()]
Purpose = Annotated[str, Form(max_length=64)]
Justification = Annotated[str, Form(max_length=2000)]
Choice = Annotated[str | None, Form(max_length=8)]
Csrf = Annotated[str | None, Form()]


def identity_routes(
    router: APIRouter,
    sessions: SessionBook,
    gate: QueryGate,
    vault: IdentityVault,
    register: PurposeRegister,
) -> None:
    def asked(
        request: Request,
        csrf: str | None,
        household: str,
        purpose: str,
        justification: str,
        glass: bool,
    ) -> tuple[PageSession, IdentityRequest] | Response:
        """The signed-in person and the form as the API's request, or the page instead."""
        session = current(request, sessions)
        if session is None:
            return see_other(SIGN_IN)
        try:
            require_csrf(csrf, session.csrf)
            body = parsed(
                IdentityRequest,
                {
                    "purpose": purpose,
                    "justification": justification or session.grants.get(household),
                    "break_glass": glass,
                },
            )
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return session, body

    def context(session: PageSession, household: str, body: IdentityRequest) -> dict[str, Any]:
        return {
            "session": session,
            "household": household,
            "purpose": body.purpose,
            "justification": body.justification or "",
            "break_glass": body.break_glass,
        }

    @router.get("/pages/households/{household}/identity")
    def identity_form(
        request: Request,
        household: Household,
        purpose: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        """The form: nothing is read yet (no access-log entry), so nothing about anyone shows."""
        found = with_purpose(request, sessions, register, Resource.IDENTITY, purpose)
        if isinstance(found, Response):
            return found
        session, purpose = found
        region = gate.household_region(household)
        return render(
            request,
            "identity_form.html",
            session.locale,
            session=session,
            household=household,
            purpose=purpose,
            elsewhere=region is not None and region != str(session.analyst.region),
            granted=household in session.grants,
        )

    @router.post("/pages/households/{household}/identity")
    def identity_shown(
        request: Request,
        household: Household,
        purpose: Purpose,
        justification: Justification = "",
        break_glass: Choice = None,
        confirmed: Choice = None,
        csrf: Csrf = None,
    ) -> Response:
        """Unconfirmed: whose identity is about to be shown and that it is logged (nothing read
        yet). Confirmed: the identity, one decision of the gate, one access-log entry."""
        found = asked(request, csrf, household, purpose, justification, break_glass == "yes")
        if isinstance(found, Response):
            return found
        session, body = found
        shown = context(session, household, body)
        if confirmed != "yes":
            return render(request, "identity_confirm.html", session.locale, **shown)
        try:
            identity = reidentify(gate, vault, session.analyst, household, body, endpoint(request))
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return render(request, "identity.html", session.locale, identity=identity, **shown)
