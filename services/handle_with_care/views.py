"""The Handle with Care requests and answers, shared by the API's routes and the pages."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.casework.views import AlertStep, Note


class HwcConfirmRequest(AlertStep):
    municipality: str | None = Field(
        default=None,
        max_length=64,
        description="Where the child lives (CBS code or name); needed when the radar does not "
        "know the household's municipality from a recorded move.",
    )
    reason: Note


class HwcDeclineRequest(AlertStep):
    reason: Note


class HwcAcknowledgeRequest(BaseModel):
    purpose: str | None = Field(default=None, max_length=64)


class HwcNoticeView(BaseModel):
    notice_id: str
    status: str
    school_day: str | None = None
    deadline: datetime | None = None


class HwcPendingNotice(BaseModel):
    notice_id: str
    household: str
    child: str
    occurred_at: datetime
    region: str


class HwcAcknowledged(BaseModel):
    notice_id: str
    acknowledged_at: datetime
