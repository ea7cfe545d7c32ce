"""The effect monitor route: the programme's figures for the analyst's own region and the
country, for a period, as of any moment; through the gate (purpose, access-log entry) like
every query, although it shows counts only.

Each request replays the store (services/statistics/replay.py): the figures can never drift
from what was stored, at the cost of a read of the store per request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.effect_monitor import NATIONAL, effect_monitor
from radar.periods import Period, PeriodError
from services.errors import invalid_field
from services.gate import Answer, QueryGate
from services.http import QUERY_ERRORS, endpoint
from services.ledger.application import SignalLedger
from services.statistics.replay import history_as_of
from services.statistics.views import EffectMonitorView, FigureView, RegionFiguresView

PeriodText = Annotated[str, Query(max_length=7, description="2026H2, 2026Q3, 2026-07 or 2026")]
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]
AsOf = Annotated[datetime | None, Query(description="The moment to replay to (default: now)")]


def statistics_router(
    gate: QueryGate, ledger: Callable[[], SignalLedger], person: Callable[..., Analyst]
) -> APIRouter:
    router = APIRouter(tags=["statistics"], responses=QUERY_ERRORS)

    @router.get(
        "/v1/statistics/effect-monitor",
        response_model=EffectMonitorView,
        operation_id="effect_monitor",
    )
    def effect_monitor_route(
        request: Request,
        period: PeriodText,
        purpose: Purpose = None,
        as_of: AsOf = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """The effect monitor of the actor's own region and of the country, each figure with
        its definition."""
        try:
            chosen = Period.parse(period)
        except PeriodError as error:
            raise invalid_field("period", str(error)) from None
        if as_of is not None and as_of.tzinfo is None:
            raise invalid_field("as_of", "must name its time zone (Z or +01:00)")
        moment = min(as_of or gate.clock(), gate.clock()).astimezone(UTC)
        region = str(actor.region)
        access = AccessRequest(
            actor=actor, resource=Resource.EFFECT_MONITOR, purpose=purpose, subject_region=region
        )

        def read(_decision: Decision) -> Answer:
            figures = effect_monitor(history_as_of(ledger(), moment), chosen, moment)
            shown = [
                RegionFiguresView(
                    region=name,
                    figures={
                        f: FigureView(value=v.value, definition=v.definition)
                        for f, v in figures[name].items()
                    },
                )
                for name in (region, NATIONAL)
                if name in figures
            ]
            body = EffectMonitorView(period=str(chosen), as_of=moment, regions=shown)
            return Answer(body, [], len(shown))

        return gate.answer(access, endpoint(request), read)

    return router
