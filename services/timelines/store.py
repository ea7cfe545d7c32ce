"""The household timeline read model: one row per recorded signal, each person's membership of
each household (from the first signal naming them there until a recorded departure), plus the
projection position. Rows hold lookup digests and sealed values, never a pseudonym or a signal
id as it is (see tables.py); this store's answers speak pseudonyms and ids as before.

Member signals (recorded elsewhere about a household's members) are not copied into rows: they
are found at query time from both tables, so the answer is the same whatever order signals and
departures arrive in.

Rows and the position move together in one transaction, and the position only moves forward
from the value this writer read (optimistic check), so two projectors running at once, or a
rebuild next to a live projector, never apply an event twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
    Membership,
    departure,
    earlier_address_signals,
    latest_household,
    member_signals,
    names,
)
from radar.timeline import (
    SIGNAL_CORRECTED,
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
    move_position,
    reset_position,
)
from services.timelines.build import TimelineBuild
from services.timelines.opened import OpenedEntries
from services.timelines.tables import (
    LATEST_REGION,
    MEMBER_PERIODS,
    MEMBERS,
    PERIODS_OF,
    SIGNALS_AT,
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

Shown = tuple[TimelineEntry, str | None, bool]
"""A signal as a household's timeline shows it: the entry, the member it is shown through
(None at its own household), and whether it is from that member's earlier address."""


