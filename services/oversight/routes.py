"""The oversight routes: the access log, the privacy officer's break-glass review and the
notices a region gets when another region opened one of its households. They answer through
the query gate like every query; reading the log is itself logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from privacy.actors import Analyst
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint
from services.oversight.service import OversightQueries
from services.timelines.views import (
    AccessLogView,
    BreakGlassQueue,
    BreakGlassReview,
    BreakGlassView,
    NoticesView,
)

Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


def oversight_router(queries: OversightQueries, person: Callable[..., Any]) -> APIRouter:
    """Access log, break-glass queue and review, notices."""
    api = APIRouter(tags=["timeline"], responses=QUERY_ERRORS)

    @api.get("/v1/access-log", response_model=AccessLogView)
    def access_log(
        request: Request,
        purpose: Purpose = None,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AccessLogView:
        """The access log (privacy officers and auditors); this read is itself logged."""
        return queries.access_log_entries(actor, purpose, endpoint(request), since, until)

    @api.get("/v1/break-glass", response_model=BreakGlassQueue)
    def break_glass_queue(
        request: Request,
        purpose: Purpose = None,
        open_only: bool = True,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> BreakGlassQueue:
        """Break-glass accesses awaiting (or with) the privacy officer's review."""
        return queries.break_glass_queue(actor, purpose, endpoint(request), open_only)

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
        return queries.review_break_glass(actor, access_seq, review, endpoint(request))

    @api.get("/v1/notices", response_model=NoticesView, response_model_exclude_unset=True)
    def notices(
        request: Request,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> NoticesView:
        """Households of the actor's region opened from another region, newest first."""
        return queries.notices(actor, purpose, endpoint(request))

    return api
