"""The vocabulary of signal.v2: every party the programme names, the forms of violence and the
roles a person can have in what happened (what each party may signal: contracts.signal_types_v2).

Every value keeps the v1 value it extends (a v1 sector, type or role means the same in v2), so
a v1 event upcasts without translation. Each term carries its Dutch name and an English
explanation; both are part of the contract (exported into the JSON Schema and the docs table),
so publishers and analysts read the same definition. Values are only ever added: removing or
renaming one breaks the publishers that send it (`python -m contracts.compatibility`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.vocabulary import PersonRole, Sector


@dataclass(frozen=True)
class Term:
    """A value's Dutch term and what it means, in English."""

    dutch: str
    meaning: str


class SectorV2(StrEnum):
    """The kind of organisation that publishes a signal (the v1 sectors and the new parties)."""

    POLICE = Sector.POLICE.value
    EDUCATION = Sector.EDUCATION.value
    MENTAL_HEALTH = Sector.MENTAL_HEALTH.value
    VEILIG_THUIS = Sector.VEILIG_THUIS.value
    YOUTH_CARE = Sector.YOUTH_CARE.value
    HEALTHCARE = Sector.HEALTHCARE.value
    PUBLIC_PROSECUTION = "public_prosecution"
    PROBATION = "probation"
    CHILD_PROTECTION_BOARD = "child_protection_board"
    MUNICIPALITY = "municipality"
    SHELTER = "shelter"
    CHILDCARE = "childcare"
    YOUTH_HEALTH_CARE = "youth_health_care"
    SAFETY_HOUSE = "safety_house"
    ELDERLY_CARE = "elderly_care"
    HOME_CARE = "home_care"
    GENERAL_PRACTICE = "general_practice"
    EMERGENCY_DEPARTMENT = "emergency_department"


SECTORS: dict[SectorV2, Term] = {
    SectorV2.POLICE: Term("Politie", "The police."),
    SectorV2.EDUCATION: Term(
        "Onderwijs en leerplicht", "Schools and the compulsory-education office."
    ),
    SectorV2.MENTAL_HEALTH: Term("GGZ", "Mental-health care (geestelijke gezondheidszorg)."),
    SectorV2.VEILIG_THUIS: Term(
        "Veilig Thuis", "One of the 26 regional Veilig Thuis organisations."
    ),
    SectorV2.YOUTH_CARE: Term(
        "Jeugdhulp en jeugdbescherming",
        "Youth care and the certified youth-protection organisations.",
    ),
    SectorV2.HEALTHCARE: Term(
        "Gezondheidszorg (overig)",
        "Healthcare not named apart: hospitals outside the emergency department, midwives, "
        "paediatricians.",
    ),
    SectorV2.PUBLIC_PROSECUTION: Term("Openbaar Ministerie (OM)", "The public prosecutor."),
    SectorV2.PROBATION: Term("Reclassering", "The probation service."),
    SectorV2.CHILD_PROTECTION_BOARD: Term(
        "Raad voor de Kinderbescherming (RvdK)", "The Child Protection Board."
    ),
    SectorV2.MUNICIPALITY: Term(
        "Gemeente en lokaal team", "A municipality and its local social teams (wijkteams)."
    ),
    SectorV2.SHELTER: Term(
        "Vrouwenopvang en maatschappelijke opvang", "Women's, family and other shelters."
    ),
    SectorV2.CHILDCARE: Term("Kinderopvang", "Day care, pre-school and after-school care."),
    SectorV2.YOUTH_HEALTH_CARE: Term(
        "Jeugdgezondheidszorg (JGZ)",
        "Youth health care: the well-baby clinic (consultatiebureau) and the school doctor.",
    ),
    SectorV2.SAFETY_HOUSE: Term(
        "Zorg- en Veiligheidshuis",
        "The regional centre where care, police and justice handle complex cases together.",
    ),
    SectorV2.ELDERLY_CARE: Term(
        "Ouderenzorg", "Care homes, nursing homes and day care for older people."
    ),
    SectorV2.HOME_CARE: Term("Thuiszorg en wijkverpleging", "Home care and district nursing."),
    SectorV2.GENERAL_PRACTICE: Term("Huisartsenzorg", "General practitioners and their practices."),
    SectorV2.EMERGENCY_DEPARTMENT: Term(
        "Spoedeisende hulp (SEH)", "A hospital's emergency department."
    ),
}


