"""The query API. No data is read before the policy decision point has permitted the query."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import structlog
from fastapi import Depends, FastAPI, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from contracts.pseudonyms import HouseholdPseudonym
from privacy.actors import Actor
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.policy import PolicyDecisionPoint
from privacy.pseudonyms import Pseudonymiser
from radar.timeline import TimelineEntry
from services.http import ApiError, RequestLimits, actor_dependency, install_error_handlers
from services.ingest.submissions import AddressSubmission
from services.read_models.timeline_store import TimelineStore

log = structlog.get_logger("radar.query")


class PersonView(BaseModel):
    pseudonym: str
    role: str


class SignalView(BaseModel):
    """One signal as an analyst sees it."""

    signal_id: UUID
    organisation: str
    sector: str
    signal_type: str
    severity: str
    occurred_at: datetime
    reported_at: datetime
    region: str
    persons: list[PersonView]


class TimelineView(BaseModel):
    """A household's signals in occurred-at order, for the stated purpose."""

    household: str
    purpose: str
    signals: list[SignalView]


class AddressSearch(BaseModel):
    """Find a household by its address (the address is pseudonymised, never stored or logged)."""

    model_config = ConfigDict(extra="forbid")

    address: AddressSubmission
    purpose: str | None = None


def _view(entry: TimelineEntry) -> SignalView:
    return SignalView(
        signal_id=entry.signal_id,
        organisation=entry.organisation,
        sector=entry.sector,
        signal_type=entry.signal_type,
        severity=entry.severity,
        occurred_at=entry.occurred_at,
        reported_at=entry.reported_at,
        region=entry.region,
        persons=[PersonView(pseudonym=p, role=r) for p, r in entry.persons],
    )


def create_query_app(
    store: TimelineStore,
    policy: PolicyDecisionPoint,
    authority: TokenAuthority,
    pseudonymiser: Pseudonymiser,
    max_body_bytes: int = 64 * 1024,
) -> FastAPI:
    """The query API over the timeline read model."""
    app = FastAPI(title="Signal radar query API", version="1.0.0")
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes)
    authenticated = actor_dependency(authority, Audience.QUERY)

    def answer(actor: Actor, household: str, purpose: str | None) -> TimelineView:
        decision = policy.decide(actor, purpose)
        log.info(
            "timeline query",
            subject=actor.subject,
            household=household,
            purpose=decision.purpose,
            permitted=decision.permitted,
        )
        if not decision.permitted:
            raise ApiError(403, decision.reason)
        entries = store.timeline(household)
        return TimelineView(
            household=household, purpose=purpose or "", signals=[_view(e) for e in entries]
        )

    @app.get("/v1/households/{household}/timeline", response_model=TimelineView)
    def household_timeline(
        household: Annotated[HouseholdPseudonym, Path(description="Household pseudonym")],
        purpose: Annotated[str | None, Query(max_length=64)] = None,
        actor: Actor = Depends(authenticated),  # noqa: B008
    ) -> TimelineView:
        """A household's timeline; 403 unless the purpose is registered and granted to the role."""
        return answer(actor, household, purpose)

    @app.post("/v1/households/search", response_model=TimelineView)
    def search_by_address(
        search: AddressSearch,
        actor: Actor = Depends(authenticated),  # noqa: B008
    ) -> TimelineView:
        """The timeline of the household at an address, for a stated purpose."""
        address = HomeAddress.normalised(
            search.address.postcode, search.address.house_number, search.address.addition
        )
        return answer(actor, pseudonymiser.household(address), search.purpose)

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "live"}

    @app.get("/health/ready")
    def ready() -> JSONResponse:
        try:
            store.position()
        except Exception:
            return JSONResponse({"database": "down"}, status_code=503)
        return JSONResponse({"database": "up"}, status_code=200)

    return app
