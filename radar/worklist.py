"""The regional worklist's pure logic: an open alert as an analyst sees it, and the urgency
order. The tables that hold the projection live with the services."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from radar.alerts import urgency
from radar.risk import Contribution, score_at
from radar.risk_model import Urgency


@dataclass(frozen=True)
class WorklistEntry:
    """An open alert with the household's latest recorded score and explanation."""

    alert_id: str
    household: str
    region: str
    kind: str
    reasons: tuple[str, ...]
    status: str
    raised_at: datetime
    score_at_raise: Decimal
    sectors: tuple[str, ...]
    plan_id: str | None
    check_date: str | None
    steps: tuple[dict[str, Any], ...]
    score: Decimal  # the latest recorded score, at score_as_of
    score_as_of: datetime
    model_version: int
    contributions: tuple[Contribution, ...]
    children_present: bool
    trigger_signals: tuple[str, ...] = ()  # the new signals that raised it (ids)

    def score_now(self, now: datetime) -> Decimal:
        """The latest score decayed to now: what the household's signals weigh today."""
        return score_at(self.contributions, self.score_as_of, now)

    def explanation_now(self, now: datetime) -> list[Contribution]:
        """The explanation decayed to now; it adds up to `score_now`."""
        later = max(now, self.score_as_of)
        return [c.at(later) for c in self.contributions]

    def urgency(self, now: datetime, params: Urgency) -> float:
        return urgency(
            float(self.score_now(now)),
            self.children_present,
            self.kind,
            self.raised_at,
            now,
            params,
        )


def ranked(entries: Iterable[WorklistEntry], now: datetime, params: Urgency) -> list[WorklistEntry]:
    """Most urgent first; on equal urgency the alert raised first, then by id (stable)."""
    return sorted(entries, key=lambda e: (-e.urgency(now, params), e.raised_at, e.alert_id))