class FormOfViolence(StrEnum):
    """A form of violence the publisher saw or suspects; a signal names none, one or more."""

    PHYSICAL = "physical_violence"
    PSYCHOLOGICAL = "psychological_violence"
    SEXUAL = "sexual_violence"
    NEGLECT = "neglect"
    WITNESSING = "witnessing_violence"
    FINANCIAL = "financial_abuse"
    HONOUR_RELATED = "honour_related_violence"
    FORCED_MARRIAGE = "forced_marriage"
    CHILD_MARRIAGE = "child_marriage"
    FEMALE_GENITAL_MUTILATION = "female_genital_mutilation"
    ELDER_ABUSE = "elder_abuse"
    HUMAN_TRAFFICKING = "human_trafficking"


FORMS_OF_VIOLENCE: dict[FormOfViolence, Term] = {
    FormOfViolence.PHYSICAL: Term("Lichamelijk geweld", "Hitting, kicking, strangling, burning."),
    FormOfViolence.PSYCHOLOGICAL: Term(
        "Psychisch geweld", "Threats, humiliation, intimidation, coercive control, stalking."
    ),
    FormOfViolence.SEXUAL: Term("Seksueel geweld", "Any sexual act against someone's will."),
    FormOfViolence.NEGLECT: Term(
        "Verwaarlozing", "Withholding the physical or emotional care someone depends on."
    ),
    FormOfViolence.WITNESSING: Term(
        "Getuige van huiselijk geweld", "A child sees or hears violence between its parents."
    ),
    FormOfViolence.FINANCIAL: Term(
        "Financiële uitbuiting", "Taking or controlling someone's money or goods against them."
    ),
    FormOfViolence.HONOUR_RELATED: Term(
        "Eergerelateerd geweld", "Violence to restore a family's honour in its community's eyes."
    ),
    FormOfViolence.FORCED_MARRIAGE: Term(
        "Huwelijksdwang", "Being forced into, or kept in, a marriage."
    ),
    FormOfViolence.CHILD_MARRIAGE: Term(
        "Kindhuwelijk", "A marriage, formal or informal, of someone under 18."
    ),
    FormOfViolence.FEMALE_GENITAL_MUTILATION: Term(
        "Vrouwelijke genitale verminking (VGV)", "Female genital mutilation, done or feared."
    ),
    FormOfViolence.ELDER_ABUSE: Term(
        "Ouderenmishandeling", "Abuse of a person of 65 or older by someone they depend on."
    ),
    FormOfViolence.HUMAN_TRAFFICKING: Term(
        "Mensenhandel", "Exploitation by force or deceit, including by a loverboy."
    ),
}


class PersonRoleV2(StrEnum):
    """A role of a person in the signal: who they are in the household (v1's three roles and
    more) and what part they had in what happened. A person has one role or several."""

    CHILD = PersonRole.CHILD.value
    PARENT_OR_CARER = PersonRole.PARENT_OR_CARER.value
    OTHER_ADULT = PersonRole.OTHER_ADULT.value
    PARTNER = "partner"
    EX_PARTNER = "ex_partner"
    INFORMAL_CARER = "informal_carer"
    VICTIM = "victim"
    SUSPECTED_PERPETRATOR = "suspected_perpetrator"
    WITNESS = "witness"


PERSON_ROLES: dict[PersonRoleV2, Term] = {
    PersonRoleV2.CHILD: Term("Kind", "A child of the household (also a child not yet born)."),
    PersonRoleV2.PARENT_OR_CARER: Term(
        "Ouder of verzorger", "A parent, step-parent or carer of a child of the household."
    ),
    PersonRoleV2.OTHER_ADULT: Term("Andere volwassene", "Any other adult the signal concerns."),
    PersonRoleV2.PARTNER: Term("Partner", "The partner of another person in the signal."),
    PersonRoleV2.EX_PARTNER: Term("Ex-partner", "A former partner of another person in it."),
    PersonRoleV2.INFORMAL_CARER: Term(
        "Mantelzorger", "Someone who cares, unpaid, for a person in the signal."
    ),
    PersonRoleV2.VICTIM: Term("Slachtoffer", "A person the violence is (suspected) aimed at."),
    PersonRoleV2.SUSPECTED_PERPETRATOR: Term(
        "Vermoedelijke pleger", "A person suspected of the violence (no finding of guilt)."
    ),
    PersonRoleV2.WITNESS: Term("Getuige", "A person who saw or heard what happened."),
}


