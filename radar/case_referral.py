"""Referral of a suspected offence to the public prosecutor (OM) or the police (doorverwijzing).

A mixin of radar.case.HouseholdCase. When a safety assessment decided `suspected_offence`,
Veilig Thuis refers the case to one OM office or police unit, and passes only what the legal
basis allows (Wmo 2015 art. 5.2.6 lid 3, the meldcode's step 5, AVG art. 10 and UAVG art. 33
for criminal-law data; privacy/purposes.toml, purpose `prosecution`, marks what the privacy
officer must confirm): the persons concerned with their roles and ages (pseudonyms: no BSN,
name, address or date of birth), the types and dates of the signals that support the
suspicion (chosen by Veilig Thuis among the household's signals; no sector, organisation,
reporter or score), and the Veilig Thuis contact (staff id and organisation). The OM learns
who the persons are only by lawful re-identification through the gate, and only for the
persons of a referral addressed to it (services/oversight/identity.py).

The event's stored topic is `radar.case_referral:ReferralRecorded`: never rename it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from radar.case_assessment import RecordedAssessment, Step
from radar.case_regie import ORGANISATION
from radar.free_text import checked_text
from radar.risk import SignalFact
from radar.safety import dutch_date
from radar.safety_assessment import AssessmentStateError, SafetyAssessmentError, SafetyDecision

MAX_REFERRED_PERSONS = 20
"""More persons than one suspected offence in one household concerns: a longer list is a
mistake (and would pass more than the suspicion needs)."""
MAX_SUPPORTING_SIGNALS = 50
"""The signals a referral rests on are chosen one by one; fifty is already the whole file."""


class ReferralError(SafetyAssessmentError):
    """A referral the radar refuses; names the field at fault (422). A referral is the next
    step of an assessment that found a suspected offence, refused as its answers are."""


@dataclass(frozen=True)
class ReferredPerson:
    """A person the suspected offence concerns: pseudonym, roles and age (whole years), as the
    household's latest signal naming them says; never more."""

    pseudonym: str
    roles: tuple[str, ...]
    age: int | None

    def record(self) -> dict[str, Any]:
        return {"pseudonym": self.pseudonym, "roles": list(self.roles), "age": self.age}


@dataclass(frozen=True)
class Referral:
    """A recorded referral, addressed to one organisation (an OM office or a police unit)."""

    referral_id: str
    assessment_id: str
    recipient: str
    persons: tuple[dict[str, Any], ...]  # ReferredPerson records
    signals: tuple[dict[str, Any], ...]  # {signal_id, signal_type, occurred_on}
    contact: dict[str, str]  # {staff_id, organisation}
    reason: str
    referred_at: datetime

    def names(self, person: str) -> bool:
        return any(p["pseudonym"] == person for p in self.persons)


class ReferralRecorded(Aggregate.Event):
    """Veilig Thuis referred a suspected offence in the household to the OM or the police."""

    household: str
    referral_id: str
    assessment_id: str
    recipient: str
    persons: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    contact: dict[str, str]
    by: dict[str, str]  # StaffRef record
    reason: str
    referred_at: datetime

    def apply(self, aggregate: Any) -> None:
        referral = Referral(
            self.referral_id,
            self.assessment_id,
            self.recipient,
            tuple(self.persons),
            tuple(self.signals),
            self.contact,
            self.reason,
            self.referred_at,
        )
        aggregate.referrals = (*aggregate.referrals, referral)
        aggregate.taken_up_at = self.timestamp  # a person's step (radar.case._PersonsStep)


def referral_id(case: UUID, assessment: str, recipient: str) -> str:
    """A deterministic id: one referral per assessment and recipient."""
    return str(uuid5(case, f"referral:{assessment}:{recipient}"))


