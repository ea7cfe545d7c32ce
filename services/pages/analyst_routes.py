"""The VT analyst's pages: the region's worklist by urgency, and a household with its timeline,
risk chart and explanation. A purpose is chosen before anything is shown; a household of
another region asks for a written justification (or break-glass) first. Each page that shows
personal data is one decision of the gate, one access-log entry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import Response

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.alerts import TriageOutcome
from radar.safety_assessment import CURRENT_VERSION, instrument
from services.casework.service import Casework
from services.casework.views import WorklistView
from services.errors import Refusal, RefusalKind
from services.gate import Answer
from services.http import endpoint
from services.pages.dashboard import KIND_COLOURS, NORM_DAYS, age_bars, kind_bars
from services.pages.household import HouseholdPages
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.purposeful import Pages, with_purpose
from services.pages.sessions import PageSession, SessionBook
from services.pages.web import refused_page, render, see_other

Purpose = Annotated[str | None, Query(max_length=64)]
Household = Annotated[HouseholdPseudonymV2, Path()]
Filter = Annotated[str | None, Query(max_length=64)]


def analyst_routes(
    router: APIRouter,
    sessions: SessionBook,
    casework: Casework,
    households: HouseholdPages,
) -> None:
    register = casework.gate.policy.register
    pages = Pages(sessions, register)

    def read_worklist(request: Request, session: PageSession, purpose: str) -> WorklistView:
        """The region's open alerts through the gate: one decision, one access-log entry."""
        region = str(session.analyst.region)
        access = AccessRequest(
            actor=session.analyst,
            resource=Resource.WORKLIST,
            purpose=purpose,
            subject_region=region,
        )

        def read(decision: Decision) -> Answer:
            return casework.worklist_answer(decision, region, purpose)

        view: WorklistView = casework.gate.answer(access, endpoint(request), read)
        return view

    @router.get("/pages/dashboard")
    def dashboard(request: Request, purpose: Purpose = None) -> Response:
        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            view = read_worklist(request, session, purpose)
            return {
                "view": view,
                "over_norm": sum(1 for a in view.alerts if a.days_open >= NORM_DAYS),
                "ages": age_bars(view.alerts),
                "kinds": kind_bars(view.alerts, view.generated_at),
                "colours": KIND_COLOURS,
            }

        return pages.page(request, Resource.WORKLIST, purpose, "dashboard.html", read)

    @router.get("/pages/worklist")
    def worklist(
        request: Request,
        purpose: Purpose = None,
        kind: Filter = None,
        children: Filter = None,
        after: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            casework.read_after(after, casework.worklist)
            view = read_worklist(request, session, purpose)
            shown = [
                a
                for a in view.alerts
                if (not kind or a.kind == kind) and (children != "yes" or a.children_present)
            ]
            kinds = sorted({a.kind for a in view.alerts})
            return {
                "view": view,
                "alerts": shown,
                "kinds": kinds,
                "kind": kind,
                "children": children,
            }

        return pages.page(request, Resource.WORKLIST, purpose, "worklist.html", read)

    @router.get("/pages/households/{household}")
    def household_page(
        request: Request,
        household: Household,
        purpose: Purpose = None,
        after: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        found = with_purpose(request, sessions, register, Resource.HOUSEHOLD_TIMELINE, purpose)
        if isinstance(found, Response):
            return found
        session, purpose = found
        try:  # after a step: the page waits (bounded) until it shows the step
            # a finding changes the timeline (marked, left out of the score): it waits too
            casework.read_after(
                after, casework.worklist, casework.monitoring, households.timelines.timelines
            )
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        granted = session.grants.get(household)  # opened before with a justification
        return _household(request, session, household, purpose, granted, False)

    @router.post("/pages/households/{household}/open")
    def open_household(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        justification: Annotated[str, Form(max_length=2000)] = "",
        break_glass: Annotated[str | None, Form(max_length=8)] = None,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """Another region's household, or acute danger: opened with the written reason,
        posted (never in a URL) and kept in the access log."""
        session = current(request, sessions)
        if session is None:
            return see_other(SIGN_IN)
        try:
            require_csrf(csrf, session.csrf)
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        glass = break_glass == "yes"
        return _household(request, session, household, purpose, justification or None, glass)

    def _household(
        request: Request,
        session: PageSession,
        household: str,
        purpose: str,
        justification: str | None,
        break_glass: bool,
    ) -> Response:
        actor = session.analyst
        region = casework.gate.household_region(household)
        elsewhere = region is not None and region != str(actor.region)
        try:
            page = households.open(
                actor, household, purpose, endpoint(request), justification, break_glass
            )
        except Refusal as refusal:
            session.grants.pop(household, None)  # a grant the gate no longer honours
            if refusal.kind == RefusalKind.FORBIDDEN and (elsewhere or break_glass):
                return render(
                    request,
                    "justify.html",
                    session.locale,
                    403,
                    session=session,
                    household=household,
                    purpose=purpose,
                    region=region,
                    refusal=refusal,
                )
            return refused_page(request, session.locale, refusal, session=session)
        if elsewhere and justification and not break_glass:
            session.grants[household] = justification  # the forms' steps carry it on
        return render(
            request,
            "household.html",
            session.locale,
            session=session,
            household=household,
            purpose=purpose,
            page=page,
            members=sorted(
                {p["pseudonym"] for s in page.timeline["signals"] for p in s.get("persons") or []}
            ),
            may_act=not elsewhere or household in session.grants,
            outcomes=[str(o) for o in TriageOutcome],
            instrument=instrument(CURRENT_VERSION).describe(),
        )