class Reporter(StrEnum):
    """Who reported to Veilig Thuis (de melder) for a report or an advice request: a
    professional by sector (every v2 sector, with the same value) or one of the non-professional
    reporters the CBS beleidsinformatie tells apart. Source: the CBS statistics of Veilig Thuis
    (StatLine, "Veilig Thuis; adviezen en meldingen, melder"), which split the melders into
    professionals by sector and non-professionals: the person concerned, family, neighbours and
    acquaintances, anonymous and other citizens (to be checked against the CBS delivery
    specification of the year before the first delivery)."""

    POLICE = SectorV2.POLICE.value
    EDUCATION = SectorV2.EDUCATION.value
    MENTAL_HEALTH = SectorV2.MENTAL_HEALTH.value
    VEILIG_THUIS = SectorV2.VEILIG_THUIS.value
    YOUTH_CARE = SectorV2.YOUTH_CARE.value
    HEALTHCARE = SectorV2.HEALTHCARE.value
    PUBLIC_PROSECUTION = SectorV2.PUBLIC_PROSECUTION.value
    PROBATION = SectorV2.PROBATION.value
    CHILD_PROTECTION_BOARD = SectorV2.CHILD_PROTECTION_BOARD.value
    MUNICIPALITY = SectorV2.MUNICIPALITY.value
    SHELTER = SectorV2.SHELTER.value
    CHILDCARE = SectorV2.CHILDCARE.value
    YOUTH_HEALTH_CARE = SectorV2.YOUTH_HEALTH_CARE.value
    SAFETY_HOUSE = SectorV2.SAFETY_HOUSE.value
    ELDERLY_CARE = SectorV2.ELDERLY_CARE.value
    HOME_CARE = SectorV2.HOME_CARE.value
    GENERAL_PRACTICE = SectorV2.GENERAL_PRACTICE.value
    EMERGENCY_DEPARTMENT = SectorV2.EMERGENCY_DEPARTMENT.value
    OTHER_PROFESSIONAL = "other_professional"
    SELF = "self"
    RELATIVE = "relative"
    NEIGHBOUR_OR_ACQUAINTANCE = "neighbour_or_acquaintance"
    ANONYMOUS = "anonymous"
    OTHER_CITIZEN = "other_citizen"


REPORTERS: dict[Reporter, Term] = {
    **{Reporter(str(sector)): term for sector, term in SECTORS.items()},
    Reporter.OTHER_PROFESSIONAL: Term(
        "Overige professional", "A professional of a sector not named (a company doctor, ...)."
    ),
    Reporter.SELF: Term("Betrokkene zelf", "The person the violence is aimed at, or who uses it."),
    Reporter.RELATIVE: Term("Familielid", "A member of the family, living in or outside it."),
    Reporter.NEIGHBOUR_OR_ACQUAINTANCE: Term(
        "Buren, vrienden of kennissen", "A neighbour, friend or acquaintance."
    ),
    Reporter.ANONYMOUS: Term("Anonieme melder", "A reporter who did not give their name."),
    Reporter.OTHER_CITIZEN: Term("Overige niet-professional", "Any other citizen."),
}


class ProsecutionOutcome(StrEnum):
    """How the public prosecutor (OM) decided on a case (vervolgingsbeslissing), as the OM's
    decision signal (`prosecution_decision`) says it: one of the OM's three ways of deciding."""

    PROSECUTION = "prosecution"  # dagvaarden: the case goes to court
    DISMISSAL = "dismissal"  # sepot: not prosecuted
    PUNISHMENT_ORDER = "punishment_order"  # OM-strafbeschikking: punished by the OM itself


PROSECUTION_OUTCOMES: dict[ProsecutionOutcome, Term] = {
    ProsecutionOutcome.PROSECUTION: Term("Dagvaarding", "Prosecuted: the case goes to court."),
    ProsecutionOutcome.DISMISSAL: Term("Sepot", "Not prosecuted (dismissed)."),
    ProsecutionOutcome.PUNISHMENT_ORDER: Term(
        "Strafbeschikking", "The OM imposed the punishment itself (OM-strafbeschikking)."
    ),
}
