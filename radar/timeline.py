"""The household timeline: what an analyst sees of a household, derived from ledger events.

Pure logic only: which events make timeline entries and in what order entries are shown. The
tables that hold the projection live with the services.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from radar.household import Household
from radar.household_findings import SignalFoundUnfounded

SIGNAL_RECORDED = Household.SignalRecorded
SIGNAL_CORRECTED = Household.SignalCorrected
SIGNAL_RETRACTED = Household.SignalRetracted
SIGNAL_FOUND_UNFOUNDED = SignalFoundUnfounded


@dataclass(frozen=True)
class PersonFacts:
    """What signal.v2 says of a person beyond v1's (pseudonym, household role): all roles, the
    age in whole years, the parent of an unborn child, the pl. pseudonym of an identified
    person. None: the signal did not say."""

    roles: tuple[str, ...]
    age: int | None = None
    unborn_child_of: str | None = None
    local_pseudonym: str | None = None

    def record(self) -> dict[str, Any]:
        """The facts under the register's field names; one the signal did not say is absent
        (so no view shows an unknown age, or nobody's unborn child, as null)."""
        found: dict[str, Any] = {"roles": list(self.roles)}
        for name in ("age", "unborn_child_of", "local_pseudonym"):
            value = getattr(self, name)
            if value is not None:
                found[name] = value
        return found


@dataclass(frozen=True)
class TimelineEntry:
    """One signal in a household's timeline."""

    position: int
    household: str
    signal_id: UUID
    organisation: str
    sector: str
    signal_type: str
    severity: str
    occurred_at: datetime
    reported_at: datetime
    received_at: datetime
    region: str
    persons: tuple[tuple[str, str], ...]  # (person pseudonym, role)
    corrected: bool = False  # the publisher corrected signal type, severity or occurred-at
    forms_of_violence: tuple[str, ...] = ()  # signal.v2's; a v1 signal names none
    facts: tuple[PersonFacts, ...] = ()
    """Per person, in the order of `persons`; empty for a v1 signal (each person's roles are
    its one role)."""
    unfounded: bool = False  # Veilig Thuis found it unfounded: shown, no longer scored

    def person_facts(self) -> tuple[PersonFacts, ...]:
        """Every person's facts, a v1 signal's person with its one role and nothing else."""
        return self.facts or tuple(PersonFacts(roles=(role,)) for _p, role in self.persons)

    def sort_key(self) -> tuple[datetime, datetime, int]:
        """Timelines read in occurred-at order; ties broken stably, by signal id (its number
        orders as its text does, without making the text: a third of a 200-signal sort)."""
        return (self.occurred_at, self.reported_at, self.signal_id.int)

    def record(self, via: str | None = None) -> dict[str, Any]:
        """The entry under the field names the query API and the purpose register use (plus
        received_at and position, which no purpose discloses), for disclosure to reduce; with
        the household it was recorded at, `via` the member through whom another household's
        timeline shows it, and a corrected signal marked so."""
        record: dict[str, Any] = {
            "signal_id": str(self.signal_id),
            "organisation": self.organisation,
            "sector": self.sector,
            "signal_type": self.signal_type,
            "severity": self.severity,
            "occurred_at": self.occurred_at,
            "reported_at": self.reported_at,
            "received_at": self.received_at,
            "region": self.region,
            "forms_of_violence": list(self.forms_of_violence),
            "persons": (
                [
                    {"pseudonym": p, "role": r, **facts.record()}
                    for (p, r), facts in zip(self.persons, self.facts, strict=True)
                ]
                if self.facts
                else [{"pseudonym": p, "role": r, "roles": [r]} for p, r in self.persons]
            ),
            "position": self.position,
            "household": self.household,
        }
        if via is not None:
            record["via"] = via
        if self.corrected:
            record["corrected"] = True
        if self.unfounded:
            record["unfounded"] = True
        return record


def timeline_entry(position: int, event: Any) -> TimelineEntry | None:
    """The timeline entry a ledger event makes, or None for events that make none."""
    if not isinstance(event, SIGNAL_RECORDED):
        return None
    return TimelineEntry(
        position=position,
        household=event.household,
        signal_id=event.signal_id,
        organisation=event.organisation,
        sector=event.sector,
        signal_type=event.signal_type,
        severity=event.severity,
        occurred_at=event.occurred_at,
        reported_at=event.reported_at,
        received_at=event.received_at,
        region=event.region,
        persons=tuple((p["pseudonym"], p["role"]) for p in event.persons),
        forms_of_violence=tuple(event.forms_of_violence),
        facts=said_facts(
            [
                (
                    p["role"],
                    PersonFacts(
                        roles=tuple(p["roles"]),
                        age=p["age"],
                        unborn_child_of=p["unborn_child_of"],
                        local_pseudonym=p["local_pseudonym"],
                    ),
                )
                for p in event.persons
            ]
        ),
    )


def said_facts(persons: Sequence[tuple[str, PersonFacts]]) -> tuple[PersonFacts, ...]:
    """The persons' facts as an entry keeps them: none when no person has more than v1 could
    say (its one household role), so a v1 signal's entry is the same however it was read."""
    if all(facts == PersonFacts(roles=(role,)) for role, facts in persons):
        return ()
    return tuple(facts for _role, facts in persons)
