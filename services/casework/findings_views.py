"""What a household's risk view says of the signals Veilig Thuis found unfounded (issue 17): they
are left out of the score, and the explanation says so, instead of acting as if they never
existed. Only the ones the purpose may see, with only its fields."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from pydantic import BaseModel, Field

from privacy.policy import Obligations
from radar.risk import SignalFact
from services.casework.weighing import split_facts

LEFT_OUT_BECAUSE = "found_unfounded_by_veilig_thuis"
SHOWN_FIELDS = ("signal_id", "sector", "signal_type", "occurred_at")


class LeftOutView(BaseModel):
    """A signal that no longer counts in the score, and why."""

    because: str = Field(
        default=LEFT_OUT_BECAUSE,
        description="Why it is left out: found_unfounded_by_veilig_thuis (VT found after "
        "investigation that the signal did not hold; it stays on the timeline, marked).",
    )
    signal_id: str | None = None
    sector: str | None = None
    signal_type: str | None = None
    occurred_at: datetime | None = None


def left_out_views(
    unfounded: Sequence[SignalFact], obligations: Obligations, restricted: Collection[str]
) -> list[LeftOutView]:
    """The unfounded signals the purpose sees (as it would see them counted), in order."""
    shown = split_facts(unfounded, obligations, restricted).shown
    fields = [name for name in SHOWN_FIELDS if name in obligations.fields]
    return [LeftOutView(**{name: getattr(fact, name) for name in fields}) for fact in shown]
