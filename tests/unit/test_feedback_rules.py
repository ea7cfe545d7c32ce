"""What a reporter may hear (radar/feedback.py): every decision of the instrument has a status
in the reporter's words, only the police see the decision itself and the conclusion, a
decision's norm is the lead-time table's, and every status reads in Dutch on the page."""

from __future__ import annotations

from datetime import date, datetime, time

from radar.feedback import (
    DECISION_STATUS,
    FIELDS,
    Awaiting,
    ReporterStatus,
    by_organisation,
    details,
    within_norm,
)
from radar.safety import NETHERLANDS
from radar.safety_assessment import InvestigationOutcome, SafetyDecision
from services.pages.i18n import translations


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), NETHERLANDS)


def test_every_decision_has_a_status_in_the_reporters_words() -> None:
    assert set(DECISION_STATUS) == set(SafetyDecision)


def test_only_the_police_see_the_decision_and_the_conclusion() -> None:
    more = {"decision": "suspected_offence", "conclusion": "confirmed"}
    police = details(ReporterStatus.TAKEN_ON, date(2026, 11, 5), "police", **more)
    school = details(ReporterStatus.TAKEN_ON, date(2026, 11, 5), "education", **more)
    assert police["decision"] == "suspected_offence" and police["conclusion"] == "confirmed"
    assert set(school) == {"status", "on", "final"} and set(police) <= FIELDS


def test_a_decision_on_working_day_5_is_within_the_norm_and_on_day_6_it_is_not() -> None:
    monday = date(2026, 11, 2)
    assert within_norm(at(monday), at(date(2026, 11, 9)))  # Monday after: working day 5
    assert not within_norm(at(monday), at(date(2026, 11, 10)))


def test_veilig_thuis_and_the_om_hear_nothing_of_their_own_signals() -> None:
    signals = [
        Awaiting("b", "politie-x", "police"),
        Awaiting("a", "politie-x", "police"),
        Awaiting("c", "vt-utrecht", "veilig_thuis"),
        Awaiting("d", "om-x", "public_prosecution"),
        Awaiting("e", "obs-y", "education"),
    ]
    assert by_organisation(signals) == [
        ("obs-y", ["e"], "education"),
        ("politie-x", ["a", "b"], "police"),
    ]


def test_every_status_and_conclusion_reads_in_dutch() -> None:
    dutch = translations("nl")
    messages = [f"reporter_status:{s}" for s in ReporterStatus]
    messages += [f"outcome:{o}" for o in InvestigationOutcome]
    assert not [m for m in messages if dutch.gettext(m) == m]
