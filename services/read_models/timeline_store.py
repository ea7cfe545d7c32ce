"""The household timeline read model: one row per recorded signal, plus the projection position.

Rows and the position move together in one transaction, and the position only moves forward
from the value this writer read (optimistic check), so two projectors running at once, or a
rebuild next to a live projector, never apply an event twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    MetaData,
    RowMapping,
    String,
    Table,
    delete,
    false,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from radar.timeline import (
    SIGNAL_CORRECTED,
    SIGNAL_RECORDED,
    SIGNAL_RETRACTED,
    TimelineEntry,
    timeline_entry,
)
from services.database import stored_utc
from services.read_models.positions import (
    PositionedTables,
    move_position,
    reset_position,
)

TIMELINE_PROJECTION = "household_timeline"

metadata = MetaData()

timeline_signals = Table(
    "timeline_signals",
    metadata,
    # An event id is unique per household (the ledger guarantees it); ingest also refuses
    # reuse across households, but a race between two submissions could slip through, and
    # the projection must then still advance.
    Column("household", String(64), primary_key=True),
    Column("signal_id", String(36), primary_key=True),
    Column("position", BigInteger, nullable=False, index=True),
    Column("organisation", String(64), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("signal_type", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("region", String(8), nullable=False),
    Column("persons", JSON, nullable=False),
    # Rectification: corrected values replace the recorded ones; a retracted signal's row goes.
    Column("corrected", Boolean, nullable=False, server_default=false()),
)


class TimelineStore(PositionedTables):
    """Reads and writes the timeline tables in one database (a ReadModel)."""

    name = TIMELINE_PROJECTION
    topics: tuple[str, ...] = (
        get_topic(SIGNAL_RECORDED),
        get_topic(SIGNAL_CORRECTED),
        get_topic(SIGNAL_RETRACTED),
    )
    tables = metadata

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Projects ledger events (by notification id) into timeline rows, in store order:
        a correction or retraction always follows the signal it concerns."""
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            entries: list[TimelineEntry] = []
            for position, event in events:
                entry = timeline_entry(position, event)
                if entry is not None:
                    entries.append(entry)
                elif isinstance(event, SIGNAL_CORRECTED | SIGNAL_RETRACTED):
                    _insert(connection, entries)
                    entries = []
                    _rectify(connection, event)
            _insert(connection, entries)

    def apply(self, entries: Sequence[TimelineEntry], expected: int, new_position: int) -> None:
        """Adds entries and moves the position from `expected` to `new_position`, atomically."""
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            _insert(connection, entries)

    def reset(self) -> None:
        """Empties the read model so that it is rebuilt from the start of the event store."""
        with self.engine.begin() as connection:
            connection.execute(delete(timeline_signals))
            reset_position(connection, self.name)

    def timeline(self, household: str) -> list[TimelineEntry]:
        """One household's signals in occurred-at order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(timeline_signals).where(timeline_signals.c.household == household)
            ).all()
        return sorted((_entry(row._mapping) for row in rows), key=TimelineEntry.sort_key)

    def household_region(self, household: str) -> str | None:
        """The VT region of the household's most recent signal: the region responsible now."""
        with self.engine.connect() as connection:
            return connection.execute(
                select(timeline_signals.c.region)
                .where(timeline_signals.c.household == household)
                .order_by(timeline_signals.c.occurred_at.desc(), timeline_signals.c.position.desc())
                .limit(1)
            ).scalar_one_or_none()

    def all_entries(self) -> list[TimelineEntry]:
        """Every row, in signal-id order: for comparing a read model with its rebuild."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(timeline_signals).order_by(
                    timeline_signals.c.signal_id, timeline_signals.c.household
                )
            ).all()
        return [_entry(row._mapping) for row in rows]


def _insert(connection: Connection, entries: Sequence[TimelineEntry]) -> None:
    if entries:
        connection.execute(insert(timeline_signals), [_row(e) for e in entries])


def _rectify(connection: Connection, event: Any) -> None:
    """A correction replaces the values shown; a retraction takes the signal off the timeline
    (the store keeps both the original and the retraction)."""
    values = event.__dict__
    row = (timeline_signals.c.household == values["household"]) & (
        timeline_signals.c.signal_id == str(values["signal_id"])
    )
    if isinstance(event, SIGNAL_RETRACTED):
        connection.execute(delete(timeline_signals).where(row))
        return
    connection.execute(
        update(timeline_signals)
        .where(row)
        .values(
            signal_type=values["signal_type"],
            severity=values["severity"],
            occurred_at=stored_utc(values["occurred_at"]),
            corrected=True,
        )
    )


def _row(entry: TimelineEntry) -> dict[str, object]:
    return {
        "signal_id": str(entry.signal_id),
        "position": entry.position,
        "household": entry.household,
        "organisation": entry.organisation,
        "sector": entry.sector,
        "signal_type": entry.signal_type,
        "severity": entry.severity,
        "occurred_at": stored_utc(entry.occurred_at),
        "reported_at": stored_utc(entry.reported_at),
        "received_at": stored_utc(entry.received_at),
        "region": entry.region,
        "persons": [list(person) for person in entry.persons],
        "corrected": entry.corrected,
    }


def _entry(values: RowMapping) -> TimelineEntry:
    """The entry of one row, read by key from its mapping (copying each row into a dict first
    took a third of TimelineStore.timeline)."""
    return TimelineEntry(
        position=values["position"],
        household=values["household"],
        signal_id=UUID(values["signal_id"]),
        organisation=values["organisation"],
        sector=values["sector"],
        signal_type=values["signal_type"],
        severity=values["severity"],
        occurred_at=stored_utc(values["occurred_at"]),
        reported_at=stored_utc(values["reported_at"]),
        received_at=stored_utc(values["received_at"]),
        region=values["region"],
        persons=tuple((p[0], p[1]) for p in values["persons"]),
        corrected=bool(values["corrected"]),
    )
