"""Restriction of processing (AVG art. 18) over HTTP: the privacy officer places, lifts and
lists restrictions, for purpose `accountability`, through the gate like any other request.

Each request leaves one access-log entry (permit or deny); a placing or lifting leaves, before
it, its own entry (restriction_placed / restriction_lifted) written with the register row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from contracts.pseudonyms_v2 import AnyPseudonymV2
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from privacy.storage.restrictions import (
    Restriction,
    RestrictionError,
    RestrictionProblem,
    subject_kind,
)
from services.errors import FieldError, Refusal, RefusalKind, invalid
from services.gate import Answer, QueryGate
from services.http import BODY_ERRORS, QUERY_ERRORS, STEP_ERRORS, endpoint

RestrictionId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Restriction id")]


class RestrictionRequest(BaseModel):
    """Restrict a household or a person, with a reason (no identifiers: it is logged)."""

    model_config = ConfigDict(extra="forbid")

    subject: AnyPseudonymV2 = Field(
        description="Household (hh.… or hs.…) or person (p.… or pl.…) pseudonym."
    )
    reason: str = Field(min_length=10, max_length=2000)
    purpose: str = Field(max_length=64)


class LiftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=64)


class RestrictionView(BaseModel):
    restriction_id: str
    subject: str
    subject_kind: str
    reason: str
    placed_by: str
    placed_at: datetime
    lifted_by: str | None
    lifted_at: datetime | None
    active: bool


class RestrictionsView(BaseModel):
    restrictions: list[RestrictionView]


def restriction_router(gate: QueryGate, actor: Callable[..., Analyst]) -> APIRouter:
    """The restriction routes; `actor` is the analysts' authentication dependency."""
    router = APIRouter(tags=["restrictions"], responses={**QUERY_ERRORS, **BODY_ERRORS})
    register = gate.restrictions

    @router.post("/v1/restrictions", response_model=RestrictionView, status_code=201)
    def place(
        request: Request,
        body: RestrictionRequest,
        analyst: Analyst = Depends(actor),  # noqa: B008
    ) -> RestrictionView:
        """Restrict processing of a household or person until lifted."""
        access = _request(gate, analyst, body.purpose, body.subject)

        def read(_decision: Decision) -> Answer:
            return _one(lambda: register.place(body.subject, body.reason, _who(analyst)))

        result: RestrictionView = gate.answer(access, endpoint(request), read)
        return result

    @router.post(
        "/v1/restrictions/{restriction_id}/lift",
        response_model=RestrictionView,
        responses=STEP_ERRORS,
    )
    def lift(
        request: Request,
        restriction_id: RestrictionId,
        body: LiftRequest,
        analyst: Analyst = Depends(actor),  # noqa: B008
    ) -> RestrictionView:
        """Lift a restriction: ordinary purposes see the subject again."""
        found = register.get(restriction_id)
        access = _request(gate, analyst, body.purpose, found.subject if found else None)

        def read(_decision: Decision) -> Answer:
            return _one(lambda: register.lift(restriction_id, _who(analyst)))

        result: RestrictionView = gate.answer(access, endpoint(request), read)
        return result

    @router.get("/v1/restrictions", response_model=RestrictionsView)
    def restrictions(
        request: Request,
        purpose: Annotated[str | None, Query(max_length=64)] = None,
        active_only: bool = False,
        analyst: Analyst = Depends(actor),  # noqa: B008
    ) -> RestrictionsView:
        """Restrictions in the order they were placed (also lifted ones unless active_only)."""
        access = _request(gate, analyst, purpose, None)

        def read(_decision: Decision) -> Answer:
            views = [_view(r) for r in register.all(active_only)]
            return Answer(RestrictionsView(restrictions=views), ["restrictions"], len(views))

        result: RestrictionsView = gate.answer(access, endpoint(request), read)
        return result

    return router


def _request(
    gate: QueryGate, analyst: Analyst, purpose: str | None, subject: str | None
) -> AccessRequest:
    household = subject is not None and subject_kind(subject) == "household"
    region = gate.household_region(subject) if household and subject else None
    return AccessRequest(
        actor=analyst,
        resource=Resource.RESTRICTIONS,
        purpose=purpose,
        subject=subject,
        subject_region=region,
    )


_REFUSAL_OF = {
    RestrictionProblem.UNKNOWN: RefusalKind.NOT_FOUND,
    RestrictionProblem.ALREADY_LIFTED: RefusalKind.CONFLICT,
}


def _one(change: Callable[[], Restriction]) -> Answer:
    """One placed or lifted restriction; a refusal the gate logs as a deny."""
    try:
        restriction = change()
    except RestrictionError as error:
        if error.problem == RestrictionProblem.INVALID:
            raise invalid([FieldError(field="reason", reason=str(error))], str(error)) from None
        raise Refusal(_REFUSAL_OF[error.problem], str(error)) from None
    return Answer(_view(restriction), ["restriction"], 1)


def _who(analyst: Analyst) -> dict[str, str]:
    return {
        "subject": analyst.subject,
        "organisation": analyst.organisation,
        "role": str(analyst.role),
        "region": str(analyst.region),
    }


def _view(restriction: Restriction) -> RestrictionView:
    return RestrictionView(
        restriction_id=restriction.restriction_id,
        subject=restriction.subject,
        subject_kind=restriction.subject_kind,
        reason=restriction.reason,
        placed_by=restriction.placed_by,
        placed_at=restriction.placed_at,
        lifted_by=restriction.lifted_by,
        lifted_at=restriction.lifted_at,
        active=restriction.active,
    )
