"""One route for every feed: `GET /v1/feeds/{kind}?after=`, the receiving organisation's items
in cursor order, through the gate (one access-log entry per read, the purpose register decides
which roles read which kind), each item once when a reader pages from the start to the end."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from services.errors import Refusal, RefusalKind
from services.feeds.items import FeedItem, FeedSource
from services.gate import Answer, QueryGate
from services.http import QUERY_ERRORS, endpoint, error_responses

FeedKind = Annotated[str, Path(max_length=64, description="Which feed; a 404 names them.")]
MAX_PAGE = 500
"""The most items one read returns; a reader pages on with `after=` the page's `next_after`."""


class FeedItemView(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID = Field(description="Stable: the same in every read and every webhook delivery.")
    cursor: int = Field(description="Ordered as the event store; pass it as `after=` to go on.")
    kind: str
    occurred_at: datetime
    body: dict[str, Any]


class FeedPage(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    items: list[FeedItemView]
    next_after: int = Field(description="The cursor to read on from (the last item's, or after).")
    more: bool = Field(description="Whether another read may return items already recorded.")


class FeedKindView(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="Read at GET /v1/feeds/{kind}; a webhook's `kind`.")
    resource: str = Field(description="What the purpose register grants to read it.")
    fields: list[str] = Field(description="The body keys its items may carry.")


def feed_page(kind: str, items: Sequence[FeedItem], after: int, limit: int) -> FeedPage:
    """A page of at most `limit` items out of `items` (which may hold one more, to tell)."""
    shown = list(items[:limit])
    return FeedPage(
        kind=kind,
        items=[
            FeedItemView(
                id=i.id, cursor=i.cursor, kind=i.kind, occurred_at=i.occurred_at, body=dict(i.body)
            )
            for i in shown
        ],
        next_after=shown[-1].cursor if shown else after,
        more=len(items) > limit,
    )


def feed_router(
    gate: QueryGate, sources: Sequence[FeedSource], person: Callable[..., Analyst]
) -> APIRouter:
    router = APIRouter(tags=["feeds"], responses={**QUERY_ERRORS, **error_responses(404)})
    by_kind = {source.kind: source for source in sources}

    @router.get(
        "/v1/feeds",
        response_model=list[FeedKindView],
        openapi_extra={"x-personal-data": False},  # the kinds only: nothing to log
    )
    def list_feeds(actor: Analyst = Depends(person)) -> Any:  # noqa: B008
        """The feeds there are, and what reads them: no items (so no gate to pass)."""
        return [
            FeedKindView(kind=s.kind, resource=str(s.resource), fields=sorted(s.fields))
            for s in sorted(sources, key=lambda s: s.kind)
        ]

    @router.get("/v1/feeds/{kind}", response_model=FeedPage)
    def read_feed(
        request: Request,
        kind: FeedKind,
        after: Annotated[int, Query(ge=0, description="Items with a higher cursor.")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        purpose: Annotated[str | None, Query(max_length=64)] = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """The items of this feed addressed to the caller's organisation, after `after`."""
        source = by_kind.get(kind)
        if source is None:
            raise Refusal(RefusalKind.NOT_FOUND, f"no feed {kind!r}; feeds: {sorted(by_kind)}")
        access = AccessRequest(
            actor=actor,
            resource=source.resource,
            purpose=purpose,
            subject_region=str(actor.region),
        )

        def read(_decision: Decision) -> Answer:
            items = source.items_after(actor.organisation, after, limit + 1)
            page = feed_page(kind, items, after, limit)
            return Answer(page, [kind], len(page.items))

        return gate.answer(access, endpoint(request), read)

    return router
