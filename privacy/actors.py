"""Who may talk to the radar: publishing organisations and the people who query it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from contracts.regions import VtRegion
from contracts.vocabulary_v2 import SectorV2


class AnalystRole(StrEnum):
    """The work a Veilig Thuis employee does; purposes are granted per role."""

    TRIAGE = "triage"
    SAFETY_ASSESSMENT = "safety_assessment"
    MONITORING = "monitoring"
    CONFIDENTIAL_DOCTOR = "confidential_doctor"  # vertrouwensarts
    PRIVACY_OFFICER = "privacy_officer"  # functionaris gegevensbescherming (FG/DPO)
    AUDITOR = "auditor"
    SCHOOL = "school"  # a school's contact person: receives notices, sees no timelines
    # a professional of an organisation involved with a family: may ask who leads (regie)
    INVOLVED_PROFESSIONAL = "involved_professional"
    # issue 17, the feeds back to the parties: each reads only what concerns its organisation
    REPORTER = "reporter"  # a publishing organisation's contact: its own signals' feedback
    COMPULSORY_EDUCATION = "compulsory_education"  # the municipality's leerplicht office
    PROSECUTOR = "prosecutor"  # the public prosecutor (OM) and the police: referrals


VT_ANALYST_ROLES = frozenset(
    {
        AnalystRole.TRIAGE,
        AnalystRole.SAFETY_ASSESSMENT,
        AnalystRole.MONITORING,
        AnalystRole.CONFIDENTIAL_DOCTOR,
    }
)


@dataclass(frozen=True)
class Publisher:
    """An organisation that publishes signals, speaking for one sector."""

    subject: str
    organisation: str
    sector: SectorV2
    """A v2 sector (the v1 sectors and the parties signal.v2 adds); v1 routes take only a
    v1 sector's signal types, so a new party publishes v2 only."""


@dataclass(frozen=True)
class Analyst:
    """A person who reads the radar, in one role and one Veilig Thuis region.

    Besides Veilig Thuis analysts this covers privacy officers, auditors and school contacts:
    what each may do follows from the role, through the purpose register. `on_behalf_of`
    names the responsible user (NEN 7513) when the analyst acts for someone else (a
    secretary for the confidential doctor, a trainee for the supervisor): from the token.
    """

    subject: str
    organisation: str
    role: AnalystRole
    region: VtRegion
    on_behalf_of: str | None = None

    @property
    def responsible(self) -> str:
        """The user on whose behalf this analyst acts: someone else, or themself."""
        return self.on_behalf_of or self.subject


@dataclass(frozen=True)
class Operator:
    """A person at the radar host's command line (NEN 7513: the user, and the responsible user
    on whose behalf they act): the OS account that ran the command, the name they gave
    (`--operator`, required to say who sat behind a shared account), and the role they act in."""

    os_user: str
    role: AnalystRole
    name: str | None = None

    @property
    def responsible(self) -> str:
        """The person accountable for the command: the name given, else the OS account."""
        return self.name or self.os_user

    def as_log(self) -> dict[str, str | None]:
        return {
            "os_user": self.os_user,
            "name": self.name,
            "role": str(self.role),
            "responsible": self.responsible,
        }


Actor = Publisher | Analyst
