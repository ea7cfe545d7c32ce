"""What the statistics count, folded from the stored events in the order they were recorded:
per household its signals (as corrected, without the retracted ones), the region responsible
for it, the closures of the monitoring of its safety conditions, the decision of each safety
assessment of a report, and the investigations closed.

Fed the events up to a moment T, it holds what the store held at T: the effect monitor and the
CBS tables are computed from it, so either can be rebuilt as of any moment. Only pseudonyms are
kept, never an identifier; nothing leaves except counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from radar.case import HouseholdCase
from radar.case_assessment import InvestigationClosed, SafetyAssessmentRecorded
from radar.household import Household
from radar.household_state import CHILD_ROLE


@dataclass
class SignalNote:
    """One signal as the statistics see it: what, from which sector (and, for a report or
    advice request, who reported it to Veilig Thuis, None when not said), where and when."""

    signal_type: str
    sector: str
    reported_by: str | None
    region: str
    occurred_at: datetime
    received_at: datetime
    forms_of_violence: tuple[str, ...]
    children: tuple[str, ...]


@dataclass(frozen=True)
class Closure:
    """Monitoring of a household's safety conditions closed: when, in which region, and
    whether the conditions led to safety."""

    closed_at: datetime
    region: str | None
    safety_achieved: bool


@dataclass(frozen=True)
class InvestigationNote:
    """An own investigation closed: its conclusion, in which region, when."""

    outcome: str
    region: str
    closed_at: datetime


@dataclass
class HouseholdHistory:
    """One household's signals and closures as far as the events told."""

    pseudonym: str
    signals: dict[str, SignalNote] = field(default_factory=dict)
    responsible_region: str | None = None
    last_signal_region: str | None = None
    closures: list[Closure] = field(default_factory=list)
    decisions: dict[str, str] = field(default_factory=dict)  # report id -> SafetyDecision
    investigations: list[InvestigationNote] = field(default_factory=list)

    @property
    def region(self) -> str | None:
        """The region responsible for it: the latest assignment, else its last signal's."""
        return self.responsible_region or self.last_signal_region

    def notes(self) -> list[SignalNote]:
        """Its signals in the order the radar received them."""
        return sorted(self.signals.values(), key=lambda n: n.received_at)


class StatisticsHistory:
    """The fold: `apply` each domain event (in store order); events of other types are ignored."""

    def __init__(self) -> None:
        self.households: dict[str, HouseholdHistory] = {}
        self._case_households: dict[UUID, str] = {}

    TOPICS = tuple(
        get_topic(cls)
        for cls in (
            Household.SignalRecorded,
            Household.SignalCorrected,
            Household.SignalRetracted,
            Household.RegionAssigned,
            HouseholdCase.Opened,
            HouseholdCase.MonitoringClosed,
            SafetyAssessmentRecorded,
            InvestigationClosed,
        )
    )
    """The topics the fold reads: a replay fetches no others."""

    def apply_all(self, events: Iterable[Any]) -> StatisticsHistory:
        for domain_event in events:
            self.apply(domain_event)
        return self

    def apply(self, domain_event: Any) -> None:
        match domain_event:
            case Household.SignalRecorded():
                self._recorded(domain_event)
            case Household.SignalCorrected():
                note = self._household(domain_event.household).signals.get(
                    str(domain_event.signal_id)
                )
                if note is not None:
                    note.signal_type = domain_event.signal_type
                    note.occurred_at = domain_event.occurred_at
            case Household.SignalRetracted():
                self._household(domain_event.household).signals.pop(
                    str(domain_event.signal_id), None
                )
            case Household.RegionAssigned():
                self._household(domain_event.household).responsible_region = domain_event.region
            case HouseholdCase.Opened():
                self._case_households[domain_event.originator_id] = domain_event.household
            case HouseholdCase.MonitoringClosed():
                pseudonym = self._case_households.get(domain_event.originator_id)
                if pseudonym is not None:
                    household = self._household(pseudonym)
                    household.closures.append(
                        Closure(
                            domain_event.timestamp, household.region, domain_event.safety_achieved
                        )
                    )
            case SafetyAssessmentRecorded():
                decisions = self._household(domain_event.household).decisions
                decisions[domain_event.report_id] = domain_event.decision
            case InvestigationClosed():
                self._household(domain_event.household).investigations.append(
                    InvestigationNote(
                        domain_event.outcome, domain_event.region, domain_event.closed_at
                    )
                )
            case _:
                pass

    def _recorded(self, recorded: Household.SignalRecorded) -> None:
        household = self._household(recorded.household)
        household.last_signal_region = recorded.region
        household.signals[str(recorded.signal_id)] = SignalNote(
            signal_type=recorded.signal_type,
            sector=recorded.sector,
            reported_by=recorded.reported_by,
            region=recorded.region,
            occurred_at=recorded.occurred_at,
            received_at=recorded.received_at,
            forms_of_violence=tuple(recorded.forms_of_violence),
            children=tuple(p["pseudonym"] for p in recorded.persons if p["role"] == CHILD_ROLE),
        )

    def _household(self, pseudonym: str) -> HouseholdHistory:
        found = self.households.get(pseudonym)
        if found is None:
            found = self.households[pseudonym] = HouseholdHistory(pseudonym)
        return found
