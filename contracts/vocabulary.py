"""The controlled vocabulary of signals: sectors, signal types, severities and person roles.

Each signal type belongs to the sector(s) that may publish it; a publisher sending a type outside
its sector is refused. The one-line meaning of every type is part of the contract (it is exported
into the JSON Schema), so publishers and analysts read the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sector(StrEnum):
    """The kind of organisation that publishes a signal."""

    POLICE = "police"
    EDUCATION = "education"
    MENTAL_HEALTH = "mental_health"
    VEILIG_THUIS = "veilig_thuis"
    YOUTH_CARE = "youth_care"
    HEALTHCARE = "healthcare"


class Severity(StrEnum):
    """How serious the publisher judges the signal, from the publisher's own weighing."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    ACUTE = "acute"


class PersonRole(StrEnum):
    """The role of a person in the household the signal concerns."""

    CHILD = "child"
    PARENT_OR_CARER = "parent_or_carer"
    OTHER_ADULT = "other_adult"


class SignalType(StrEnum):
    """What was seen. The meaning and publishing sectors of each are in SIGNAL_TYPES."""

    ZORGMELDING = "zorgmelding"
    HUISVERBOD = "huisverbod"
    DOMESTIC_INCIDENT = "domestic_incident"
    INCIDENT_WITH_CHILDREN_PRESENT = "incident_with_children_present"
    SCHOOL_ABSENCE = "school_absence"
    OBSERVED_INJURY = "observed_injury"
    BEHAVIOURAL_CONCERN = "behavioural_concern"
    HANDLE_WITH_CARE_NOTICE = "handle_with_care_notice"
    KINDCHECK_CONCERN = "kindcheck_concern"
    CLIENT_DISCLOSURE = "client_disclosure"
    VT_REPORT = "vt_report"
    VT_ADVICE_REQUEST = "vt_advice_request"
    SAFETY_CONDITIONS_SET = "safety_conditions_set"
    SAFETY_CONDITIONS_BREACHED = "safety_conditions_breached"
    YOUTH_PROTECTION_MEASURE = "youth_protection_measure"
    MEDICAL_INJURY_FINDING = "medical_injury_finding"


@dataclass(frozen=True)
class SignalTypeDefinition:
    """A signal type's meaning and the sectors allowed to publish it."""

    meaning: str
    sectors: frozenset[Sector]


def _definition(meaning: str, *sectors: Sector) -> SignalTypeDefinition:
    return SignalTypeDefinition(meaning=meaning, sectors=frozenset(sectors))


SIGNAL_TYPES: dict[SignalType, SignalTypeDefinition] = {
    SignalType.ZORGMELDING: _definition(
        "Police report of concern about a household (zorgmelding).", Sector.POLICE
    ),
    SignalType.HUISVERBOD: _definition(
        "Temporary restraining order imposed on a household member (huisverbod, 10 to 28 days).",
        Sector.POLICE,
    ),
    SignalType.DOMESTIC_INCIDENT: _definition(
        "Police call-out to a domestic violence incident.", Sector.POLICE
    ),
    SignalType.INCIDENT_WITH_CHILDREN_PRESENT: _definition(
        "Domestic incident at which children were present or which children witnessed.",
        Sector.POLICE,
    ),
    SignalType.SCHOOL_ABSENCE: _definition(
        "Unexplained or frequent absence of a pupil from school.", Sector.EDUCATION
    ),
    SignalType.OBSERVED_INJURY: _definition(
        "Injury seen on a child by a professional who is not a physician.",
        Sector.EDUCATION,
        Sector.YOUTH_CARE,
    ),
    SignalType.BEHAVIOURAL_CONCERN: _definition(
        "Marked change in a child's behaviour that worries a professional.",
        Sector.EDUCATION,
        Sector.YOUTH_CARE,
    ),
    SignalType.HANDLE_WITH_CARE_NOTICE: _definition(
        "School was told within 24 hours that something happened at home (Handle with Care).",
        Sector.EDUCATION,
    ),
    SignalType.KINDCHECK_CONCERN: _definition(
        "An adult client's care provider found children in the household whose safety is in "
        "doubt (kindcheck).",
        Sector.MENTAL_HEALTH,
        Sector.HEALTHCARE,
    ),
    SignalType.CLIENT_DISCLOSURE: _definition(
        "A client disclosed violence at home to their care provider.",
        Sector.MENTAL_HEALTH,
        Sector.HEALTHCARE,
        Sector.YOUTH_CARE,
    ),
    SignalType.VT_REPORT: _definition(
        "A formal report (melding) received by Veilig Thuis.", Sector.VEILIG_THUIS
    ),
    SignalType.VT_ADVICE_REQUEST: _definition(
        "An advice request (adviesvraag) received by Veilig Thuis.", Sector.VEILIG_THUIS
    ),
    SignalType.SAFETY_CONDITIONS_SET: _definition(
        "Veilig Thuis agreed safety conditions (veiligheidsvoorwaarden) with the household.",
        Sector.VEILIG_THUIS,
    ),
    SignalType.SAFETY_CONDITIONS_BREACHED: _definition(
        "A professional observed that agreed safety conditions were not kept.",
        Sector.VEILIG_THUIS,
        Sector.YOUTH_CARE,
    ),
    SignalType.YOUTH_PROTECTION_MEASURE: _definition(
        "A child protection measure (kinderbeschermingsmaatregel) was requested or imposed.",
        Sector.YOUTH_CARE,
        Sector.VEILIG_THUIS,
    ),
    SignalType.MEDICAL_INJURY_FINDING: _definition(
        "A physician found an injury whose explanation does not fit (suspected abuse).",
        Sector.HEALTHCARE,
    ),
}


def sector_may_publish(sector: Sector, signal_type: SignalType) -> bool:
    """Whether an organisation of this sector may publish signals of this type."""
    return sector in SIGNAL_TYPES[signal_type].sectors
