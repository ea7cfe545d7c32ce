"""Who belongs to a household, and when: the rule that brings signals about a household's
members recorded at other households into its timeline.

A person is a member of a household from the first signal there naming them (by occurred_at)
until a departure an analyst recorded, if any. A person may be a member of two households at
once (children of separated parents). A family that moves brings its history: the signals
naming a current member at a household they belonged to before they were seen here are the
household's earlier-address signals. Pure logic only; the tables live with the services.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from radar.household import Household
from radar.timeline import TimelineEntry

MEMBER_LEFT = Household.MemberLeft

Departure = tuple[str, str, datetime]
"""(person, household, left_at) of a recorded departure."""


def departure(event: Any) -> Departure | None:
    """The departure a ledger event records, or None for events that record none."""
    if not isinstance(event, MEMBER_LEFT):
        return None
    return event.person, event.household, event.left_at


@dataclass(frozen=True)
class Membership:
    """One person's period in one household; `until` is None while no departure is known."""

    person: str
    household: str
    since: datetime
    until: datetime | None

    def covers(self, moment: datetime) -> bool:
        """Whether the person belonged to the household at that moment."""
        return self.since <= moment and (self.until is None or moment < self.until)


@dataclass(frozen=True)
class MemberSignal:
    """A signal recorded at another household, shown in this one's timeline through `via`."""

    entry: TimelineEntry
    via: str
    earlier_address: bool = False


def names(entry: TimelineEntry, person: str) -> bool:
    """Whether the signal names the person."""
    return any(pseudonym == person for pseudonym, _role in entry.persons)


def member_signals(
    household: str, members: Iterable[Membership], elsewhere: Iterable[TimelineEntry]
) -> list[MemberSignal]:
    """The signals recorded at other households that name a member of `household` while they
    were a member; each once, through the first member it names (in the signal's order)."""
    periods: dict[str, list[Membership]] = {}
    for membership in members:
        if membership.household == household:
            periods.setdefault(membership.person, []).append(membership)

    def shows(person: str, entry: TimelineEntry) -> bool:
        return any(m.covers(entry.occurred_at) for m in periods.get(person, ()))

    return _signals_through_members(household, elsewhere, shows, earlier_address=False)


def earlier_address_signals(
    household: str, memberships: Iterable[Membership], elsewhere: Iterable[TimelineEntry]
) -> list[MemberSignal]:
    """The signals recorded at other households that name a current member of `household`
    (no departure recorded) while they belonged there and before they were first seen here:
    what they bring from an earlier address. Each once, through the first such member named."""
    joined: dict[str, datetime] = {}
    periods: dict[tuple[str, str], list[Membership]] = {}
    for m in memberships:
        if m.household == household and m.until is None:
            joined[m.person] = m.since
        periods.setdefault((m.person, m.household), []).append(m)

    def shows(person: str, entry: TimelineEntry) -> bool:
        return (
            person in joined
            and entry.occurred_at < joined[person]
            and any(m.covers(entry.occurred_at) for m in periods.get((person, entry.household), ()))
        )

    return _signals_through_members(household, elsewhere, shows, earlier_address=True)


def _signals_through_members(
    household: str,
    elsewhere: Iterable[TimelineEntry],
    shows: Callable[[str, TimelineEntry], bool],
    earlier_address: bool,
) -> list[MemberSignal]:
    """Each signal recorded at another household once, through the first person it names for
    whom `shows` holds; signals naming no such person are left out."""
    found: dict[tuple[str, str], MemberSignal] = {}
    for entry in elsewhere:
        key = (entry.household, str(entry.signal_id))
        if entry.household == household or key in found:
            continue
        via = next((person for person, _role in entry.persons if shows(person, entry)), None)
        if via is not None:
            found[key] = MemberSignal(entry, via, earlier_address=earlier_address)
    return list(found.values())


def latest_household(person: str, entries: Iterable[TimelineEntry]) -> str | None:
    """The household where the person was named in the most recent signal (by occurred_at)."""
    naming = [e for e in entries if names(e, person)]
    if not naming:
        return None
    return max(naming, key=lambda e: (*e.sort_key(), e.position)).household
