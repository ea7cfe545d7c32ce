"""The lead-time table as the API answers it and the CLI prints it, with each figure's
definition beside it (radar.lead_times has the definitions in full)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, Field

from radar.lead_times import (
    DECISION_WORKING_DAYS,
    INVESTIGATION_WEEKS,
    REMINDER_WORKING_DAY,
    Norm,
    RegionLeadTimes,
)

DEFINITIONS = {
    "period": "A report belongs to the period of its report date (the Dutch date Veilig Thuis "
    "received it); its investigation belongs to the same period.",
    "decisions": f"Reports decided (a safety assessment recorded) by working day "
    f"{DECISION_WORKING_DAYS} after the report date, Dutch calendar (weekends and public "
    "holidays of the Algemene termijnenwet not counted). Not decided after that day: late. "
    f"Not decided yet within it: pending, outside the share. Reminder from working day "
    f"{REMINDER_WORKING_DAY}.",
    "investigations": f"Own investigations closed within {INVESTIGATION_WEEKS} weeks (calendar "
    "days) of the decision to investigate; open past that: late; open within it: pending.",
    "share": "in_time / (in_time + late), to three decimals; met: share >= norm.",
}


class NormView(BaseModel):
    norm: str
    in_time: int
    late: int
    pending: int
    share: str | None = Field(description="Absent when no item's outcome is known yet.")
    met: bool | None


class RegionLeadTimeView(BaseModel):
    region: str
    reports: int
    decisions: NormView
    investigations: NormView


class LeadTimeTableView(BaseModel):
    """Per region: its reports dated in the period and both norms, as of a day."""

    first: date
    last: date
    as_of: date
    definitions: dict[str, str]
    regions: list[RegionLeadTimeView]


def _norm(norm: Norm) -> NormView:
    share = norm.share
    return NormView(
        norm=str(norm.norm),
        in_time=norm.in_time,
        late=norm.late,
        pending=norm.pending,
        share=None if share is None else str(share),
        met=norm.met,
    )


def table_view(
    rows: Sequence[RegionLeadTimes], first: date, last: date, as_of: date
) -> LeadTimeTableView:
    return LeadTimeTableView(
        first=first,
        last=last,
        as_of=as_of,
        definitions=DEFINITIONS,
        regions=[
            RegionLeadTimeView(
                region=row.region,
                reports=row.reports,
                decisions=_norm(row.decisions),
                investigations=_norm(row.investigations),
            )
            for row in rows
        ],
    )
