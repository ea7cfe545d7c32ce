"""The household aggregate: every signal seen about one household, each applied exactly once,
with the score and the responsible region that follow from them.

A household is identified by its pseudonym only; its aggregate id is derived from the pseudonym
so that every aggregator instance finds the same aggregate for the same household.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from operator import attrgetter
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from radar.alerts import StaffRef
from radar.household_findings import HouseholdFindings
from radar.household_score import HouseholdScore, HouseholdSnapshot, upcast_score_event
from radar.household_state import (
    CHILD_ROLE,
    AppliedCorrection,
    KeyLink,
    MembershipError,
    Move,
    PersonRecord,
    person_records,
    prosecution_of,
    reported_by,
)
from radar.household_upcasts import HouseholdSnapshotUpcasts, SignalRecordedUpcasts
from radar.regions import RegionEvidence
from radar.risk import Assessment, Factors, PersonFact, SignalFact
from radar.safety import NETHERLANDS

_HOUSEHOLD_NAMESPACE = uuid5(NAMESPACE_URL, "urn:signal-radar:household")


@lru_cache(maxsize=65536)
def household_id(pseudonym: str) -> UUID:
    """The aggregate id of the household with this pseudonym (remembered: a batch asks for
    each several times, and uuid5 is a SHA-1)."""
    return uuid5(_HOUSEHOLD_NAMESPACE, pseudonym)


class Household(HouseholdFindings, HouseholdSnapshotUpcasts, HouseholdScore, Aggregate):
    """One household as the radar knows it: its signals, region and the persons seen in it."""

    # What each version of a snapshot holds, and how older ones read: radar.household_upcasts.
    class_version = 5
    Snapshot = HouseholdSnapshot

    replay_required = False
    """True only for a household restored from a snapshot that lacks part of its state."""

    # The state's declared types (set in __init__): a snapshot's values are restored by them.
    signal_types: dict[str, str]
    persons: dict[str, str]
    region: str | None
    facts: list[SignalFact]
    moves: list[Move]
    has_case: bool
    first_seen: dict[str, datetime]
    pseudonym_links: dict[str, str]
    corrections: dict[str, AppliedCorrection]

    # --- events: their class names are part of the stored topics, never rename them ----------

    class Opened(Aggregate.Created):
        pseudonym: str

    class SignalRecorded(SignalRecordedUpcasts, Aggregate.Event):
        """A signal, v1 or v2, as the radar records it. Version 2 adds signal.v2's facts: the
        forms of violence and each person's roles, age, unborn child and identification (a
        version 1 event reads as a v1 signal upcast: no form, one role, no age); version 3
        who reported to Veilig Thuis (an earlier event reads as not said: None); version 4 the
        OM's outcome and the referral a prosecution_decision decides (earlier: None)."""

        class_version = 4

        household: str
        signal_id: UUID
        organisation: str
        sector: str
        signal_type: str
        severity: str
        forms_of_violence: list[str]
        occurred_at: datetime
        reported_at: datetime
        received_at: datetime
        region: str
        persons: list[PersonRecord]
        pseudonym_key_id: str
        reported_by: str | None = None  # version 3; an earlier event did not say
        prosecution: dict[str, str | None] | None = None  # version 4: {outcome, referral_id}

        def apply(self, aggregate: Any) -> None:
            aggregate.on_signal_recorded(self)

    class PseudonymsRekeyed(Aggregate.Event):
        household: str
        key_id: str
        links: list[KeyLink]

        def apply(self, aggregate: Any) -> None:
            for link in self.links:
                aggregate.pseudonym_links[link["pseudonym"]] = link["known_as"]

    class SignalCorrected(Aggregate.Event):
        household: str
        signal_id: UUID
        correction_id: UUID
        organisation: str
        signal_type: str
        severity: str
        occurred_at: datetime
        reason: str
        received_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.on_signal_corrected(self)

    class SignalRetracted(Aggregate.Event):
        household: str
        signal_id: UUID
        correction_id: UUID
        organisation: str
        reason: str
        received_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.on_signal_retracted(self)

    class ScoreChanged(Aggregate.Event):
        """The score, and the factors of the signals whose factors changed (Factors records;
        `whole`: these are all of them); the explanation is computed from them on read.
        Version 1 carried the whole explanation (Contribution records)."""

        class_version = 2

        household: str
        score: Decimal
        as_of: datetime
        model_version: int
        changed: list[Annotated[dict[str, Any], Factors]]  # Factors records
        removed: list[str]
        whole: bool
        children_present: bool
        child_scores: dict[str, Decimal]
        region: str | None
        cause: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            upcast_score_event(state)

        def apply(self, aggregate: Any) -> None:
            aggregate.on_score_changed(self)

    class RegionAssigned(Aggregate.Event):
        household: str
        region: str
        previous: str | None
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.responsible_region = self.region

    class MoveRecorded(Aggregate.Event):
        municipality: str
        region: str
        moved_at: datetime
        by: dict[str, str]  # StaffRef record

    class MemberLeft(Aggregate.Event):
        household: str
        person: str
        left_at: datetime
        by: dict[str, str]  # StaffRef record

    class CaseOpened(Aggregate.Event):
        """The household's case aggregate exists (raising a first alert opens it too)."""

        def apply(self, aggregate: Any) -> None:
            aggregate.has_case = True

    @staticmethod
    def create_id(pseudonym: str) -> UUID:
        return household_id(pseudonym)

    @event(Opened)
    def __init__(self, pseudonym: str) -> None:
        self.pseudonym = pseudonym
        self.signal_types: dict[str, str] = {}  # event id -> signal type, for idempotency
        self.persons: dict[str, str] = {}  # person pseudonym -> last known role
        self.region: str | None = None  # the region of the signal recorded last
        self.facts: list[SignalFact] = []  # in recorded order
        self.moves: list[Move] = []  # moves recorded by analysts
        self.responsible_region: str | None = None
        self.latest_score: Assessment | None = None  # its explanation: `explained`
        self.explained = {}
        self.has_case = False
        # person pseudonym -> occurred_at of the earliest signal naming them here
        self.first_seen: dict[str, datetime] = {}
        # Re-keying: pseudonym made with a newer key version -> the one first known.
        self.pseudonym_links: dict[str, str] = {}
        # Rectification: correction id -> what it applied to; makes each correction apply
        # once and tells which signals were retracted.
        self.corrections: dict[str, AppliedCorrection] = {}

    def has_signal(self, event_id: UUID) -> bool:
        """Whether this signal (by its publisher-chosen event id) was already recorded."""
        return str(event_id) in self.signal_types

    def record(self, published: SignalEventV1 | SignalEventV2) -> bool:
        """Records a signal unless it was recorded before; returns whether it was new.

        The signal is recorded under the pseudonyms the radar first knew its household and
        persons by; links from newer key versions' pseudonyms it brings for the first time are
        recorded before it, as the re-keying event."""
        signal = published.canonical()
        if signal.household != self.pseudonym:
            raise ValueError("signal belongs to another household")
        if self.has_signal(signal.event_id):
            return False
        new_links = [
            KeyLink(pseudonym=link.pseudonym, known_as=link.known_as)
            for link in published.known_as
            if self.pseudonym_links.get(link.pseudonym) != link.known_as
        ]
        if new_links:
            self.trigger_event(
                self.PseudonymsRekeyed,
                household=self.pseudonym,
                key_id=published.pseudonym_key_id,
                links=new_links,
            )
        self.trigger_event(
            self.SignalRecorded,
            household=signal.household,
            signal_id=signal.event_id,
            organisation=signal.organisation,
            sector=str(signal.sector),
            signal_type=str(signal.signal_type),
            severity=str(signal.severity),
            occurred_at=signal.occurred_at,
            reported_at=signal.reported_at,
            received_at=signal.received_at,
            region=str(signal.region),
            persons=person_records(signal),
            forms_of_violence=[str(f) for f in getattr(signal, "forms_of_violence", ())],
            reported_by=reported_by(signal),
            prosecution=prosecution_of(signal),
            pseudonym_key_id=signal.pseudonym_key_id,
        )
        return True

    def on_signal_recorded(self, recorded: SignalRecorded) -> None:
        """What a SignalRecorded changes (its `apply`: the library's lean path, no
        per-event signature matching as an @event method has)."""
        signal_id = str(recorded.signal_id)
        occurred_at = recorded.occurred_at
        self.signal_types[signal_id] = recorded.signal_type
        self.region = recorded.region
        first_seen = self.first_seen
        children = set()
        said_more = False  # than v1 could: a role beside the household role, or an age
        for person in recorded.persons:
            pseudonym = person["pseudonym"]
            self.persons[pseudonym] = person["role"]
            seen = first_seen.get(pseudonym)
            if seen is None or occurred_at < seen:
                first_seen[pseudonym] = occurred_at
            if person["role"] == CHILD_ROLE:
                children.add(pseudonym)
            if person["age"] is not None or person["roles"] != [person["role"]]:
                said_more = True
        fact = SignalFact(
            signal_id,
            recorded.sector,
            recorded.signal_type,
            recorded.severity,
            occurred_at,
            recorded.received_at,
            recorded.region,
            tuple(sorted(children)),
            tuple(recorded.forms_of_violence),
            tuple(PersonFact(p["pseudonym"], tuple(p["roles"]), p["age"]) for p in recorded.persons)
            if said_more
            else (),
        )
        self.facts.append(fact)
        latest = self._latest_fact
        if latest is not None and occurred_at >= latest.occurred_at:
            self._latest_fact = fact
        self._keep(added=fact)

    # --- what follows from the signals --------------------------------------------------------

    def signal_facts(self) -> list[SignalFact]:
        assert not self.replay_required, "replay the household: its snapshot predates facts"
        return list(self.facts)

    def region_evidence(self) -> list[RegionEvidence]:
        """The evidence of where the household lives that decides its region (in the order
        radar.regions.responsible_region breaks ties by): the latest signal (the last recorded
        of the latest) and the latest recorded move. The latest signal is kept in memory as
        signals arrive, so this does not go through a long history every batch."""
        evidence = []
        latest = self._latest_fact
        if latest is None and self.signal_facts():
            latest = self._latest_fact = max(reversed(self.facts), key=attrgetter("occurred_at"))
        if latest is not None:
            evidence.append(RegionEvidence(latest.region, latest.occurred_at, False))
        if self.moves:
            move = max(reversed(self.moves), key=attrgetter("moved_at"))
            evidence.append(RegionEvidence(move.region, move.moved_at, True))
        return evidence

    def _score_changed(self, **values: Any) -> None:
        self.trigger_event(self.ScoreChanged, **values)

    def on_score_changed(self, changed: ScoreChanged) -> None:
        self._apply_score(
            changed.score,
            changed.as_of,
            changed.model_version,
            changed.changed,
            changed.removed,
            changed.whole,
            changed.children_present,
            changed.child_scores,
        )

    def assign_region(self, region: str, reason: str) -> bool:
        """Makes `region` responsible for the household; False if it already was."""
        if region == self.responsible_region:
            return False
        self.trigger_event(
            self.RegionAssigned,
            household=self.pseudonym,
            region=region,
            previous=self.responsible_region,
            reason=reason,
        )
        return True

    def record_move(self, municipality: str, region: str, moved_at: datetime, by: StaffRef) -> None:
        """An analyst records that the household moved to another municipality."""
        self._move_recorded(
            municipality=municipality, region=region, moved_at=moved_at, by=by.record()
        )

    @event(MoveRecorded)
    def _move_recorded(
        self, municipality: str, region: str, moved_at: datetime, by: dict[str, str]
    ) -> None:
        self.moves.append(Move(municipality, region, moved_at))

    def record_departure(self, person: str, left_on: date, by: StaffRef, today: date) -> None:
        """An analyst records that a person no longer lives here from `left_on` on (midnight,
        Dutch time); signals about them at other households after that stop counting here.

        Refused (MembershipError) for a person never named in a signal about this household,
        or a date before the first such signal or after `today` (dates in Dutch time)."""
        assert not self.replay_required, "replay the household: its snapshot predates it"
        first = self.first_seen.get(person)
        if first is None:
            raise MembershipError("person", "was never named in a signal about this household")
        if left_on < first.astimezone(NETHERLANDS).date():
            raise MembershipError(
                "left_on", "is before the first signal naming this person in this household"
            )
        if left_on > today:
            raise MembershipError("left_on", "is in the future")
        left_at = datetime.combine(left_on, time(), NETHERLANDS)
        self._member_left(household=self.pseudonym, person=person, left_at=left_at, by=by.record())

    @event(MemberLeft)
    def _member_left(
        self, household: str, person: str, left_at: datetime, by: dict[str, str]
    ) -> None:
        """Nothing in the aggregate follows from a departure; the read models keep it."""

    def open_case(self) -> None:
        """Notes that the household has a case aggregate (its first alert, or conditions), so
        the ledger loads it. That alone is not case data for retention: only a step a person
        took on it is (`HouseholdCase.taken_up`)."""
        if not self.has_case:
            self.trigger_event(self.CaseOpened)
