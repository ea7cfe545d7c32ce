"""Veilig Thuis's findings as analysts' steps on the ledger (issue 17): a signal found
unfounded, rescored at once, and a protected reporter. A mixin of SignalLedger
(services/ledger/application.py), beside services/ledger/steps.py; the domain is
radar/household_findings.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from eventsourcing.domain import Aggregate

from radar.alerts import StaffRef
from radar.evaluation import follow_region
from radar.household import Household, household_id
from radar.household_findings import UNFOUNDED_CAUSE, Source, UnknownSignalError
from radar.risk_model_v2 import AnyRiskModel
from radar.timeline import SIGNAL_RECORDED
from services.ledger.notifications import NotificationLog

if TYPE_CHECKING:
    from radar.case import HouseholdCase

T = TypeVar("T")


class FindingSteps:
    """Findings, on top of the ledger's loading and saving."""

    if TYPE_CHECKING:  # provided by SignalLedger

        @property
        def notifications(self) -> NotificationLog: ...

        def household(self, pseudonym: str) -> Household: ...

        def model_in_force(self) -> AnyRiskModel: ...

        def _case(self, pseudonym: str, in_place: bool = False) -> HouseholdCase | None: ...

        def _retrying(self, command: Callable[[], tuple[T, list[Aggregate | None]]]) -> T: ...

    def find_unfounded(
        self, household: str, signal_id: str, by: StaffRef, reason: str, at: datetime
    ) -> None:
        """Records that VT found the signal unfounded and rescores the household in the same
        save: the ScoreChanged after it (cause `unfounded`) leaves the signal out. Domain
        refusals (radar.household_findings) pass through; nothing is saved then."""
        source = self._source(household, signal_id)
        model = self.model_in_force()

        def find() -> tuple[None, list[Aggregate | None]]:
            found = self.household(household)
            case = self._case(household) if found.has_case else None
            found.find_unfounded(source, by, reason, at)
            follow_region(found, case, reason=UNFOUNDED_CAUSE)
            found.change_score(model, _as_of(found, at), cause=UNFOUNDED_CAUSE)
            return None, [found, case]

        self._retrying(find)

    def protect_reporter(
        self, household: str, signal_id: str, by: StaffRef, reason: str, at: datetime
    ) -> str:
        """Protects the reporter of the signal (its organisation, in this household); returns
        the organisation."""
        source = self._source(household, signal_id)

        def protect() -> tuple[str, list[Aggregate | None]]:
            found = self.household(household)
            found.protect_reporter(source, by, reason, at)
            return source.organisation, [found]

        return self._retrying(protect)

    def _source(self, household: str, signal_id: str) -> Source:
        """The signal's publishing organisation, from its SignalRecorded (the aggregate does
        not keep it); UnknownSignalError when the household never recorded it. The household
        is loaded first: an unknown household is UnknownHouseholdError, as in every step."""
        self.household(household)
        for event in self.notifications.readable_events_of(household_id(household)):
            if isinstance(event, SIGNAL_RECORDED) and str(event.signal_id) == signal_id:
                return Source(signal_id, event.organisation)
        raise UnknownSignalError("the household holds no such signal")


def _as_of(household: Household, at: datetime) -> datetime:
    """The moment the new score is for: the finding, or later if the household was scored
    later (a score never goes back in time)."""
    latest = household.latest_score
    return at if latest is None or latest.as_of <= at else latest.as_of
