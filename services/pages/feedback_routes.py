"""The reporter's page "Mijn signalen": a publishing organisation's own signals with their
status, and the feedback it was sent (the signal-status feed), read through the gate for the
purpose reporter_feedback: one decision and one access-log entry per page, like the feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from services.feedback.store import FeedbackStore
from services.gate import Answer, QueryGate
from services.http import endpoint
from services.pages.purposeful import Pages
from services.pages.sessions import PageSession

Purpose = Annotated[str | None, Query(max_length=64)]
LATEST_ITEMS = 50
"""The page shows the newest feedback; the whole history is the feed (`?after=`)."""


def feedback_routes(router: APIRouter, pages: Pages, gate: QueryGate, store: FeedbackStore) -> None:
    @router.get("/pages/my-signals")
    def my_signals(request: Request, purpose: Purpose = None) -> Response:
        """The signed-in organisation's signals and its newest feedback, nothing else."""

        def read(session: PageSession, purpose: str) -> dict[str, Any]:
            organisation = session.analyst.organisation
            access = AccessRequest(
                actor=session.analyst,
                resource=Resource.SIGNAL_FEEDBACK,
                purpose=purpose,
                subject_region=str(session.analyst.region),
            )

            def own(_decision: Decision) -> Answer:
                signals = store.signals_of(organisation)
                items = store.newest_items(organisation, LATEST_ITEMS)
                body = {"signals": signals, "items": items}
                return Answer(body, [store.kind], len(signals) + len(items))

            return dict(gate.answer(access, endpoint(request), own))

        return pages.page(request, Resource.SIGNAL_FEEDBACK, purpose, "my_signals.html", read)