class TimelineStore(PositionedTables):
    """Reads and writes the timeline tables in one database (a ReadModel)."""

    name = TIMELINE_PROJECTION
    topics: tuple[str, ...] = (
        get_topic(SIGNAL_RECORDED),
        get_topic(SIGNAL_CORRECTED),
        get_topic(SIGNAL_RETRACTED),
        get_topic(MEMBER_LEFT),
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
            move_position(connection, self.name, expected, new_position)
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
                left = departure(event)
                if left is not None:
                    self._depart(connection, left)
            self._insert(connection, entries)

        self._write(recorded, write)

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
            move_position(connection, self.name, expected, new_position)
            self._insert(connection, entries)
            for left in departures:
                self._depart(connection, left)

        self._write({e.household for e in entries}, write)

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

    def timeline(self, household: str) -> list[TimelineEntry]:
        """One household's signals in occurred-at order."""
        return sorted(self.signals_at([household]), key=TimelineEntry.sort_key)

    def household_records(
        self, household: str, earlier_addresses: bool = False
    ) -> list[dict[str, Any]]:
        """What a household's timeline shows (household_shown), as records for disclosure.
        The query API and the audit replay both show this."""
        return [_shown(*shown) for shown in self.household_shown(household, earlier_addresses)]

    def household_shown(self, household: str, earlier_addresses: bool = False) -> list[Shown]:
        """What a household's timeline shows, in occurred-at order: its own signals, and those
        recorded elsewhere naming one of its members while a member (with `via`). With
        `earlier_addresses` (only for purposes that may see persons: it tells where they lived),
        also what its current members bring from earlier households, marked
        `earlier_address`. Two statements at most: the members' periods, then the rows."""
        periods = self._member_periods(household)
        members = [m for m in periods if m.household == household]
        elsewhere_at = {m.household for m in periods}
        elsewhere_at.discard(household)
        rows = self.signals_at({household, *elsewhere_at})
        own = [e for e in rows if e.household == household]
        elsewhere = [e for e in rows if e.household != household]
        shown: list[Shown] = [(entry, None, False) for entry in own]
        found = member_signals(household, members, elsewhere)
        if earlier_addresses:
            seen = {(f.entry.household, f.entry.signal_id) for f in found}
            found += [
                f
                for f in earlier_address_signals(household, periods, elsewhere)
                if (f.entry.household, f.entry.signal_id) not in seen
            ]
        shown += [(f.entry, f.via, f.earlier_address) for f in found]
        shown.sort(key=lambda triple: triple[0].sort_key())
        return shown

    def _member_periods(self, household: str) -> list[Membership]:
        """Every period of everyone ever named at the household, at any household: the
        members and where else they were, in one statement."""
        return self._memberships(MEMBER_PERIODS, {"household": self.digests.household(household)})

    def person_signals(self, person: str) -> list[TimelineEntry]:
        """Every signal naming the person, at any household, in occurred-at order."""
        households = {m.household for m in self.memberships(person)}
        found = [e for e in self.signals_at(households) if names(e, person)]
        return sorted(found, key=TimelineEntry.sort_key)

    def latest_household(self, person: str) -> str | None:
        """The household where the person was named in the most recent signal."""
        return latest_household(person, self.person_signals(person))

    def signals_at(self, households: Iterable[str]) -> list[TimelineEntry]:
        """The signals recorded at any of these households, in no particular order."""
        wanted = sorted({self.digests.household(h) for h in households})
        if not wanted:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(SIGNALS_AT, {"households": wanted}).all()
        return self.opened.entries(rows)

    def signal_persons(self, households: Iterable[str]) -> dict[str, frozenset[str]]:
        """The persons each signal recorded at these households names, by signal id: which
        signals behind a score a person's restriction withholds."""
        return {
            str(e.signal_id): frozenset(p for p, _role in e.persons)
            for e in self.signals_at(households)
        }

    def members(self, household: str) -> list[Membership]:
        """Everyone ever named in a signal about the household, with their period there."""
        digest = self.digests.household(household)
        return self._memberships(MEMBERS, {"household": digest})

    def memberships(self, *persons: str) -> list[Membership]:
        """Every household these persons were named in, with their periods, earliest first;
        the person's rows at an erased household do not open and are left out."""
        if not persons:
            return []
        wanted = sorted({self.digests.person(p) for p in persons})
        return self._memberships(PERIODS_OF, {"persons": wanted})

    def all_memberships(self) -> list[Membership]:
        """Every membership: for comparing a read model with its rebuild."""
        return self._memberships(select(person_memberships))

    def dump(self) -> dict[str, list[Any]]:
        """Every row of both tables, in key order: for comparing with a rebuild."""
        return {
            "timeline_signals": self.all_entries(),
            "person_memberships": self.all_memberships(),
        }

    def _memberships(
        self, query: Any, parameters: dict[str, Any] | None = None
    ) -> list[Membership]:
        with self.engine.connect() as connection:
            rows = connection.execute(query, parameters).all()
        found = self.rows.memberships(rows)
        return sorted(found, key=lambda m: (m.since, m.household, m.person))

    def household_region(self, household: str) -> str | None:
        """The VT region of the household's most recent signal: the region responsible now."""
        with self.engine.connect() as connection:
            return connection.execute(
                LATEST_REGION, {"household": self.digests.household(household)}
            ).scalar_one_or_none()

    def latest_regions(self) -> dict[str, str]:
        """Every household with a signal, by pseudonym, with the region of its most recent
        signal (as `household_region`): the households an audit report over all covers."""
        table = timeline_signals
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    table.c.household,
                    table.c.signal_id,
                    table.c.sealed,
                    table.c.region,
                    table.c.occurred_at,
                    table.c.position,
                )
            ).all()
        latest: dict[str, Any] = {}
        for row in rows:
            known = latest.get(row.household)
            if known is None or (row.occurred_at, row.position) > (
                known.occurred_at,
                known.position,
            ):
                latest[row.household] = row
        self.sealer.prefetch(latest.keys())
        found = {}
        for row in latest.values():
            shown = self.rows.shown(row.household, row.signal_id, row.sealed)
            if shown is not None:
                found[shown["household"]] = row.region
        return found

    def all_entries(self) -> list[TimelineEntry]:
        """Every row, in signal-id order: for comparing a read model with its rebuild."""
        return self.occurred_between()

    def occurred_between(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[TimelineEntry]:
        """Every household's signals that occurred in [since, until), in signal-id order: what
        an extract over a period is made of."""
        query = select(timeline_signals)
        if since is not None:
            query = query.where(timeline_signals.c.occurred_at >= stored_utc(since))
        if until is not None:
            query = query.where(timeline_signals.c.occurred_at < stored_utc(until))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        entries = self.rows.entries(rows)  # the stored order is the digests': sort as shown
        return sorted(entries, key=lambda e: (str(e.signal_id), e.household))

    def _write(self, households: set[str], work: Callable[[Connection], None]) -> None:
        """Runs `work` in one write transaction; the row keys of the households whose rows it
        seals are fetched first, in one query (new households get theirs in the transaction,
        which SQLite's single writer requires)."""
        self.sealer.prefetch(self.digests.households(sorted(households)))
        try:
            with self.engine.begin() as connection:
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


def _shown(entry: TimelineEntry, via: str | None, earlier_address: bool) -> dict[str, Any]:
    """The entry as a record for disclosure, marked when it is from a member's earlier address."""
    record = entry.record(via)
    if earlier_address:
        record["earlier_address"] = True
    return record
