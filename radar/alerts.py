"""Alerts: why the radar asks a region to look at a household, and what the region did about it.

Lifecycle: raised -> acknowledged -> triaged (an outcome and the reason for it) -> closed, each
step by a named analyst. A household has at most one open risk alert (threshold or cross-sector)
at a time: while one is open, new signals raise its score in the worklist instead of raising
another. Breaches of safety conditions and missed check dates always raise their own alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from radar.risk_model import Urgency

SECONDS_PER_DAY = 86400.0


class AlertKind(StrEnum):
    """What raised the alert."""

    THRESHOLD = "threshold"  # the score reached the model's alert score
    CROSS_SECTOR = "cross_sector"  # several sectors saw something within weeks (a "match")
    BREACH = "breach"  # a signal the agreed safety conditions exclude
    CHECK_OVERDUE = "check_overdue"  # a monitoring check date passed without an assessment
    # model 2's MARAC rule: an incident within a year after a high-risk alert, whatever the score
    REPEAT = "repeat"
    # a report without a decision on working day 3 (radar.lead_times): due on day 5
    DECISION_DUE = "decision_due"
    # a Handle with Care notice not acknowledged by its deadline (radar.case_hwc)
    HWC_UNACKNOWLEDGED = "hwc_unacknowledged"


RISK_KINDS = frozenset({AlertKind.THRESHOLD, AlertKind.CROSS_SECTOR})
HIGH_RISK_REASONS = frozenset({"threshold", "acute_form", "partner_violence"})
"""An alert raised for any of these reasons is a high-risk alert (the high band): the MARAC
repeat rule counts from it."""


class AlertStatus(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    CLOSED = "closed"


class TriageOutcome(StrEnum):
    """What the region decided after looking at the alert."""

    NO_ACTION = "no_action"  # no further steps needed
    ADVICE = "advice"  # advice or support to the professionals involved
    SAFETY_ASSESSMENT = "safety_assessment"  # veiligheidsbeoordeling by Veilig Thuis
    INVESTIGATION = "investigation"  # onderzoek by Veilig Thuis
    HAND_OVER = "hand_over"  # overdracht to the local team (wijkteam) or youth care
    MONITOR = "monitor"  # keep watching: monitoring of safety over time
    ACUTE_ACTION = "acute_action"  # acute intervention


_PREVIOUS = {
    AlertStatus.ACKNOWLEDGED: AlertStatus.RAISED,
    AlertStatus.TRIAGED: AlertStatus.ACKNOWLEDGED,
    AlertStatus.CLOSED: AlertStatus.TRIAGED,
}
_ORDER = list(AlertStatus)
_VERB = {
    AlertStatus.RAISED: "acknowledge",
    AlertStatus.ACKNOWLEDGED: "triage",
    AlertStatus.TRIAGED: "close",
}


class AlertStateError(ValueError):
    """A lifecycle step out of order (or on an unknown alert)."""


@dataclass(frozen=True)
class StaffRef:
    """The analyst who took a step: who, for which organisation, in which role and region."""

    subject: str
    organisation: str
    role: str
    region: str

    def record(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> StaffRef:
        return cls(**record)


@dataclass
class Alert:
    """An alert as its case knows it."""

    alert_id: str
    kind: AlertKind
    region: str
    raised_at: datetime
    status: AlertStatus = AlertStatus.RAISED
    plan_id: str | None = None
    check_date: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.status != AlertStatus.CLOSED

    def check_step(self, to: AlertStatus) -> None:
        """Refuses a step that does not follow the lifecycle, saying what comes next."""
        if self.status == _PREVIOUS[to]:
            return
        if self.status == AlertStatus.CLOSED:
            raise AlertStateError("the alert is closed")
        if _ORDER.index(self.status) >= _ORDER.index(to):
            raise AlertStateError(f"the alert is already {self.status}")
        raise AlertStateError(f"the alert is {self.status}; {_VERB[self.status]} it first")


def alert_id(case_id: UUID, kind: AlertKind, key: str) -> str:
    """A deterministic id: the same trigger in a replay gives the same alert."""
    return str(uuid5(case_id, f"alert:{kind}:{key}"))


def urgency(
    score: float,
    children_present: bool,
    kind: str,
    raised_at: datetime,
    now: datetime,
    params: Urgency,
) -> float:
    """How urgent an open alert is now: higher first (see [urgency] in the model file)."""
    days_open = max(0.0, (now - raised_at).total_seconds() / SECONDS_PER_DAY)
    value = score * (params.children_factor if children_present else 1.0)
    value += min(days_open * params.points_per_day_open, params.max_age_points)
    return value + params.kind_points.get(kind, 0.0)