def referred_persons(
    facts: Sequence[SignalFact], roles: Mapping[str, str], chosen: Iterable[str]
) -> list[ReferredPerson]:
    """The chosen persons with the roles and age of the latest signal naming them (signal.v2's
    facts; a person only v1 signals named has the household role they were last seen in,
    `roles`, and no age); ReferralError when the household never saw one of them."""
    latest = sorted(facts, key=lambda f: (f.occurred_at, f.signal_id), reverse=True)
    found = []
    for pseudonym in sorted(set(chosen)):
        named = next((p for f in latest for p in f.persons if p.pseudonym == pseudonym), None)
        if named is not None:
            found.append(ReferredPerson(pseudonym, named.roles, named.age))
        elif pseudonym in roles:
            found.append(ReferredPerson(pseudonym, (roles[pseudonym],), None))
        else:
            raise ReferralError("persons", "a person the household's signals do not name")
    if not found:
        raise ReferralError("persons", "a referral names at least one person")
    if len(found) > MAX_REFERRED_PERSONS:
        raise ReferralError("persons", f"at most {MAX_REFERRED_PERSONS} persons")
    return found


def supporting_signals(facts: Sequence[SignalFact], chosen: Iterable[str]) -> list[dict[str, Any]]:
    """The chosen signals as the referral passes them: type and Dutch date only (the id stays
    with Veilig Thuis's own record); ReferralError when one is not the household's."""
    by_id = {f.signal_id: f for f in facts}
    wanted = sorted(set(chosen))
    if not wanted:
        raise ReferralError("signals", "a referral rests on at least one signal")
    if len(wanted) > MAX_SUPPORTING_SIGNALS:
        raise ReferralError("signals", f"at most {MAX_SUPPORTING_SIGNALS} signals")
    if any(s not in by_id for s in wanted):
        raise ReferralError("signals", "a signal the household does not hold")
    return sorted(
        (
            {
                "signal_id": s,
                "signal_type": by_id[s].signal_type,
                "occurred_on": dutch_date(by_id[s].occurred_at).isoformat(),
            }
            for s in wanted
        ),
        key=lambda s: (s["occurred_on"], s["signal_id"]),
    )


class CaseReferrals:
    """Referring a suspected offence that a safety assessment found."""

    id: UUID
    household: str
    assessments: dict[str, RecordedAssessment]
    referrals: tuple[Referral, ...] = ()  # replaced, never mutated: a case before any referral

    if TYPE_CHECKING:  # eventsourcing's

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def refer(
        self,
        assessment: str,
        recipient: str,
        persons: Sequence[ReferredPerson],
        signals: Sequence[dict[str, Any]],
        step: Step,
    ) -> Referral:
        """Records the referral of the suspected offence an assessment decided."""
        found = self.assessments.get(assessment)
        if found is None:
            raise ReferralError("assessment_id", "the household has no such assessment")
        if found.decision != SafetyDecision.SUSPECTED_OFFENCE:
            raise ReferralError("assessment_id", "this assessment did not find a suspected offence")
        if not ORGANISATION.match(recipient):
            raise ReferralError("recipient", "not an organisation id (a-z, 0-9, -)")
        new_id = referral_id(self.id, assessment, recipient)
        if any(r.referral_id == new_id for r in self.referrals):
            raise AssessmentStateError("this assessment was already referred to this recipient")
        if step.at < found.assessed_at:
            raise ReferralError("assessment_id", "the assessment was recorded after this moment")
        self.trigger_event(
            ReferralRecorded,
            household=self.household,
            referral_id=new_id,
            assessment_id=assessment,
            recipient=recipient,
            persons=[p.record() for p in persons],
            signals=list(signals),
            contact={"staff_id": step.by.subject, "organisation": step.by.organisation},
            by=step.by.record(),
            reason=checked_text(step.reason, "the reason"),
            referred_at=step.at,
        )
        return self.referrals[-1]

    def referred_to(self, organisation: str) -> frozenset[str]:
        """The persons of the referrals addressed to this organisation."""
        return frozenset(
            p["pseudonym"] for r in self.referrals if r.recipient == organisation for p in r.persons
        )
