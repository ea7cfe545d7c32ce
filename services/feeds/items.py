"""What every feed is made of: items addressed to one receiving organisation, in one order that
a rebuild keeps.

A feed item is derived from one stored event, in the projector's transaction that moves its read
model past that event (the event store is the outbox: no item without its event, none lost). Its
cursor is the event's notification id times `ITEMS_PER_EVENT` plus the item's index among those
the event causes, so cursors are ordered as the store is, and a rebuilt read model gives every
item the cursor and id it had: a subscriber's `after=` and a webhook's idempotency id survive a
rebuild.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from uuid import NAMESPACE_URL, UUID, uuid5

from privacy.purposes import Resource

ITEMS_PER_EVENT = 1000
"""How many items one event may cause (one per child of a household, one per publisher...)."""

_ITEM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:signal-radar:feed-item")


def item_cursor(position: int, index: int = 0) -> int:
    """The cursor of the `index`-th item caused by the event at notification id `position`."""
    if not 0 <= index < ITEMS_PER_EVENT:
        raise ValueError(f"an event causes at most {ITEMS_PER_EVENT} items")
    return position * ITEMS_PER_EVENT + index


def item_id(kind: str, cursor: int) -> UUID:
    """The item's stable id (a webhook's idempotency id): the same for every delivery of it and
    after every rebuild."""
    return uuid5(_ITEM_NAMESPACE, f"{kind}:{cursor}")


@dataclass(frozen=True)
class FeedItem:
    """One thing a receiving organisation hears. `body` holds only what the receiving purpose
    may see: never a plain identifier, and no other party's signal, score or reporter."""

    cursor: int
    kind: str
    recipient: str  # the receiving organisation's id
    occurred_at: datetime  # when the event that caused it was recorded
    body: Mapping[str, Any]

    @property
    def id(self) -> UUID:
        return item_id(self.kind, self.cursor)


@runtime_checkable
class FeedSource(Protocol):
    """A read model that serves one kind of feed. `kind` is the feed's URL segment
    (`/v1/feeds/{kind}`); `resource` is what the purpose register grants to read it; `fields`
    are the body keys its items may carry (what the receiving purpose may see): the byte scan
    of every feed and webhook body holds each item to them."""

    kind: str
    resource: Resource
    fields: frozenset[str]

    def items_after(self, recipient: str, after: int, limit: int) -> Sequence[FeedItem]:
        """The recipient's items with a cursor above `after`, in cursor order, at most `limit`."""
        ...
