"""The signal types of signal.v2: what each party may signal, with its Dutch term, its meaning
and the sectors allowed to publish it.

v1's types keep their value and meaning; a party that sees the same thing may publish them too
(a GP's medical finding, childcare's observed injury), and every sector that could publish a
type in v1 still can, so each v1 signal is a valid v2 signal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from contracts.vocabulary import SignalType
from contracts.vocabulary_v2 import (
    FORMS_OF_VIOLENCE,
    PERSON_ROLES,
    PROSECUTION_OUTCOMES,
    REPORTERS,
    SECTORS,
    SectorV2,
    Term,
)

_Value = TypeVar("_Value", bound=StrEnum)


class SignalTypeV2(StrEnum):
    """What was seen: every v1 type, and the types of the new parties (see SIGNAL_TYPES_V2)."""

    ZORGMELDING = SignalType.ZORGMELDING.value
    HUISVERBOD = SignalType.HUISVERBOD.value
    DOMESTIC_INCIDENT = SignalType.DOMESTIC_INCIDENT.value
    INCIDENT_WITH_CHILDREN_PRESENT = SignalType.INCIDENT_WITH_CHILDREN_PRESENT.value
    SCHOOL_ABSENCE = SignalType.SCHOOL_ABSENCE.value
    OBSERVED_INJURY = SignalType.OBSERVED_INJURY.value
    BEHAVIOURAL_CONCERN = SignalType.BEHAVIOURAL_CONCERN.value
    HANDLE_WITH_CARE_NOTICE = SignalType.HANDLE_WITH_CARE_NOTICE.value
    KINDCHECK_CONCERN = SignalType.KINDCHECK_CONCERN.value
    CLIENT_DISCLOSURE = SignalType.CLIENT_DISCLOSURE.value
    VT_REPORT = SignalType.VT_REPORT.value
    VT_ADVICE_REQUEST = SignalType.VT_ADVICE_REQUEST.value
    SAFETY_CONDITIONS_SET = SignalType.SAFETY_CONDITIONS_SET.value
    SAFETY_CONDITIONS_BREACHED = SignalType.SAFETY_CONDITIONS_BREACHED.value
    YOUTH_PROTECTION_MEASURE = SignalType.YOUTH_PROTECTION_MEASURE.value
    MEDICAL_INJURY_FINDING = SignalType.MEDICAL_INJURY_FINDING.value
    PROSECUTION_DECISION = "prosecution_decision"
    SUSPECT_RELEASED = "suspect_released"
    PROBATION_SUPERVISION_STARTED = "probation_supervision_started"
    PROBATION_CONDITION_BREACHED = "probation_condition_breached"
    CHILD_PROTECTION_INVESTIGATION = "child_protection_investigation"
    LOCAL_TEAM_CONCERN = "local_team_concern"
    SHELTER_PLACEMENT = "shelter_placement"
    SHELTER_DEPARTURE = "shelter_departure"
    CHILDCARE_CONCERN = "childcare_concern"
    YOUTH_HEALTH_CONCERN = "youth_health_concern"
    PRENATAL_CONCERN = "prenatal_concern"
    CASE_CONFERENCE = "case_conference"
    ELDER_ABUSE_CONCERN = "elder_abuse_concern"
    CARER_OVERBURDENED = "carer_overburdened"
    GP_CONCERN = "gp_concern"
    EMERGENCY_DEPARTMENT_FINDING = "emergency_department_finding"


@dataclass(frozen=True)
class SignalTypeDefinitionV2:
    """A signal type's Dutch term, its meaning and the sectors allowed to publish it."""

    term: Term
    sectors: frozenset[SectorV2]


def _type(dutch: str, meaning: str, *sectors: SectorV2) -> SignalTypeDefinitionV2:
    return SignalTypeDefinitionV2(Term(dutch, meaning), frozenset(sectors))


_S = SectorV2
_CARE_FOR_ADULTS = (_S.MENTAL_HEALTH, _S.HEALTHCARE, _S.GENERAL_PRACTICE, _S.EMERGENCY_DEPARTMENT)
_SEE_CHILDREN = (_S.EDUCATION, _S.YOUTH_CARE, _S.CHILDCARE, _S.YOUTH_HEALTH_CARE, _S.MUNICIPALITY)
_SEE_OLDER_PEOPLE = (_S.ELDERLY_CARE, _S.HOME_CARE, _S.GENERAL_PRACTICE, _S.MUNICIPALITY)
_PHYSICIANS = (_S.HEALTHCARE, _S.GENERAL_PRACTICE, _S.EMERGENCY_DEPARTMENT, _S.YOUTH_HEALTH_CARE)

