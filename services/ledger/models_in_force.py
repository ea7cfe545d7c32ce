"""The ledger's risk models: the one in force, its history, and adopting a new version (every
household rescored under it). A mixin of SignalLedger, apart from the batch path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from radar.alerts import StaffRef
from radar.evaluation import rescore
from radar.household import Household
from radar.model_history import MODEL_HISTORY_ID, RiskModelHistory
from radar.risk_model import default_model
from radar.risk_model_v2 import AnyRiskModel

DEFAULT_MODEL_REASON = "the model shipped with the radar, adopted at first use"
T = TypeVar("T")


class ModelsInForce:
    """The model new scores are made with, and its adoption, on top of the ledger."""

    if TYPE_CHECKING:  # provided by SignalLedger and the library's Application
        repository: Any

        def save(self, *objs: Any, **kwargs: Any) -> Any: ...

        def household_ids(self) -> Iterator[UUID]: ...

        def _load_household(
            self, hid: UUID, in_place: bool = False, pseudonym: str | None = None
        ) -> Household: ...

        def _retrying(self, command: Callable[[], tuple[T, list[Aggregate | None]]]) -> T: ...

    def model_in_force(self) -> AnyRiskModel:
        """The model new scores are made with (the shipped one until a version is adopted)."""
        return self._model_history().in_force() or default_model()

    def model_history(self) -> RiskModelHistory | None:
        try:
            history: RiskModelHistory = self.repository.get(MODEL_HISTORY_ID)
        except AggregateNotFoundError:
            return None
        return history

    def adopt_model(
        self, model: AnyRiskModel, by: StaffRef | None, reason: str, now: datetime | None = None
    ) -> int:
        """Puts a new model version in force and rescores every household under it; returns
        how many households got a new score. Scores made before keep their old version."""
        moment = now or datetime.now(UTC)
        history = self._model_history()
        history.adopt(model, moment, by, reason)
        self.save(history)
        return sum(self._rescore(hid, model, moment) for hid in self.household_ids())

    def _rescore(self, hid: UUID, model: AnyRiskModel, moment: datetime) -> int:
        def run() -> tuple[int, list[Aggregate | None]]:
            household = self._load_household(hid)
            changed = rescore(household, model, moment)
            return (1, [household]) if changed else (0, [])

        return self._retrying(run)

    def _model_history(self) -> RiskModelHistory:
        """The model history; created, with the shipped model in force, on first use."""
        history = self.model_history()
        if history is None:
            history = RiskModelHistory()
            history.adopt(default_model(), datetime.now(UTC), None, DEFAULT_MODEL_REASON)
        return history
