"""The privacy officer's and the auditor's pages: the access-log search, the break-glass review
queue with its review form, the restrictions, the purpose register in force, and the auditor's
one page to the existing reports (verify, replay as of a moment, access compliance). Every read
goes through the gate with the purpose chosen first, like the API's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from services.audit import report as html_report
from services.audit import service as audit
from services.audit.snapshot import Selection
from services.errors import Refusal, field_errors, invalid
from services.gate import Answer
from services.http import endpoint
from services.oversight.service import OversightQueries
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.purposeful import Pages
from services.pages.sessions import PageSession, SessionBook
from services.pages.web import PAGE_HEADERS, refused_page, render, see_other
from services.projections.read_model import ReadModelsOf
from services.settings import Settings
from services.timelines.views import BreakGlassReview

Purpose = Annotated[str | None, Query(max_length=64)]
Moment = Annotated[datetime | None, Query()]
Filter = Annotated[str | None, Query(max_length=64)]
REPORT_HEADERS = {
    **PAGE_HEADERS,
    # the audit reports carry their own style sheet inline; still no script of any kind
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _matches(entry: Any, subject: str | None, outcome: str | None) -> bool:
    payload = entry.payload
    return (not subject or payload.get("subject") == subject) and (
        not outcome or payload.get("outcome") == outcome
    )


def oversight_routes(
    router: APIRouter,
    sessions: SessionBook,
    oversight: OversightQueries,
    settings: Settings,
    read_models: ReadModelsOf,
) -> None:
    gate = oversight.gate
    register = gate.policy.register
    pages = Pages(sessions, register)

    def signed_in(request: Request) -> PageSession | None:
        return current(request, sessions)

    @router.get("/pages/access-log")
    def access_log(
        request: Request,
        purpose: Purpose = None,
        since: Moment = None,
        until: Moment = None,
        subject: Filter = None,
        outcome: Filter = None,
    ) -> Response:
        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            view = oversight.access_log_entries(
                session.analyst, purpose, endpoint(request), _utc(since), _utc(until)
            )
            entries = [e for e in view.entries if _matches(e, subject, outcome)]
            return {"entries": entries, "subject": subject or "", "outcome": outcome or ""}

        return pages.page(request, Resource.ACCESS_LOG, purpose, "access_log.html", read)

    @router.get("/pages/break-glass")
    def break_glass(request: Request, purpose: Purpose = None) -> Response:
        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            queue = oversight.break_glass_queue(session.analyst, purpose, endpoint(request), False)
            return {"accesses": queue.accesses}

        return pages.page(request, Resource.BREAK_GLASS_REVIEWS, purpose, "break_glass.html", read)

    @router.post("/pages/break-glass/{access_seq}/review")
    def review(
        request: Request,
        access_seq: Annotated[int, Path(ge=1)],
        purpose: Annotated[str, Form(max_length=64)],
        outcome: Annotated[str, Form(max_length=16)],
        note: Annotated[str, Form(max_length=2000)] = "",
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        session = signed_in(request)
        if session is None:
            return see_other(SIGN_IN)
        try:
            require_csrf(csrf, session.csrf)
            try:
                body = BreakGlassReview(purpose=purpose, outcome=outcome, note=note)  # type: ignore[arg-type]
            except ValidationError as error:
                raise invalid(field_errors(error)) from error
            oversight.review_break_glass(session.analyst, access_seq, body, endpoint(request))
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return see_other(f"/pages/break-glass?purpose={purpose}")

    @router.get("/pages/restrictions")
    def restrictions(request: Request, purpose: Purpose = None) -> Response:
        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            access = AccessRequest(
                actor=session.analyst, resource=Resource.RESTRICTIONS, purpose=purpose
            )

            def listed(_decision: Decision) -> Answer:
                found = gate.restrictions.all(False)
                return Answer(found, ["restrictions"], len(found))

            return {"restrictions": gate.answer(access, endpoint(request), listed)}

        return pages.page(request, Resource.RESTRICTIONS, purpose, "restrictions.html", read)

    @router.get("/pages/notices")
    def notices(request: Request, purpose: Purpose = None) -> Response:
        """The region's households opened from another region (bovenregionaal, break-glass)."""

        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            return {"view": oversight.notices(session.analyst, purpose, endpoint(request))}

        return pages.page(request, Resource.ACCESS_NOTICES, purpose, "notices.html", read)

    @router.get("/pages/register")
    def purpose_register(request: Request) -> Response:
        """The purpose register in force: rules, not personal data (read without the gate)."""
        session = signed_in(request)
        if session is None:
            return see_other(SIGN_IN)
        return render(request, "register.html", session.locale, session=session, register=register)

    @router.get("/pages/audit")
    def audit_home(request: Request) -> Response:
        session = signed_in(request)
        if session is None:
            return see_other(SIGN_IN)
        return render(request, "audit.html", session.locale, session=session)

    @router.get("/pages/audit/{report}")
    def audit_report(
        request: Request,
        report: Annotated[str, Path(pattern="^(verify|replay|access)$")],
        purpose: Purpose = "audit",
        as_of: Moment = None,
        since: Moment = None,
        until: Moment = None,
    ) -> Response:
        """One of the auditors' existing reports, in the pages' session."""
        session = signed_in(request)
        if session is None:
            return see_other(SIGN_IN)
        access = AccessRequest(session.analyst, Resource.AUDIT_REPLAY, purpose)

        def read(_decision: Decision) -> Answer:
            return _report(settings, read_models, report, _utc(as_of), _utc(since), _utc(until))

        try:
            html: str = gate.answer(access, endpoint(request), read)
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return HTMLResponse(html, headers=REPORT_HEADERS)


def _report(
    settings: Settings,
    read_models: ReadModelsOf,
    report: str,
    as_of: datetime | None,
    since: datetime | None,
    until: datetime | None,
) -> Answer:
    if report == "verify":
        result = audit.verify_report(settings, use_kafka=False).as_dict()
        return Answer(html_report.verify_html(result), ["audit_verify"], len(result["faults"]))
    if report == "access":
        found = orjson.loads(
            orjson.dumps(audit.access_report(settings, since, until).as_dict(), default=str)
        )
        return Answer(html_report.access_html(found), ["audit_access"], found["accesses_checked"])
    try:
        replayed = audit.replay_report(
            settings, read_models, as_of or datetime.now(UTC), Selection(None, None), None
        )
    except audit.AuditError as error:
        raise invalid([], str(error)) from error
    signals = sum(len(h["signals"]) for h in replayed["households"])
    return Answer(html_report.replay_html(replayed), ["audit_replay"], signals)
