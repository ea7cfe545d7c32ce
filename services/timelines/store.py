"""The household timeline read model: one row per recorded signal, each person's membership of
each household (from the first signal naming them there until a recorded departure), plus the
projection position.

Member signals (recorded elsewhere about a household's members) are not copied into rows: they
are found at query time from both tables, so the answer is the same whatever order signals and
departures arrive in.

Rows and the position move together in one transaction, and the position only moves forward
from the value this writer read (optimistic check), so two projectors running at once, or a
rebuild next to a live projector, never apply an event twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
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

from radar.membership import (
    MEMBER_LEFT,
    Departure,
    Membership,
    departure,
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
from services.projections.positions import (
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

person_memberships = Table(
    "person_memberships",
    metadata,
    Column("person", String(64), primary_key=True),
    Column("household", String(64), primary_key=True, index=True),
    Column("since", DateTime(timezone=True), nullable=False),  # earliest signal naming them
    Column("until", DateTime(timezone=True), nullable=True),  # the departure recorded last
)


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

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """Projects ledger events (by notification id) into timeline and membership rows, in
        store order: a correction, retraction or departure always follows the signals it
        concerns."""
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            entries: list[TimelineEntry] = []
            for position, event in events:
                entry = timeline_entry(position, event)
                if entry is not None:
                    entries.append(entry)
                    continue
                _insert(connection, entries)
                entries = []
                if isinstance(event, SIGNAL_CORRECTED | SIGNAL_RETRACTED):
                    _rectify(connection, event)
                left = departure(event)
                if left is not None:
                    _depart(connection, left)
            _insert(connection, entries)

    def apply(
        self,
        entries: Sequence[TimelineEntry],
        expected: int,
        new_position: int,
        departures: Sequence[Departure] = (),
    ) -> None:
        """Adds entries and their persons' memberships, records departures, and moves the
        position from `expected` to `new_position`, atomically."""
        with self.engine.begin() as connection:
            move_position(connection, self.name, expected, new_position)
            _insert(connection, entries)
            for left in departures:
                _depart(connection, left)

    def reset(self) -> None:
        """Empties the read model so that it is rebuilt from the start of the event store."""
        with self.engine.begin() as connection:
            connection.execute(delete(timeline_signals))
            connection.execute(delete(person_memberships))
            reset_position(connection, self.name)

    def timeline(self, household: str) -> list[TimelineEntry]:
        """One household's signals in occurred-at order."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(timeline_signals).where(timeline_signals.c.household == household)
            ).all()
        return sorted((_entry(row._mapping) for row in rows), key=TimelineEntry.sort_key)

    def household_records(self, household: str) -> list[dict[str, Any]]:
        """What a household's timeline shows, in occurred-at order: its own signals, and those
        recorded elsewhere naming one of its members while a member (with `via`), as records
        for disclosure. The query API and the audit replay both show this."""
        members = self.members(household)
        elsewhere = {m.household for m in self.memberships(*(m.person for m in members))}
        elsewhere.discard(household)
        shown: list[tuple[TimelineEntry, str | None]]
        shown = [(entry, None) for entry in self.timeline(household)]
        shown += [
            (found.entry, found.via)
            for found in member_signals(household, members, self.signals_at(elsewhere))
        ]
        shown.sort(key=lambda pair: pair[0].sort_key())
        return [entry.record(via) for entry, via in shown]

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
        wanted = sorted(set(households))
        if not wanted:
            return []
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(timeline_signals).where(timeline_signals.c.household.in_(wanted))
            ).all()
        return [_entry(row._mapping) for row in rows]

    def signal_persons(self, households: Iterable[str]) -> dict[str, frozenset[str]]:
        """The persons each signal recorded at these households names, by signal id: which
        signals behind a score a person's restriction withholds."""
        return {
            str(e.signal_id): frozenset(p for p, _role in e.persons)
            for e in self.signals_at(households)
        }

    def members(self, household: str) -> list[Membership]:
        """Everyone ever named in a signal about the household, with their period there."""
        return self._memberships(person_memberships.c.household == household)

    def memberships(self, *persons: str) -> list[Membership]:
        """Every household these persons were named in, with their periods, earliest first."""
        if not persons:
            return []
        return self._memberships(person_memberships.c.person.in_(sorted(set(persons))))

    def all_memberships(self) -> list[Membership]:
        """Every membership: for comparing a read model with its rebuild."""
        return self._memberships(None)

    def dump(self) -> dict[str, list[Any]]:
        """Every row of both tables, in key order: for comparing with a rebuild."""
        return {
            "timeline_signals": self.all_entries(),
            "person_memberships": self.all_memberships(),
        }

    def _memberships(self, condition: Any) -> list[Membership]:
        query = select(person_memberships)
        if condition is not None:
            query = query.where(condition)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        found = [_membership(row._mapping) for row in rows]
        return sorted(found, key=lambda m: (m.since, m.household, m.person))

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
        return self.occurred_between()

    def occurred_between(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[TimelineEntry]:
        """Every household's signals that occurred in [since, until), in signal-id order: what
        an extract over a period is made of."""
        query = select(timeline_signals).order_by(
            timeline_signals.c.signal_id, timeline_signals.c.household
        )
        if since is not None:
            query = query.where(timeline_signals.c.occurred_at >= stored_utc(since))
        if until is not None:
            query = query.where(timeline_signals.c.occurred_at < stored_utc(until))
        with self.engine.connect() as connection:
            return [_entry(row._mapping) for row in connection.execute(query)]


def _insert(connection: Connection, entries: Sequence[TimelineEntry]) -> None:
    """Adds the entries' rows and starts (or moves earlier) their persons' memberships."""
    if entries:
        connection.execute(insert(timeline_signals), [_row(e) for e in entries])
        _join(connection, entries)


def _depart(connection: Connection, left: Departure) -> None:
    """Ends a person's membership of a household at the recorded departure."""
    person, household, left_at = left
    connection.execute(
        update(person_memberships)
        .where(person_memberships.c.person == person, person_memberships.c.household == household)
        .values(until=stored_utc(left_at))
    )


def _rectify(connection: Connection, event: SIGNAL_CORRECTED | SIGNAL_RETRACTED) -> None:
    """A correction replaces the values shown; a retraction takes the signal off the timeline
    (the store keeps both the original and the retraction)."""
    row = (timeline_signals.c.household == event.household) & (
        timeline_signals.c.signal_id == str(event.signal_id)
    )
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


def _join(connection: Connection, entries: Sequence[TimelineEntry]) -> None:
    """Starts the membership of every person the entries name, or moves its start earlier
    when a signal arrived late: `since` is always the earliest signal, in any arrival order."""
    earliest: dict[tuple[str, str], datetime] = {}
    for entry in entries:
        for person, _role in entry.persons:
            key = (person, entry.household)
            if key not in earliest or entry.occurred_at < earliest[key]:
                earliest[key] = entry.occurred_at
    if not earliest:
        return
    table = person_memberships
    rows = connection.execute(
        select(table.c.person, table.c.household, table.c.since).where(
            table.c.person.in_(sorted({p for p, _h in earliest})),
            table.c.household.in_(sorted({h for _p, h in earliest})),
        )
    ).all()
    known = {(r.person, r.household): stored_utc(r.since) for r in rows}
    new = [
        {"person": p, "household": h, "since": stored_utc(at), "until": None}
        for (p, h), at in earliest.items()
        if (p, h) not in known
    ]
    if new:
        connection.execute(insert(table), new)
    for (person, household), at in earliest.items():
        if (person, household) in known and at < known[(person, household)]:
            connection.execute(
                update(table)
                .where(table.c.person == person, table.c.household == household)
                .values(since=stored_utc(at))
            )


def _membership(values: RowMapping) -> Membership:
    until = values["until"]
    return Membership(
        person=values["person"],
        household=values["household"],
        since=stored_utc(values["since"]),
        until=None if until is None else stored_utc(until),
    )


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
