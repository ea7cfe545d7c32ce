"""Handle with Care as pages: the school's or leerplicht office's notices (Handle with
Care-meldingen) with their acknowledgement, and Veilig Thuis's notices to check, each confirmed
(with the child's municipality) or declined (with a reason). Every read and step goes through
the same service as the API's routes (services/handle_with_care/service.py): one decision of the
gate and one access-log entry each; a form without its CSRF token is refused."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response

from privacy.purposes import Resource
from radar.safety import NETHERLANDS
from services.errors import Refusal
from services.handle_with_care.service import HandleWithCare
from services.handle_with_care.views import HwcConfirmRequest, HwcDeclineRequest
from services.http import endpoint
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.purposeful import Pages
from services.pages.step_routes import Household, Text, parsed
from services.pages.web import refused_page, see_other
from services.projections.waiting import recorded_position, wait_until

NoticeId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PurposeForm = Annotated[str, Form(max_length=64)]
RECEIVED = "/pages/handle-with-care"
PENDING = "/pages/handle-with-care/pending"
DAY = "%d-%m-%Y"  # as Dutch dates read
DAY_AND_TIME = "%d-%m-%Y %H:%M"


def _local(moment: datetime | str, shape: str = "%H:%M") -> str:
    """A moment as a person in the Netherlands reads it."""
    found = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return found.astimezone(NETHERLANDS).strftime(shape)


def hwc_routes(router: APIRouter, pages: Pages, service: HandleWithCare) -> None:
    def back(to: str, purpose: str) -> Response:
        return see_other(f"{to}?{urlencode({'purpose': purpose})}")

    def step(request: Request, csrf: str | None, act: Any, to: str, purpose: str) -> Response:
        session = current(request, pages.sessions)
        if session is None:
            return see_other(SIGN_IN)
        try:
            require_csrf(csrf, session.csrf)
            act(session.analyst)
            # the next page shows the step: waits (bounded) for the read model, 503 if behind
            wait_until(service.ledger, [service.store], recorded_position(service.ledger()))
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return back(to, purpose)

    @router.get(RECEIVED)
    def received_page(request: Request, purpose: str | None = None) -> Response:
        """The notices addressed to the person's school or leerplicht office."""

        def read(session: Any, purpose: str) -> dict[str, Any]:
            found = service.received(session.analyst, purpose, endpoint(request))
            shown = [
                {**n, "before": _local(n["deadline"]), "day": _local(n["deadline"], DAY)}
                for n in found
            ]
            return {"notices": shown}

        return pages.page(request, Resource.HANDLE_WITH_CARE, purpose, "hwc_received.html", read)

    @router.post(RECEIVED + "/{notice}/acknowledge")
    def acknowledge(
        request: Request,
        notice: NoticeId,
        purpose: PurposeForm,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        def act(analyst: Any) -> None:
            service.acknowledge(analyst, notice, purpose, endpoint(request))

        return step(request, csrf, act, RECEIVED, purpose)

    @router.get(PENDING)
    def pending_page(request: Request, purpose: str | None = None) -> Response:
        """The notices of the person's region that wait for the criteria to be checked."""

        def read(session: Any, purpose: str) -> dict[str, Any]:
            found = service.pending(session.analyst, purpose, endpoint(request))
            return {
                "notices": [
                    {**n, "occurred": _local(n["occurred_at"], DAY_AND_TIME)} for n in found
                ]
            }

        return pages.page(request, Resource.HANDLE_WITH_CARE, purpose, "hwc_pending.html", read)

    @router.post("/pages/households/{household}/handle-with-care/{notice}/{action}")
    def check(
        request: Request,
        household: Household,
        notice: NoticeId,
        action: Annotated[str, Path(pattern="^(confirm|decline)$")],
        purpose: PurposeForm,
        reason: Text,
        municipality: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        def act(analyst: Any) -> None:
            where = municipality.strip() or None
            if action == "confirm":
                body = parsed(HwcConfirmRequest, {"reason": reason, "municipality": where})
            else:
                body = parsed(HwcDeclineRequest, {"reason": reason})
            step_of = (purpose, None, body.reason)
            service.check(
                analyst, household, notice, step_of, endpoint(request), (action == "confirm", where)
            )

        return step(request, csrf, act, PENDING, purpose)
