"""The statistics' history as of a moment: the event store replayed into a StatisticsHistory,
through the same point-in-time replay the auditors use (services/audit/replay.py), so "as of
T" means here exactly what it means there: the events whose timestamp is at or before T."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from radar.statistics_history import StatisticsHistory
from services.audit.replay import replay
from services.ledger.application import SignalLedger


@dataclass
class _HistoryModel:
    """The fold as a read model the replay can feed: in memory, built once per question."""

    history: StatisticsHistory = field(default_factory=StatisticsHistory)
    name: str = "statistics"
    topics: tuple[str, ...] = StatisticsHistory.TOPICS
    _position: int = 0

    def position(self) -> int:
        return self._position

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        assert expected == self._position, "one replay feeds one fold"
        self.history.apply_all(domain_event for _id, domain_event in events)
        self._position = new_position

    def reset(self) -> None:
        self.history, self._position = StatisticsHistory(), 0


def history_as_of(ledger: SignalLedger, as_of: datetime) -> StatisticsHistory:
    """What the store held at `as_of`, folded for counting."""
    model = _HistoryModel()
    replay(ledger, [model], as_of)
    return model.history
