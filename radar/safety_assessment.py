"""The safety assessment (veiligheidsbeoordeling): one versioned instrument for all 26 regions.

Veilig Thuis assesses every report (melding) with the same questions and ends the assessment
with one decision from a fixed list. The instrument is code, not configuration: no region can
add a question, drop a decision or change a rule; only a new version in `INSTRUMENTS` can, and
every recorded assessment keeps the version it was answered with, so history reads the way it
was decided. A version, once released, never changes (a unit test pins version 1 verbatim).

Pure: no I/O. The case records the answers (radar.case_assessment); the API validates input
against `instrument(version).answer(...)`, which refuses what the instrument does not allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


class SafetyDecision(StrEnum):
    """How the assessment ends (besluit na de veiligheidsbeoordeling): exactly one of these."""

    OWN_INVESTIGATION = "own_investigation"  # onderzoek door Veilig Thuis
    CHILD_PROTECTION_BOARD = "child_protection_board"  # verzoek tot onderzoek aan de Raad
    CONDITIONS_AND_FOLLOW_UP = "conditions_and_follow_up"  # voorwaarden & vervolg
    HANDOVER_LOCAL_TEAM = "handover_local_team"  # overdracht aan het lokale (wijk)team
    ONGOING_CARE = "ongoing_care"  # lopende hulp of een multidisciplinair team (MDA++)
    END_OF_INVOLVEMENT = "end_of_involvement"  # afsluiten: geen verdere bemoeienis
    SUSPECTED_OFFENCE = "suspected_offence"  # doorverwijzing naar politie/OM (strafbaar feit)


class Urgency(StrEnum):
    """How soon Veilig Thuis acts (urgentie)."""

    ACUTE = "acute"  # acuut: act today
    HIGH = "high"  # hoog: act within days
    REGULAR = "regular"  # regulier: the regular course


class Expertise(StrEnum):
    """The expertise the follow-up needs (benodigde deskundigheid); none, one or more."""

    CONFIDENTIAL_DOCTOR = "confidential_doctor"  # vertrouwensarts: medical, forensic
    CHILD_ABUSE = "child_abuse"  # kindermishandeling
    PARTNER_VIOLENCE = "partner_violence"  # partnergeweld
    ELDER_ABUSE = "elder_abuse"  # ouderenmishandeling
    HONOUR_RELATED_VIOLENCE = "honour_related_violence"  # eergerelateerd geweld, incl. FGM
    SEXUAL_VIOLENCE = "sexual_violence"  # seksueel geweld
    HUMAN_TRAFFICKING = "human_trafficking"  # mensenhandel
    MENTAL_HEALTH_ADDICTION = "mental_health_addiction"  # psychiatrie en verslaving
    INTELLECTUAL_DISABILITY = "intellectual_disability"  # licht verstandelijke beperking (LVB)


class InvestigationOutcome(StrEnum):
    """How an own investigation (onderzoek) ends: Veilig Thuis's conclusion about whether the
    violence took place, the three categories of the CBS beleidsinformatie Veilig Thuis
    ("conclusie onderzoek"). The follow-up after it is a new step, not part of the outcome."""

    CONFIRMED = "confirmed"  # huiselijk geweld of kindermishandeling bevestigd
    NOT_CONFIRMED = "not_confirmed"  # niet bevestigd (ongegrond)
    NO_CONCLUSION = "no_conclusion"  # geen uitspraak mogelijk


class SafetyAssessmentError(ValueError):
    """Answers the instrument does not allow; names the field at fault (422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class AssessmentStateError(ValueError):
    """A step the case's history does not allow: a report assessed twice, an investigation
    closed that is not open (409)."""


@dataclass(frozen=True)
class Question:
    """One question of the instrument, in Dutch as the analyst reads it and in English."""

    key: str
    dutch: str
    meaning: str
    answer: str  # "yes_no", "one_of" or "any_of"
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class SafetyAnswers:
    """A complete, valid set of answers to one version of the instrument."""

    acute_unsafety: bool
    structural_unsafety: bool
    urgency: Urgency
    expertise: tuple[Expertise, ...]

    def record(self) -> dict[str, Any]:
        return {
            "acute_unsafety": self.acute_unsafety,
            "structural_unsafety": self.structural_unsafety,
            "urgency": str(self.urgency),
            "expertise": [str(e) for e in self.expertise],
        }


@dataclass(frozen=True)
class SafetyInstrument:
    """One released version: its questions, the decisions it ends with, and its rules."""

    version: int
    in_force_from: date
    questions: tuple[Question, ...]
    decisions: tuple[SafetyDecision, ...]
    rules: tuple[str, ...]  # in words; enforced by `answer`

    def answer(
        self,
        acute_unsafety: bool,
        structural_unsafety: bool,
        urgency: str,
        expertise: Iterable[str],
        decision: str,
    ) -> tuple[SafetyAnswers, SafetyDecision]:
        """The answers and the decision, validated; SafetyAssessmentError names what is wrong."""
        chosen = _member(SafetyDecision, decision, "decision")
        if chosen not in self.decisions:
            raise SafetyAssessmentError("decision", f"not a decision of instrument {self.version}")
        how_soon = _member(Urgency, urgency, "urgency")
        needed = tuple(sorted({_member(Expertise, e, "expertise") for e in expertise}))
        if acute_unsafety and how_soon != Urgency.ACUTE:
            raise SafetyAssessmentError("urgency", "acute unsafety asks for acute urgency")
        unsafe = acute_unsafety or structural_unsafety
        if unsafe and chosen == SafetyDecision.END_OF_INVOLVEMENT:
            raise SafetyAssessmentError(
                "decision", "involvement cannot end while there is acute or structural unsafety"
            )
        return SafetyAnswers(acute_unsafety, structural_unsafety, how_soon, needed), chosen

    def describe(self) -> dict[str, Any]:
        """The whole instrument as plain data (the API's and the README's description)."""
        return {
            "version": self.version,
            "in_force_from": self.in_force_from.isoformat(),
            "questions": [
                {
                    "key": q.key,
                    "dutch": q.dutch,
                    "meaning": q.meaning,
                    "answer": q.answer,
                    "values": list(q.values),
                }
                for q in self.questions
            ],
            "decisions": [str(d) for d in self.decisions],
            "rules": list(self.rules),
        }


def _member(kind: type[E], value: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise SafetyAssessmentError(field, f"not one of {', '.join(kind)}") from None


VERSION_1 = SafetyInstrument(
    version=1,
    in_force_from=date(2026, 12, 1),
    questions=(
        Question(
            "acute_unsafety",
            "Is er sprake van acute onveiligheid?",
            "Is someone in the household in immediate danger?",
            "yes_no",
        ),
        Question(
            "structural_unsafety",
            "Is er sprake van structurele onveiligheid?",
            "Has the unsafety recurred or lasted (a pattern, not an incident)?",
            "yes_no",
        ),
        Question(
            "urgency",
            "Wat is de urgentie?",
            "How soon must Veilig Thuis act?",
            "one_of",
            tuple(Urgency),
        ),
        Question(
            "expertise",
            "Welke deskundigheid is nodig?",
            "Which expertise does the follow-up need?",
            "any_of",
            tuple(Expertise),
        ),
        Question(
            "decision",
            "Wat is het besluit?",
            "How does Veilig Thuis continue?",
            "one_of",
            tuple(SafetyDecision),
        ),
    ),
    decisions=tuple(SafetyDecision),
    rules=(
        "acute unsafety asks for acute urgency",
        "involvement cannot end while there is acute or structural unsafety",
    ),
)

INSTRUMENTS: Mapping[int, SafetyInstrument] = {VERSION_1.version: VERSION_1}
"""Every released version; add a new one, never change one (history refers to them)."""

CURRENT_VERSION = max(INSTRUMENTS)


def instrument(version: int = CURRENT_VERSION) -> SafetyInstrument:
    """A released version of the instrument; SafetyAssessmentError for any other number."""
    found = INSTRUMENTS.get(version)
    if found is None:
        raise SafetyAssessmentError("instrument_version", "no such version of the instrument")
    return found
