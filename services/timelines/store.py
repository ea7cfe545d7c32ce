"""The household timeline read model: one row per recorded signal, each person's membership of
each household (from the first signal naming them there until a recorded departure), plus the
projection position. Rows hold lookup digests and sealed values, never a pseudonym or a signal
id as it is (see tables.py); this store's answers speak pseudonyms and ids as before. Here the
rows are written from events; how they are read is reads.py.

Rows and the position move together in one transaction, and the position only moves forward
from the value this writer read (optimistic check), so two projectors running at once, or a
rebuild next to a live projector, never apply an event twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, bindparam, delete, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from privacy.storage.sealed_rows import RowSealer
from radar.membership import (
    MEMBER_LEFT,
    Departure,
    departure,
)
from radar.timeline import (
    SIGNAL_CORRECTED,
    SIGNAL_FOUND_UNFOUNDED,
    SIGNAL_RECORDED,
    SIGNAL_RETRACTED,
    TimelineEntry,
    timeline_entry,
)
from services.database import stored_utc
from services.ledger.application import SignalLedger
from services.projections.bulk import insert_rows
from services.projections.checkpoints import Checkpoint, snapshot, take, verified
from services.projections.positions import (
    PositionedTables,
    moving_position,
    reset_position,
)
from services.timelines.build import TimelineBuild
from services.timelines.opened import OpenedEntries
from services.timelines.reads import Shown, TimelineReads
from services.timelines.tables import (
    SealedRows,
    checkpoint_metadata,
    metadata,
    person_memberships,
    timeline_signals,
)

TIMELINE_PROJECTION = "household_timeline"
BUILD_BATCH_EVENTS = 10_000  # a rebuild's batches: fewer round trips, one transaction each
PAIRS_PER_QUERY = 5000  # two parameters each: well within SQLite's 32,766 per statement

__all__ = [
    "TIMELINE_PROJECTION",
    "Shown",
    "TimelineStore",
    "person_memberships",
    "timeline_signals",
]


class TimelineStore(TimelineReads, PositionedTables):
    """Reads and writes the timeline tables in one database (a ReadModel)."""

    name = TIMELINE_PROJECTION
    topics: tuple[str, ...] = (
        get_topic(SIGNAL_RECORDED),
        get_topic(SIGNAL_CORRECTED),
        get_topic(SIGNAL_RETRACTED),
        get_topic(MEMBER_LEFT),
        get_topic(SIGNAL_FOUND_UNFOUNDED),
    )
    tables = metadata
    format = 2  # digests and sealed values instead of pseudonyms and signal ids

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        super().__init__(engine, sealer)
        self.rows = SealedRows(self.sealer)
        self.opened = OpenedEntries(self.rows, self.sealer)

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Projects ledger events (by notification id) into timeline and membership rows, in
        store order: a correction, retraction or departure always follows the signals it
        concerns."""
        recorded = {e.household for _p, e in events if isinstance(e, SIGNAL_RECORDED)}

        def write(connection: Connection) -> None:
            entries: list[TimelineEntry] = []
            for position, event in events:
                entry = timeline_entry(position, event)
                if entry is not None:
                    entries.append(entry)
                    continue
                self._insert(connection, entries)
                entries = []
                if isinstance(event, SIGNAL_CORRECTED | SIGNAL_RETRACTED):
                    self._rectify(connection, event)
                if isinstance(event, SIGNAL_FOUND_UNFOUNDED):
                    self._mark_unfounded(connection, event)
                left = departure(event)
                if left is not None:
                    self._depart(connection, left)
            self._insert(connection, entries)

        self._write(recorded, write, expected, new_position, events)

    def apply(
        self,
        entries: Sequence[TimelineEntry],
        expected: int,
        new_position: int,
        departures: Sequence[Departure] = (),
    ) -> None:
        """Adds entries and their persons' memberships, records departures, and moves the
        position from `expected` to `new_position`, atomically."""

        def write(connection: Connection) -> None:
            self._insert(connection, entries)
            for left in departures:
                self._depart(connection, left)

        self._write({e.household for e in entries}, write, expected, new_position)

    def build_fresh(self, ledger: SignalLedger, batch_size: int) -> int:
        """Rebuilds as a bulk load into fresh tables, then swaps them in (build.py)."""
        return TimelineBuild(self, ledger, max(batch_size, BUILD_BATCH_EVENTS)).run()

    def take_checkpoint(self) -> Checkpoint:
        """Keeps a copy of the rows at their position (checkpoints.py), replacing the last."""
        with snapshot(self.engine) as connection:
            return take(
                connection, self.name, self.format, metadata, checkpoint_metadata, self.digests
            )

    def recover(self, ledger: SignalLedger, batch_size: int) -> int:
        """Rebuilds from the checkpoint: its rows, then only the events after it, swapped in
        (CheckpointError when there is none or its copy does not match its digest)."""
        with self.engine.connect() as connection:
            found = verified(
                connection, self.name, self.format, metadata, checkpoint_metadata, self.digests
            )
        return TimelineBuild(self, ledger, max(batch_size, BUILD_BATCH_EVENTS)).run(found)

    def reset(self) -> None:
        """Empties the read model so that it is rebuilt from the start of the event store."""
        with self.engine.begin() as connection:
            connection.execute(delete(timeline_signals))
            connection.execute(delete(person_memberships))
            reset_position(connection, self.name)

    def _write(
        self,
        households: set[str],
        work: Callable[[Connection], None],
        expected: int,
        new_position: int,
        events: Sequence[tuple[int, Any]] = (),
    ) -> None:
        """Runs `work` in one write transaction that moves the position from `expected`; the
        row keys of the households whose rows it seals are fetched first, in one query (new
        households get theirs in the transaction, which SQLite's single writer requires,
        stored after the rows: the sealing is then done before the transaction's first
        write, outside SQLite's write lock)."""
        digests = self.digests.households(sorted(households))
        self.sealer.prefetch(digests)
        try:
            with (
                moving_position(
                    self.engine, self.name, expected, new_position, events
                ) as connection,
                self.sealer.keys_stored_last(digests, connection),
            ):
                work(connection)
        except Exception:
            # A key made in the rolled-back transaction is remembered but was never stored:
            # asking which of these households have a key now forgets it, so a retry makes
            # (and stores) a new one instead of sealing rows no key opens.
            with suppress(SQLAlchemyError):  # the original error is the one to see
                self.sealer.count_households(sorted(households))
            raise

    def _insert(self, connection: Connection, entries: Sequence[TimelineEntry]) -> None:
        """Adds the entries' rows and starts (or moves earlier) their persons' memberships."""
        if entries:
            rows = [self.rows.signal_row(e, connection) for e in entries]
            insert_rows(connection, timeline_signals, rows)
            self._join(connection, entries)

    def _depart(self, connection: Connection, left: Departure) -> None:
        """Ends a person's membership of a household at the recorded departure."""
        person, household, left_at = left
        person_digest, household_digest = self.rows.membership_key(person, household)
        connection.execute(
            update(person_memberships)
            .where(
                person_memberships.c.person == person_digest,
                person_memberships.c.household == household_digest,
            )
            .values(until=stored_utc(left_at))
        )

    def _rectify(self, connection: Connection, event: SIGNAL_CORRECTED | SIGNAL_RETRACTED) -> None:
        """A correction replaces the values shown; a retraction takes the signal off the
        timeline (the store keeps both the original and the retraction). The corrected values
        are plain columns: the sealed part does not change."""
        household, signal = self.rows.signal_key(event.household, event.signal_id)
        row = (timeline_signals.c.household == household) & (timeline_signals.c.signal_id == signal)
        if isinstance(event, SIGNAL_RETRACTED):
            connection.execute(delete(timeline_signals).where(row))
            return
        connection.execute(
            update(timeline_signals)
            .where(row)
            .values(
                signal_type=event.signal_type,
                severity=event.severity,
                occurred_at=stored_utc(event.occurred_at),
                corrected=True,
            )
        )

    def _mark_unfounded(self, connection: Connection, event: SIGNAL_FOUND_UNFOUNDED) -> None:
        """Veilig Thuis found the signal unfounded: it stays on the timeline, marked."""
        household, signal = self.rows.signal_key(event.household, event.signal_id)
        connection.execute(
            update(timeline_signals)
            .where(timeline_signals.c.household == household)
            .where(timeline_signals.c.signal_id == signal)
            .values(unfounded=True)
        )

    def _join(self, connection: Connection, entries: Sequence[TimelineEntry]) -> None:
        """Starts the membership of every person the entries name, or moves its start earlier
        when a signal arrived late: `since` is always the earliest signal, in any arrival
        order."""
        earliest: dict[tuple[str, str], datetime] = {}
        for entry in entries:
            for person, _role in entry.persons:
                key = (person, entry.household)
                if key not in earliest or entry.occurred_at < earliest[key]:
                    earliest[key] = entry.occurred_at
        if not earliest:
            return
        table = person_memberships
        keys = {pair: self.rows.membership_key(*pair) for pair in earliest}
        # By pairs: `person IN (...) AND household IN (...)` probed their cross product.
        pairs = sorted(set(keys.values()))
        known: dict[tuple[str, str], datetime] = {}
        for start in range(0, len(pairs), PAIRS_PER_QUERY):
            rows = connection.execute(
                select(table.c.person, table.c.household, table.c.since).where(
                    tuple_(table.c.person, table.c.household).in_(
                        pairs[start : start + PAIRS_PER_QUERY]
                    )
                )
            )
            known.update({(r.person, r.household): stored_utc(r.since) for r in rows})
        new = [
            self.rows.membership_row(person, household, at, connection)
            for (person, household), at in earliest.items()
            if keys[(person, household)] not in known
        ]
        insert_rows(connection, table, new)
        moved = [
            {"person_key": keys[pair][0], "household_key": keys[pair][1], "since": stored_utc(at)}
            for pair, at in earliest.items()
            if keys[pair] in known and at < known[keys[pair]]
        ]
        if moved:  # one executemany for every membership that starts earlier now
            connection.execute(_MOVE_SINCE, moved)


_MOVE_SINCE = (
    update(person_memberships)
    .where(
        person_memberships.c.person == bindparam("person_key"),
        person_memberships.c.household == bindparam("household_key"),
    )
    .values(since=bindparam("since"))
)
