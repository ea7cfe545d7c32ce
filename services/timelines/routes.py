"""The query API. Every endpoint goes through the query gate: no data is read before the
policy decision point has permitted it, and every request leaves one access-log entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.responses import JSONResponse

from contracts.pseudonyms import HouseholdPseudonym, PersonPseudonym
from privacy.actors import Analyst
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from services.gate import QueryGate
from services.http import (
    BODY_ERRORS,
    QUERY_ERRORS,
    STEP_ERRORS,
    ApiError,
    FieldError,
    actor_dependency,
    endpoint,
    new_api,
)
from services.timelines.views import (
    AccessLogView,
    BreakGlassQueue,
    BreakGlassReview,
    BreakGlassView,
    NoticesView,
    PersonTimelineRequest,
    PersonTimelineView,
    TimelineRequest,
    TimelineView,
)

Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


def create_query_app(
    gate: QueryGate,
    authority: TokenAuthority,
    household_of: Callable[[HomeAddress], str],
    routers: Sequence[APIRouter] = (),
    max_body_bytes: int = 64 * 1024,
) -> FastAPI:
    """The query API over the read models, behind the gate."""
    app = new_api("Signal radar query API", max_body_bytes)
    person = actor_dependency(
        authority, Audience.QUERY, Analyst, "publishers cannot query the radar"
    )

    api = APIRouter(tags=["timeline"], responses=QUERY_ERRORS)

    @api.get(
        "/v1/households/{household}/timeline",
        response_model=TimelineView,
        response_model_exclude_unset=True,
    )
    def household_timeline(
        request: Request,
        household: Annotated[HouseholdPseudonym, Path(description="Household pseudonym")],
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> TimelineView:
        """A household's timeline; 403 unless the purpose allows it for this actor."""
        return gate.timeline(actor, household, purpose, endpoint(request))

    @api.post(
        "/v1/households/timeline",
        response_model=TimelineView,
        response_model_exclude_unset=True,
        responses=BODY_ERRORS,
    )
    def open_timeline(
        request: Request,
        body: TimelineRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> TimelineView:
        """Open a timeline by pseudonym or address, with a justification across regions or
        for break-glass (acute danger)."""
        if (body.household is None) == (body.address is None):
            raise ApiError(
                422,
                "request is not valid",
                [FieldError(field="household", reason="give either household or address")],
            )
        household = body.household
        if body.address is not None:
            address = HomeAddress.normalised(
                body.address.postcode, body.address.house_number, body.address.addition
            )
            household = household_of(address)
        assert household is not None
        return gate.timeline(
            actor,
            household,
            body.purpose,
            endpoint(request),
            justification=body.justification,
            break_glass=body.break_glass,
        )

    @api.get(
        "/v1/persons/{pseudonym}/timeline",
        response_model=PersonTimelineView,
        response_model_exclude_unset=True,
    )
    def person_timeline(
        request: Request,
        pseudonym: Annotated[PersonPseudonym, Path(description="Person pseudonym")],
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> PersonTimelineView:
        """A person's households over time and the signals naming them, in every region;
        403 unless the purpose allows it for this actor."""
        return gate.person_timeline(actor, pseudonym, purpose, endpoint(request))

    @api.post(
        "/v1/persons/timeline",
        response_model=PersonTimelineView,
        response_model_exclude_unset=True,
        responses=BODY_ERRORS,
    )
    def open_person_timeline(
        request: Request,
        body: PersonTimelineRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> PersonTimelineView:
        """Open a person's timeline with a justification across regions or for break-glass."""
        return gate.person_timeline(
            actor,
            body.person,
            body.purpose,
            endpoint(request),
            justification=body.justification,
            break_glass=body.break_glass,
        )

    @api.get("/v1/access-log", response_model=AccessLogView)
    def access_log(
        request: Request,
        purpose: Purpose = None,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AccessLogView:
        """The access log (privacy officers and auditors); this read is itself logged."""
        return gate.access_log_entries(actor, purpose, endpoint(request), since, until)

    @api.get("/v1/break-glass", response_model=BreakGlassQueue)
    def break_glass_queue(
        request: Request,
        purpose: Purpose = None,
        open_only: bool = True,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> BreakGlassQueue:
        """Break-glass accesses awaiting (or with) the privacy officer's review."""
        return gate.break_glass_queue(actor, purpose, endpoint(request), open_only)

    @api.post(
        "/v1/break-glass/{access_seq}/review", response_model=BreakGlassView, responses=STEP_ERRORS
    )
    def review_break_glass(
        request: Request,
        access_seq: Annotated[int, Path(ge=1)],
        review: BreakGlassReview,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> BreakGlassView:
        """Record whether a break-glass access was justified."""
        return gate.review_break_glass(actor, access_seq, review, endpoint(request))

    @api.get("/v1/notices", response_model=NoticesView)
    def notices(
        request: Request,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> NoticesView:
        """Households of the actor's region opened from another region, newest first."""
        return gate.notices(actor, purpose, endpoint(request))

    for router in [api, *routers]:
        app.include_router(router)

    @app.get("/health/ready")
    def ready() -> JSONResponse:
        try:
            gate.timelines.position()
            gate.access_log.count()
        except Exception:
            return JSONResponse({"database": "down"}, status_code=503)
        return JSONResponse({"database": "up"}, status_code=200)

    return app
