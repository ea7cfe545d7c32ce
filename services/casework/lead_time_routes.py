"""The lead-time table route: per region, both norms over any period (radar.lead_times).

The table counts reports and names no household, report or person; it is still answered
through the gate (Resource.WORKLIST, the analyst's own region as the decided scope, Veilig
Thuis roles only) so that every look at it is an access-log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.lead_times import lead_time_table
from radar.safety import dutch_date
from services.casework.lead_time_store import LeadTimeStore
from services.casework.lead_time_views import LeadTimeTableView, table_view
from services.errors import invalid_field
from services.gate import Answer, QueryGate
from services.http import QUERY_ERRORS, endpoint

MAX_PERIOD_DAYS = 3 * 366
"""The longest period one table covers (three years): longer is a batch job, not a page."""
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


def lead_times_for(
    store: LeadTimeStore, first: date, last: date, now: datetime
) -> LeadTimeTableView:
    """The table over [first, last] as of `now`'s Dutch date (the API's and the CLI's)."""
    today = dutch_date(now)
    return table_view(
        lead_time_table(store.report_dates(first, last), first, last, today), first, last, today
    )


def lead_time_router(
    gate: QueryGate, store: LeadTimeStore, person: Callable[..., Analyst]
) -> APIRouter:
    router = APIRouter(tags=["lead times"], responses=QUERY_ERRORS)

    @router.get("/v1/lead-times", response_model=LeadTimeTableView)
    def lead_times(
        request: Request,
        first: Annotated[date, Query(alias="from", description="First report date.")],
        last: Annotated[date, Query(alias="to", description="Last report date (inclusive).")],
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """Per region, the reports dated in the period: decisions within 5 working days (norm
        90 %) and investigations closed within 10 weeks (norm 80 %), as of today."""
        if last < first:
            raise invalid_field("to", "the period ends before it starts")
        if (last - first).days > MAX_PERIOD_DAYS:
            raise invalid_field("to", f"a period covers at most {MAX_PERIOD_DAYS} days")
        access = AccessRequest(
            actor=actor,
            resource=Resource.WORKLIST,
            purpose=purpose,
            subject_region=str(actor.region),
        )

        def read(_decision: Decision) -> Answer:
            body = lead_times_for(store, first, last, gate.clock())
            return Answer(body, ["lead_times"], len(body.regions))

        return gate.answer(access, endpoint(request), read)

    return router
