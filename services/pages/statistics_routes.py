"""The region's figures as pages: the lead-time table (both norms per region over a period) and
the effect monitor (the programme's figures for the own region and the country), each figure
with its definition beside it. Counts only, never a household; still one decision of the gate
and one access-log entry per page, like the API's routes, whose services these call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.effect_monitor import NATIONAL, effect_monitor
from radar.lead_times import lead_time_table
from radar.periods import Period, PeriodError
from radar.safety import dutch_date
from services.casework.lead_time_store import LeadTimeStore
from services.casework.lead_time_views import table_view
from services.errors import invalid_field
from services.gate import Answer, QueryGate
from services.http import endpoint
from services.ledger.application import SignalLedger
from services.pages.purposeful import Pages
from services.pages.sessions import PageSession
from services.statistics.replay import history_as_of

Purpose = Annotated[str | None, Query(max_length=64)]
MAX_PERIOD_DAYS = 3 * 366
"""As the API's: a longer table is a batch job, not a page."""


def statistics_routes(
    router: APIRouter,
    pages: Pages,
    gate: QueryGate,
    lead_times: LeadTimeStore,
    ledger: Callable[[], SignalLedger],
) -> None:
    def answered(
        request: Request, session: PageSession, resource: Resource, purpose: str, read: Any
    ) -> Any:
        """One decision for the person's own region, one access-log entry."""
        access = AccessRequest(
            actor=session.analyst,
            resource=resource,
            purpose=purpose,
            subject_region=str(session.analyst.region),
        )
        return gate.answer(access, endpoint(request), read)

    @router.get("/pages/lead-times")
    def lead_time_page(
        request: Request,
        purpose: Purpose = None,
        first: Annotated[date | None, Query(alias="from")] = None,
        last: Annotated[date | None, Query(alias="to")] = None,
    ) -> Response:
        """Reports dated in the period (default: this year so far), as of today."""

        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            today = dutch_date(gate.clock())
            start, end = first or today.replace(month=1, day=1), last or today
            if end < start:
                raise invalid_field("to", "the period ends before it starts")
            if (end - start).days > MAX_PERIOD_DAYS:
                raise invalid_field("to", f"a period covers at most {MAX_PERIOD_DAYS} days")

            def table(_decision: Decision) -> Answer:
                rows = lead_time_table(lead_times.report_dates(start, end), start, end, today)
                body = table_view(rows, start, end, today)
                return Answer(body, ["lead_times"], len(body.regions))

            return {"table": answered(request, session, Resource.WORKLIST, purpose, table)}

        return pages.page(request, Resource.WORKLIST, purpose, "lead_times.html", read)

    @router.get("/pages/effect-monitor")
    def effect_monitor_page(
        request: Request,
        purpose: Purpose = None,
        period: Annotated[str | None, Query(max_length=7)] = None,
    ) -> Response:
        """The figures of a period (default: this year), as of now, replayed from the store."""

        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            now = gate.clock().astimezone(UTC)
            try:
                chosen = Period.parse(period or str(now.year))
            except PeriodError as error:
                raise invalid_field("period", str(error)) from None
            region = str(session.analyst.region)

            def figures(_decision: Decision) -> Answer:
                found = effect_monitor(history_as_of(ledger(), now), chosen, now)
                shown = {name: found[name] for name in (region, NATIONAL) if name in found}
                return Answer(shown, [], len(shown))

            regions = answered(request, session, Resource.EFFECT_MONITOR, purpose, figures)
            return {"period": str(chosen), "as_of": now, "regions": regions}

        return pages.page(request, Resource.EFFECT_MONITOR, purpose, "effect_monitor.html", read)