SIGNAL_TYPES_V2: dict[SignalTypeV2, SignalTypeDefinitionV2] = {
    # v1's types, meaning unchanged; new parties that see the same thing may publish them too.
    SignalTypeV2.ZORGMELDING: _type(
        "Zorgmelding", "Police report of concern about a household.", _S.POLICE
    ),
    SignalTypeV2.HUISVERBOD: _type(
        "Huisverbod",
        "Temporary restraining order imposed on a household member (10 to 28 days): imposed by "
        "the mayor, carried out by the police.",
        _S.POLICE,
        _S.MUNICIPALITY,
    ),
    SignalTypeV2.DOMESTIC_INCIDENT: _type(
        "Incident huiselijk geweld", "Police call-out to a domestic violence incident.", _S.POLICE
    ),
    SignalTypeV2.INCIDENT_WITH_CHILDREN_PRESENT: _type(
        "Incident met kinderen aanwezig",
        "Domestic incident at which children were present or which children witnessed.",
        _S.POLICE,
    ),
    SignalTypeV2.SCHOOL_ABSENCE: _type(
        "Schoolverzuim", "Unexplained or frequent absence of a pupil from school.", _S.EDUCATION
    ),
    SignalTypeV2.OBSERVED_INJURY: _type(
        "Waargenomen letsel",
        "Injury seen on a child by a professional who is not a physician.",
        *_SEE_CHILDREN,
    ),
    SignalTypeV2.BEHAVIOURAL_CONCERN: _type(
        "Zorgelijk gedrag",
        "Marked change in a child's behaviour that worries a professional.",
        *_SEE_CHILDREN,
    ),
    SignalTypeV2.HANDLE_WITH_CARE_NOTICE: _type(
        "Handle with Care",
        "School was told within 24 hours that something happened at home.",
        _S.EDUCATION,
    ),
    SignalTypeV2.KINDCHECK_CONCERN: _type(
        "Kindcheck",
        "An adult client's care provider found children in the household whose safety is in doubt.",
        *_CARE_FOR_ADULTS,
        _S.PROBATION,
        _S.HOME_CARE,
    ),
    SignalTypeV2.CLIENT_DISCLOSURE: _type(
        "Onthulling door cliënt",
        "A client disclosed violence at home to their care provider.",
        *_CARE_FOR_ADULTS,
        _S.YOUTH_CARE,
        _S.SHELTER,
        _S.MUNICIPALITY,
        _S.ELDERLY_CARE,
        _S.HOME_CARE,
    ),
    SignalTypeV2.VT_REPORT: _type(
        "Melding", "A formal report received by Veilig Thuis.", _S.VEILIG_THUIS
    ),
    SignalTypeV2.VT_ADVICE_REQUEST: _type(
        "Adviesvraag", "An advice request received by Veilig Thuis.", _S.VEILIG_THUIS
    ),
    SignalTypeV2.SAFETY_CONDITIONS_SET: _type(
        "Veiligheidsvoorwaarden gesteld",
        "Veilig Thuis agreed safety conditions with the household.",
        _S.VEILIG_THUIS,
    ),
    SignalTypeV2.SAFETY_CONDITIONS_BREACHED: _type(
        "Veiligheidsvoorwaarden geschonden",
        "A professional observed that agreed safety conditions were not kept.",
        _S.VEILIG_THUIS,
        _S.YOUTH_CARE,
        _S.MUNICIPALITY,
    ),
    SignalTypeV2.YOUTH_PROTECTION_MEASURE: _type(
        "Kinderbeschermingsmaatregel",
        "A child protection measure was requested or imposed.",
        _S.YOUTH_CARE,
        _S.VEILIG_THUIS,
        _S.CHILD_PROTECTION_BOARD,
    ),
    SignalTypeV2.MEDICAL_INJURY_FINDING: _type(
        "Medische letselbevinding",
        "A physician found an injury whose explanation does not fit (suspected abuse).",
        *_PHYSICIANS,
    ),
    # The new parties' own types.
    SignalTypeV2.PROSECUTION_DECISION: _type(
        "Vervolgingsbeslissing",
        "The public prosecutor decided on a case of domestic violence or child abuse "
        "(prosecution, dismissal or a punishment order): the OM's decision as a signal back.",
        _S.PUBLIC_PROSECUTION,
    ),
    SignalTypeV2.SUSPECT_RELEASED: _type(
        "Invrijheidstelling",
        "A suspect or convict of domestic violence leaves custody: a moment of risk for the "
        "victims.",
        _S.PUBLIC_PROSECUTION,
        _S.PROBATION,
    ),
    SignalTypeV2.PROBATION_SUPERVISION_STARTED: _type(
        "Start reclasseringstoezicht",
        "Probation supervision started, with special conditions such as a contact or area ban.",
        _S.PROBATION,
    ),
    SignalTypeV2.PROBATION_CONDITION_BREACHED: _type(
        "Overtreding bijzondere voorwaarde",
        "A special condition of probation (contact ban, area ban, treatment) was breached.",
        _S.PROBATION,
    ),
    SignalTypeV2.CHILD_PROTECTION_INVESTIGATION: _type(
        "Raadsonderzoek",
        "The Child Protection Board started an investigation into a child's safety.",
        _S.CHILD_PROTECTION_BOARD,
    ),
    SignalTypeV2.LOCAL_TEAM_CONCERN: _type(
        "Zorgsignaal lokaal team",
        "A municipal local team fears for safety in a household it supports.",
        _S.MUNICIPALITY,
    ),
    SignalTypeV2.SHELTER_PLACEMENT: _type(
        "Opvangplaatsing",
        "A person or family fleeing violence was placed in a shelter; the household is known "
        "by the shelter's pseudonymous placement, never by the shelter's address.",
        _S.SHELTER,
    ),
    SignalTypeV2.SHELTER_DEPARTURE: _type(
        "Vertrek uit de opvang",
        "A person or family left the shelter, to a safe address or back home.",
        _S.SHELTER,
    ),
    SignalTypeV2.CHILDCARE_CONCERN: _type(
        "Zorgsignaal kinderopvang",
        "A childcare worker fears for a child's safety or care.",
        _S.CHILDCARE,
    ),
    SignalTypeV2.YOUTH_HEALTH_CONCERN: _type(
        "Zorgsignaal JGZ",
        "Youth health care saw signs that a child's development or safety is threatened.",
        _S.YOUTH_HEALTH_CARE,
    ),
    SignalTypeV2.PRENATAL_CONCERN: _type(
        "Zorg om ongeboren kind",
        "A professional fears for the safety of an unborn child (violence against the pregnant "
        "parent, addiction, earlier children placed out of home).",
        _S.HEALTHCARE,
        _S.GENERAL_PRACTICE,
        _S.YOUTH_HEALTH_CARE,
        _S.MUNICIPALITY,
        _S.VEILIG_THUIS,
    ),
    SignalTypeV2.CASE_CONFERENCE: _type(
        "Casusoverleg",
        "The household was taken into a multidisciplinary case conference (for example MDA++ "
        "or the top-X approach).",
        _S.SAFETY_HOUSE,
    ),
    SignalTypeV2.ELDER_ABUSE_CONCERN: _type(
        "Vermoeden ouderenmishandeling",
        "A professional suspects that an older person is abused, neglected or financially "
        "exploited.",
        *_SEE_OLDER_PEOPLE,
        _S.HEALTHCARE,
    ),
    SignalTypeV2.CARER_OVERBURDENED: _type(
        "Ontspoorde mantelzorg",
        "An informal carer is overburdened to the point where care turns into harm.",
        *_SEE_OLDER_PEOPLE,
    ),
    SignalTypeV2.GP_CONCERN: _type(
        "Zorgsignaal huisarts",
        "A general practitioner fears for the safety of a child or adult in the household.",
        _S.GENERAL_PRACTICE,
    ),
    SignalTypeV2.EMERGENCY_DEPARTMENT_FINDING: _type(
        "SEH-signaal",
        "At the emergency department, an injury, its pattern or the story told raised the "
        "suspicion of abuse (screening).",
        _S.EMERGENCY_DEPARTMENT,
    ),
}


