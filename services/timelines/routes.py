"""The timeline routes: a household's or a person's signals for a declared purpose. Each answers
through the query gate: nothing is read before the policy decision point has permitted it, and
every request leaves one access-log entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from contracts.pseudonyms_v2 import HouseholdPseudonymV2, PersonPseudonymV2
from privacy.actors import Analyst
from privacy.addresses import HomeAddress
from services.errors import invalid_field
from services.http import BODY_ERRORS, QUERY_ERRORS, endpoint
from services.projections.waiting import After
from services.timelines.service import TimelineQueries
from services.timelines.views import (
    PersonTimelineRequest,
    PersonTimelineView,
    TimelineRequest,
    TimelineView,
)

HOUSEHOLD_PATH = "Household pseudonym (hh. by address, hs. by a shelter's placement)"
PERSON_PATH = "Person pseudonym (p. by BSN, pl. by a publisher-local reference)"
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


def timeline_router(
    queries: TimelineQueries,
    household_of: Callable[[HomeAddress], str],
    person: Callable[..., Any],
    read_after: Callable[[int | None], None],
) -> APIRouter:
    """Household and person timelines; `household_of` finds the household of an address;
    `read_after` waits (bounded) until the read models show a step recorded at a position."""
    api = APIRouter(tags=["timeline"], responses=QUERY_ERRORS)

    @api.get(
        "/v1/households/{household}/timeline",
        response_model=TimelineView,
        response_model_exclude_unset=True,
    )
    def household_timeline(
        request: Request,
        household: Annotated[HouseholdPseudonymV2, Path(description=HOUSEHOLD_PATH)],
        purpose: Purpose = None,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Response:
        """A household's timeline; 403 unless the purpose allows it for this actor."""
        read_after(after)
        return _json(queries.timeline_json(actor, household, purpose, endpoint(request)))

    @api.post(
        "/v1/households/timeline",
        response_model=TimelineView,
        response_model_exclude_unset=True,
        responses=BODY_ERRORS,
    )
    def open_timeline(
        request: Request,
        body: TimelineRequest,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Response:
        """Open a timeline by pseudonym or address, with a justification across regions or
        for break-glass (acute danger)."""
        read_after(after)
        if (body.household is None) == (body.address is None):
            raise invalid_field("household", "give either household or address")
        household = body.household
        if body.address is not None:
            address = HomeAddress.normalised(
                body.address.postcode, body.address.house_number, body.address.addition
            )
            household = household_of(address)
        assert household is not None
        return _json(
            queries.timeline_json(
                actor,
                household,
                body.purpose,
                endpoint(request),
                justification=body.justification,
                break_glass=body.break_glass,
            )
        )

    @api.get(
        "/v1/persons/{pseudonym}/timeline",
        response_model=PersonTimelineView,
        response_model_exclude_unset=True,
    )
    def person_timeline(
        request: Request,
        pseudonym: Annotated[PersonPseudonymV2, Path(description=PERSON_PATH)],
        purpose: Purpose = None,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> PersonTimelineView:
        """A person's households over time and the signals naming them, in every region;
        403 unless the purpose allows it for this actor."""
        read_after(after)
        return queries.person_timeline(actor, pseudonym, purpose, endpoint(request))

    @api.post(
        "/v1/persons/timeline",
        response_model=PersonTimelineView,
        response_model_exclude_unset=True,
        responses=BODY_ERRORS,
    )
    def open_person_timeline(
        request: Request,
        body: PersonTimelineRequest,
        after: After = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> PersonTimelineView:
        """Open a person's timeline with a justification across regions or for break-glass."""
        read_after(after)
        return queries.person_timeline(
            actor,
            body.person,
            body.purpose,
            endpoint(request),
            justification=body.justification,
            break_glass=body.break_glass,
        )

    return api


def _json(body: bytes) -> Response:
    """A timeline already encoded as its response model (TimelineView) encodes it: FastAPI
    passes a Response through, the model still documents it."""
    return Response(content=body, media_type="application/json")
