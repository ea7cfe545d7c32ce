"""The shapes of a referral as VT asks for it and as the radar answers (the API's and the pages'
forms are checked by the same model, so the same rules hold)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from contracts.pseudonyms_v2 import PersonPseudonymV2
from radar.case_referral import MAX_REFERRED_PERSONS, MAX_SUPPORTING_SIGNALS
from services.casework.views import AlertStep, Note, Recorded

SignalId = Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]


class ReferralRequest(AlertStep):
    """A referral of the suspected offence an assessment found, to one OM office or police
    unit: the persons it concerns and the signals that support it, chosen by Veilig Thuis."""

    assessment_id: str = Field(
        pattern=r"^[0-9a-f-]{36}$",
        description="The safety assessment that decided suspected_offence.",
    )
    recipient: str = Field(
        max_length=64, description="The OM office or police unit (an organisation id)."
    )
    persons: list[PersonPseudonymV2] = Field(
        min_length=1,
        max_length=MAX_REFERRED_PERSONS,
        description="The persons the suspicion concerns; their roles and ages come from the "
        "household's signals.",
    )
    signals: list[SignalId] = Field(
        min_length=1,
        max_length=MAX_SUPPORTING_SIGNALS,
        description="The household's signals that support the suspicion: the referral passes "
        "their types and dates only.",
    )
    reason: Note


class ReferralView(Recorded):
    referral_id: str
    household: str
    assessment_id: str
    recipient: str
    persons: list[dict[str, Any]]
    signals: list[dict[str, Any]] = Field(description="Types and dates, as the recipient sees.")
    contact: dict[str, str]
    referred_at: datetime
