"""A feed over a real table of its own, for the tests of the feed route, the deliverer and the
webhooks before (and beside) the read models that serve the real feeds: it implements the
FeedSource protocol as they do (cursor from a position and an index, items of one recipient in
cursor order), on the test's own database, SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
)

from privacy.purposes import DEFAULT_REGISTER, Resource
from services.database import stored_utc
from services.feeds.items import FeedItem, item_cursor

KIND = "test-feedback"
PURPOSE = "test_feedback"
FIELDS = frozenset({"signal_id", "status", "decided_on"})

_metadata = MetaData()
_items = Table(
    "test_feed_items",
    _metadata,
    Column("cursor", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient", String(64), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("body", JSON, nullable=False),
)

TEST_PURPOSE = f"""
[purposes.{PURPOSE}]
description = "Tests only: a reporter reads the feed of tests/support/feed_table.py."
legal_basis = "none: tests only"
roles = ["reporter"]
resources = ["{Resource.SIGNAL_FEEDBACK}"]
sectors = []
fields = []
region_scope = "own"
lookback_days = 1
withheld = "nothing"
withheld_reason = "Tests only."
privacy_officer_confirms = "nothing: tests only"
"""


def register_with_test_feed(directory: Path) -> Path:
    """The radar's purpose register with the test feed's purpose added."""
    path = directory / "purposes.toml"
    path.write_text(DEFAULT_REGISTER.read_text(encoding="utf-8") + TEST_PURPOSE, encoding="utf-8")
    return path


class TableFeed:
    """A FeedSource whose items the test writes (`add`), one event position per item."""

    kind = KIND
    resource = Resource.SIGNAL_FEEDBACK
    fields = FIELDS

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        _metadata.create_all(engine, checkfirst=True)

    def add(self, recipient: str, body: Mapping[str, Any]) -> FeedItem:
        with self.engine.begin() as connection:
            last = connection.execute(select(func.max(_items.c.cursor))).scalar()
            position = 1 + (0 if last is None else int(last) // 1000)
            cursor = item_cursor(position)
            now = datetime.now(UTC)
            connection.execute(
                insert(_items).values(
                    cursor=cursor, recipient=recipient, occurred_at=now, body=dict(body)
                )
            )
        return FeedItem(cursor, self.kind, recipient, now, dict(body))

    def items_after(self, recipient: str, after: int, limit: int) -> Sequence[FeedItem]:
        query = (
            select(_items)
            .where(_items.c.recipient == recipient, _items.c.cursor > after)
            .order_by(_items.c.cursor)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [
                FeedItem(
                    int(row.cursor), self.kind, row.recipient, stored_utc(row.occurred_at), row.body
                )
                for row in connection.execute(query)
            ]