def sector_may_publish_v2(sector: SectorV2, signal_type: SignalTypeV2) -> bool:
    """Whether an organisation of this sector may publish signals of this type in v2."""
    return sector in SIGNAL_TYPES_V2[signal_type].sectors


REPORTED_TYPES = frozenset({SignalTypeV2.VT_REPORT, SignalTypeV2.VT_ADVICE_REQUEST})
"""The signal types that may say who reported to Veilig Thuis (`reported_by`)."""


def _terms(terms: Mapping[_Value, Term]) -> dict[str, dict[str, str]]:
    return {str(value): {"dutch": t.dutch, "meaning": t.meaning} for value, t in terms.items()}


def vocabulary_extensions() -> dict[str, Any]:
    """The vocabulary as a JSON Schema carries it (`x-sectors`, `x-signal-types` with the
    sectors that may publish each, `x-forms-of-violence`, `x-person-roles`, `x-reporters`)."""
    return {
        "x-sectors": _terms(SECTORS),
        "x-signal-types": {
            str(kind): {
                "dutch": definition.term.dutch,
                "meaning": definition.term.meaning,
                "sectors": sorted(str(sector) for sector in definition.sectors),
            }
            for kind, definition in SIGNAL_TYPES_V2.items()
        },
        "x-forms-of-violence": _terms(FORMS_OF_VIOLENCE),
        "x-person-roles": _terms(PERSON_ROLES),
        "x-reporters": _terms(REPORTERS),
        "x-prosecution-outcomes": _terms(PROSECUTION_OUTCOMES),
    }
