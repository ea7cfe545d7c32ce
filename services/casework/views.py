"""The shapes of the worklist, alert, risk and monitoring answers and requests.

Free text (reasons, notes, conditions) is checked on the way in: a BSN or an address is refused
with 422 before anything is decided or recorded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from contracts.signal_types_v2 import SignalTypeV2
from radar.alerts import TriageOutcome
from radar.free_text import checked_text
from radar.safety import MAX_CONDITION_LENGTH, MAX_CONDITIONS
from services.casework.findings_views import LeftOutView

Note = Annotated[str, Field(max_length=2000), AfterValidator(lambda t: checked_text(t, "text"))]
Condition = Annotated[
    str,
    Field(max_length=MAX_CONDITION_LENGTH),
    AfterValidator(lambda t: checked_text(t, "a condition", MAX_CONDITION_LENGTH)),
]
Justification = Annotated[
    str | None,
    Field(default=None, max_length=2000, description="Required across regions (bovenregionaal)."),
]


class ContributionView(BaseModel):
    """One signal's share of the score. Signal fields the purpose may not see are absent; the
    signals of sectors it may not see form one withheld line, so the lines still add up."""

    points: str
    withheld: bool = False
    signal_id: str | None = None
    sector: str | None = None
    signal_type: str | None = None
    severity: str | None = None
    occurred_at: datetime | None = None
    factors: dict[str, float] | None = None


class AlertView(BaseModel):
    alert_id: str
    household: str
    region: str
    kind: str
    reasons: list[str]
    status: str
    raised_at: datetime
    days_open: float
    urgency: float
    score_at_raise: str
    score_now: str
    model_version: int
    children_present: bool
    sectors: list[str] = Field(description="Sectors behind the score that this purpose sees.")
    sector_count: int = Field(
        description="How many sectors this purpose sees behind the score (the withheld line "
        "counts for none)."
    )
    explanation: list[ContributionView]
    withheld_by_purpose: int | None = Field(
        default=None,
        description="How many of the household's signals this purpose may not see, when the "
        "purpose register's withheld rule is count or weight; absent otherwise or when none.",
    )
    plan_id: str | None = None
    check_date: str | None = None
    steps: list[dict[str, Any]]
    expires_in_days: int | None = Field(
        default=None,
        description="Days until the household's signals reach the end of their retention "
        "period and are erased, this alert with them, unless someone takes the alert up. "
        "Absent once the household is case data (an alert acknowledged or triaged, safety "
        "conditions recorded).",
    )


class WorklistView(BaseModel):
    """A region's open alerts, most urgent first."""

    region: str
    purpose: str
    generated_at: datetime
    model_version: int
    alerts: list[AlertView]
    withheld_rule: str = Field(
        default="nothing",
        description="What this purpose learns about signals it may not see (purpose register): "
        "nothing, count or weight.",
    )
    withheld: int | None = Field(
        default=None,
        description="Alerts left out because the household's processing is restricted (AVG "
        "art. 18); absent when none were.",
    )


class AlertStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(default=None, max_length=64)
    justification: Justification = None


class TriageStep(AlertStep):
    outcome: TriageOutcome
    reason: Note


class CloseStep(AlertStep):
    reason: Note


class Recorded(BaseModel):
    """A step's answer: where in the event store it was recorded, for a read that must see it."""

    recorded_at_position: int = Field(
        default=0,
        description="The event-store position the step was recorded at; pass it as `after` "
        "to a read so that it waits (bounded) until the read models show the step.",
    )


class AlertStepView(Recorded):
    alert_id: str
    household: str
    status: str
    by: dict[str, str]


class HouseholdRiskView(BaseModel):
    """A household's score now and why, its alerts and its conditions under monitoring."""

    household: str
    purpose: str
    region: str | None = Field(
        default=None, description="Responsible VT region; absent when the radar knows nothing."
    )
    score_now: str
    score_recorded: str
    recorded_at: datetime | None = None
    model_version: int | None = None
    children_present: bool
    child_scores: dict[str, str] | None = None
    explanation: list[ContributionView]
    left_out: list[LeftOutView] = Field(
        default_factory=list,
        description="Signals the score leaves out because Veilig Thuis found them unfounded.",
    )
    alerts: list[dict[str, Any]]
    withheld_rule: str = Field(
        default="nothing",
        description="What this purpose learns about signals it may not see (purpose register): "
        "nothing, count or weight.",
    )
    withheld_by_purpose: int | None = Field(
        default=None,
        description="How many of the household's signals this purpose may not see, when the "
        "withheld rule is count or weight; absent otherwise or when none.",
    )


class ConditionsRequest(AlertStep):
    conditions: list[Condition] = Field(min_length=1, max_length=MAX_CONDITIONS)
    excluded_signal_types: list[SignalTypeV2] = Field(
        default_factory=list, description="New signals of these types breach the conditions."
    )
    starts_on: date | None = Field(default=None, description="Default: today.")
    ends_on: date | None = Field(default=None, description="Default: 12 months after the start.")
    check_dates: list[date] | None = Field(
        default=None, description="Default: 3, 6 and 12 months after the start."
    )


class ConditionsView(Recorded):
    plan_id: str
    household: str
    starts_on: date
    ends_on: date
    check_dates: list[date]
    excluded_signal_types: list[str]


class CheckAssessment(AlertStep):
    check_date: date
    conditions_kept: bool
    note: Note


class MonitoringClosure(AlertStep):
    safety_achieved: bool = Field(description="Did the conditions lead to safety?")
    note: Note


class MoveRequest(AlertStep):
    municipality: str = Field(min_length=2, max_length=64, description="Name or CBS code.")
    moved_on: date


class DepartureRequest(AlertStep):
    left_on: date = Field(description="The first day the person no longer lived there.")


class MonitoringStepView(Recorded):
    household: str
    person: str | None = None
    plan_id: str | None = None
    region: str | None = None
    recorded: str


class MonitoringView(BaseModel):
    """A region's conditions under monitoring and how closed monitoring ended."""

    region: str
    purpose: str
    plans: list[dict[str, Any]]
    outcomes: dict[str, int]
    withheld: int | None = Field(
        default=None,
        description="Plans left out because the household's processing is restricted (AVG "
        "art. 18); absent when none were.",
    )
