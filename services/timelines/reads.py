"""Reading the household timeline read model (tables.py): a household's signals and those its
members bring, a person's signals and households, and every row for comparing a read model
with its rebuild. The writing side, and why rows and position move together, is store.py.

Member signals (recorded elsewhere about a household's members) are not copied into rows: they
are found at query time from both tables, so the answer is the same whatever order signals and
departures arrive in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from privacy.lookup_digests import LookupDigests
from privacy.storage.sealed_rows import RowSealer
from radar.membership import (
    Membership,
    earlier_address_signals,
    latest_household,
    member_signals,
    names,
)
from radar.timeline import TimelineEntry
from services.database import stored_utc
from services.timelines.opened import OpenedEntries
from services.timelines.tables import (
    LATEST_REGION,
    MEMBER_PERIODS,
    MEMBERS,
    PERIODS_OF,
    SIGNALS_AT,
    SealedRows,
    person_memberships,
    timeline_signals,
)

Shown = tuple[TimelineEntry, str | None, bool]
"""A signal as a household's timeline shows it: the entry, the member it is shown through
(None at its own household), and whether it is from that member's earlier address."""


class TimelineReads:
    """The read side of TimelineStore: what the query API, rights and audit read."""

    engine: Engine
    sealer: RowSealer
    digests: LookupDigests
    rows: SealedRows
    opened: OpenedEntries

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


def _shown(entry: TimelineEntry, via: str | None, earlier_address: bool) -> dict[str, Any]:
    """The entry as a record for disclosure, marked when it is from a member's earlier address."""
    record = entry.record(via)
    if earlier_address:
        record["earlier_address"] = True
    return record
