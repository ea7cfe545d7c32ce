"""The timeline rebuilt as a bulk load (issue 15): the whole event store replayed into fresh
tables beside the live ones, then swapped in (services/projections/swap.py).

What a bulk load into empty tables does not need, it does not do: the memberships are kept in
memory for the whole replay (the earliest signal naming each person at each household, and
the departure recorded last) and written once at the end, instead of being looked up and
moved per batch; a batch's signal rows are collected by key, so a correction or retraction of
a signal of the same batch changes the collected row rather than a stored one; rows go to the
driver as tuples (COPY or one executemany); secondary indexes are built after the load. The
answers are the projector's, event by event: tests/integration/test_timeline_bulk_rebuild.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, MetaData, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from privacy.storage.erasure_records import erased_places
from radar.membership import departure
from radar.timeline import (
    SIGNAL_CORRECTED,
    SIGNAL_FOUND_UNFOUNDED,
    SIGNAL_RETRACTED,
    timeline_entry,
)
from services.database import stored_utc
from services.projections.bulk import insert_tuples
from services.projections.checkpoints import CHECKPOINT, Checkpoint
from services.projections.read_model import place_of, without_erased
from services.projections.swap import (
    create_fresh,
    drop_fresh,
    fresh_table,
    fresh_tables,
    households_held,
    swap_in,
)
from services.timelines.tables import (
    checkpoint_metadata,
    metadata,
    person_memberships,
    timeline_signals,
)

if TYPE_CHECKING:
    from services.ledger.application import SignalLedger
    from services.timelines.store import TimelineStore

SIGNAL_COLUMNS = tuple(column.name for column in timeline_signals.columns)
MEMBERSHIP_COLUMNS = tuple(column.name for column in person_memberships.columns)
MEMBERSHIPS_PER_TRANSACTION = 20_000


class TimelineBuild:
    """One bulk rebuild of a timeline store's tables, swapped in at the end."""

    def __init__(self, store: TimelineStore, ledger: SignalLedger, batch_size: int) -> None:
        self._store = store
        self._ledger = ledger
        self._batch_size = batch_size
        self._fresh: MetaData = fresh_tables(metadata)
        self._signals = fresh_table(self._fresh, timeline_signals)
        self._memberships = fresh_table(self._fresh, person_memberships)
        # (person, household) pseudonyms -> [since, until], in order of first appearance
        self._periods: dict[tuple[str, str], list[datetime | None]] = {}
        # aggregate id -> (its household's pseudonym, the earliest version loaded)
        self._loaded: dict[str, tuple[str, int]] = {}

    def run(self, checkpoint: Checkpoint | None = None) -> int:
        """Replays the events into fresh tables and swaps them in: all of them into empty
        tables, or, from a (verified) checkpoint, its rows and then only the events after
        it. Returns how many notifications it covered."""
        engine: Engine = self._store.engine
        create_fresh(engine, self._fresh)
        with engine.connect() as connection:  # what erasure during the build takes away
            held_at_start = households_held(connection, metadata)
        try:
            position, covered = 0, 0
            if checkpoint is not None:
                self._restore(engine)
                position = checkpoint.position
            notifications = self._ledger.notifications
            while True:  # until swapped in: a projector may move on while memberships go in
                while page := notifications.after(position, self._batch_size, self._store.topics):
                    self._load_batch(engine, notifications.readable(page))
                    position = page[-1].id
                    covered += len(page)
                self._write_memberships(engine)
                name = self._store.name
                if swap_in(
                    engine,
                    name,
                    metadata,
                    self._fresh,
                    position,
                    held_at_start,
                    self._erased_meanwhile,
                ):
                    break
        except BaseException:
            drop_fresh(engine, self._fresh)
            raise
        return covered

    def _restore(self, engine: Engine) -> None:
        """The checkpoint's signal rows copied as stored; its memberships opened into the
        periods the replay goes on from (those of erased households do not open: gone)."""
        copied = checkpoint_metadata.tables[f"{timeline_signals.name}{CHECKPOINT}"]
        periods = checkpoint_metadata.tables[f"{person_memberships.name}{CHECKPOINT}"]
        with engine.begin() as connection:
            connection.execute(
                insert(self._signals).from_select(list(copied.c.keys()), select(copied))
            )
            rows = connection.execute(select(periods)).all()
        for membership in self._store.rows.memberships(rows):
            key = (membership.person, membership.household)
            self._periods[key] = [membership.since, membership.until]

    def _load_batch(self, engine: Engine, events: Sequence[tuple[int, Any]]) -> None:
        """One batch in one transaction, the row keys of its households fetched first (as
        TimelineStore._write: a key made in a rolled-back transaction is forgotten)."""
        households = sorted({e.household for _p, e in events if hasattr(e, "household")})
        digests = self._store.digests.households(households)
        self._store.sealer.prefetch(digests)
        try:
            with engine.begin() as connection:
                erased = erased_places(connection, (place_of(e) for _p, e in events))
                events = without_erased(events, erased)  # already erased: not loaded at all
                self._store.sealer.make_keys(digests, connection)
                self._load(connection, events)
        except Exception:
            with suppress(SQLAlchemyError):
                self._store.sealer.count_households(households)
            raise
        for _position, event in events:
            subject, version = place_of(event)
            if subject not in self._loaded and hasattr(event, "household"):
                self._loaded[subject] = (event.household, version)

    def _erased_meanwhile(self, connection: Connection) -> list[str]:
        """The households (digests) some of whose loaded events an erasure took after they
        were loaded: asked in the swap's transaction, as the read models ask of a batch."""
        erased = erased_places(connection, ((s, v) for s, (_h, v) in self._loaded.items()))
        households = sorted({self._loaded[subject][0] for subject, _v in erased})
        return self._store.digests.households(households)

    def _load(self, connection: Connection, events: Sequence[tuple[int, Any]]) -> None:
        """One batch: its signal rows collected and inserted at once, memberships noted."""
        rows = self._store.rows
        collected: dict[tuple[str, str], dict[str, Any]] = {}
        periods = self._periods
        for position, event in events:
            entry = timeline_entry(position, event)
            if entry is not None:
                row = rows.signal_row(entry, connection)
                collected[(row["household"], row["signal_id"])] = row
                for person, _role in entry.persons:
                    period = periods.get((person, entry.household))
                    if period is None:
                        periods[(person, entry.household)] = [entry.occurred_at, None]
                    elif entry.occurred_at < period[0]:  # type: ignore[operator]
                        period[0] = entry.occurred_at
            elif isinstance(event, SIGNAL_CORRECTED | SIGNAL_RETRACTED):
                self._rectify(connection, collected, event)
            elif isinstance(event, SIGNAL_FOUND_UNFOUNDED):
                self._mark_unfounded(connection, collected, event)
            elif (left := departure(event)) is not None:
                person, household, left_at = left
                period = periods.get((person, household))
                if period is not None:  # a person never named there has no period to end
                    period[1] = left_at
        insert_tuples(
            connection,
            self._signals,
            SIGNAL_COLUMNS,
            [tuple(row[c] for c in SIGNAL_COLUMNS) for row in collected.values()],
        )

    def _rectify(
        self,
        connection: Connection,
        collected: dict[tuple[str, str], dict[str, Any]],
        event: SIGNAL_CORRECTED | SIGNAL_RETRACTED,
    ) -> None:
        """As TimelineStore._rectify, on the collected row when the signal is of this batch."""
        key = self._store.rows.signal_key(event.household, event.signal_id)
        retracted = isinstance(event, SIGNAL_RETRACTED)
        values: dict[str, Any] = {}
        if isinstance(event, SIGNAL_CORRECTED):
            values = {
                "signal_type": event.signal_type,
                "severity": event.severity,
                "occurred_at": stored_utc(event.occurred_at),
                "corrected": True,
            }
        if key in collected:
            if retracted:
                del collected[key]
            else:
                collected[key].update(values)
            return
        table = self._signals
        row = (table.c.household == key[0]) & (table.c.signal_id == key[1])
        if retracted:
            connection.execute(delete(table).where(row))
        else:
            connection.execute(update(table).where(row).values(values))

    def _mark_unfounded(
        self,
        connection: Connection,
        collected: dict[tuple[str, str], dict[str, Any]],
        event: SIGNAL_FOUND_UNFOUNDED,
    ) -> None:
        """As TimelineStore._mark_unfounded, on the collected row when it is of this batch."""
        key = self._store.rows.signal_key(event.household, event.signal_id)
        if key in collected:
            collected[key]["unfounded"] = True
            return
        table = self._signals
        row = (table.c.household == key[0]) & (table.c.signal_id == key[1])
        connection.execute(update(table).where(row).values(unfounded=True))

    def _write_memberships(self, engine: Engine) -> None:
        """Every membership, sealed, in a few large transactions (replacing those written
        before a swap that found the live read model further on)."""
        rows = self._store.rows
        periods = list(self._periods.items())
        with engine.begin() as connection:
            connection.execute(delete(self._memberships))
        for start in range(0, len(periods), MEMBERSHIPS_PER_TRANSACTION):
            chunk = periods[start : start + MEMBERSHIPS_PER_TRANSACTION]
            digests = self._store.digests.households(sorted({h for (_p, h), _ in chunk}))
            self._store.sealer.prefetch(digests)
            with engine.begin() as connection:
                self._store.sealer.make_keys(digests, connection)
                written = []
                for (person, household), (since, until) in chunk:
                    assert since is not None
                    row = rows.membership_row(person, household, since, connection)
                    row["until"] = None if until is None else stored_utc(until)
                    written.append(tuple(row[c] for c in MEMBERSHIP_COLUMNS))
                insert_tuples(connection, self._memberships, MEMBERSHIP_COLUMNS, written)
