"""The shapes of the query API's answers. Fields a purpose may not see are simply absent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.pseudonyms_v2 import HouseholdPseudonymV2, PersonPseudonymV2
from services.addresses import AddressSubmission


class PersonView(BaseModel):
    """A person a signal names: who, and their place in the household (v1's role); signal.v2's
    facts only when the purpose may see them and the signal said them."""

    pseudonym: str
    role: str = Field(description="child, parent_or_carer or other_adult")
    roles: list[str] | None = Field(
        default=None,
        description="Every role the signal names (a v1 signal: its one role), without those "
        "the purpose may not see (hidden_roles)",
    )
    age: int | None = Field(default=None, description="In whole years, when the signal said it")
    unborn_child_of: str | None = Field(
        default=None, description="For a child not yet born: the pseudonym of its parent"
    )
    local_pseudonym: str | None = Field(
        default=None, description="The pl. pseudonym an identified person was known by"
    )


class SignalView(BaseModel):
    """One signal as an analyst sees it; only the fields the purpose allows are present."""

    signal_id: UUID | None = None
    organisation: str | None = None
    sector: str | None = None
    signal_type: str | None = None
    severity: str | None = None
    forms_of_violence: list[str] | None = Field(
        default=None,
        description="The forms of violence the signal names (a v1 signal: none), without those "
        "the purpose may not see (hidden_forms)",
    )
    occurred_at: datetime | None = None
    reported_at: datetime | None = None
    region: str | None = None
    persons: list[PersonView] | None = None
    household: str | None = Field(default=None, description="Where it was recorded.")
    via: str | None = Field(
        default=None, description="The member through whom another household's signal is shown."
    )
    earlier_address: bool | None = Field(
        default=None,
        description="true for a signal a current member brings from a household they lived in "
        "before they were seen here (only for purposes that may see persons)",
    )
    corrected: bool | None = Field(
        default=None, description="true when the publisher corrected the signal's values"
    )
    unfounded: bool | None = Field(
        default=None,
        description="true when Veilig Thuis found the signal unfounded after investigation: "
        "it is shown, and no longer counts in the household's score",
    )


WithheldRule = Annotated[
    str,
    Field(
        description="What this purpose learns about the signals it may not see (another "
        "sector, or before its look-back window), from the purpose register: nothing, count "
        "or weight.",
    ),
]
WithheldByPurpose = Annotated[
    int | None,
    Field(
        description="How many signals the purpose may not see there are, when its withheld "
        "rule is count or weight; absent when none, or when the rule is nothing. Never their "
        "sector, type or date.",
    ),
]


class TimelineView(BaseModel):
    """A household's signals in occurred-at order, as far as the purpose allows."""

    household: str
    purpose: str
    access: str = Field(description="normal, cross_region or break_glass")
    fields: list[str]
    signals: list[SignalView]
    withheld: int | None = Field(
        default=None,
        description="Signals withheld because they were recorded at a household, or name a "
        "person, whose processing is restricted (AVG art. 18); absent when none were.",
    )
    withheld_rule: WithheldRule = "nothing"
    withheld_by_purpose: WithheldByPurpose = None


class TimelineRequest(BaseModel):
    """Open a household's timeline by pseudonym or by address, for a stated purpose."""

    model_config = ConfigDict(extra="forbid")

    household: HouseholdPseudonymV2 | None = None
    address: AddressSubmission | None = None
    purpose: str | None = Field(default=None, max_length=64)
    justification: str | None = Field(
        default=None, max_length=2000, description="Required across regions and for break-glass."
    )
    break_glass: bool = False


class MembershipView(BaseModel):
    """A period in which the person belonged to a household (until: no departure recorded)."""

    household: str
    region: str | None
    since: datetime
    until: datetime | None


class PersonTimelineView(BaseModel):
    """One person's households over time and the signals naming them, as far as the purpose
    allows."""

    person: str
    purpose: str
    access: str = Field(description="normal, cross_region or break_glass")
    fields: list[str]
    memberships: list[MembershipView]
    signals: list[SignalView]
    withheld: int | None = Field(
        default=None,
        description="Signals withheld because they were recorded at a household, or name a "
        "person, whose processing is restricted (AVG art. 18), with the memberships only they "
        "showed; absent when none were.",
    )
    withheld_rule: WithheldRule = "nothing"
    withheld_by_purpose: WithheldByPurpose = None


class PersonTimelineRequest(BaseModel):
    """Open a person's timeline, with a justification across regions or for break-glass."""

    model_config = ConfigDict(extra="forbid")

    person: PersonPseudonymV2
    purpose: str | None = Field(default=None, max_length=64)
    justification: str | None = Field(
        default=None, max_length=2000, description="Required across regions and for break-glass."
    )
    break_glass: bool = False


class AccessLogEntryView(BaseModel):
    seq: int
    recorded_at: datetime
    kind: str
    payload: dict[str, Any]
    entry_hash: str


class AccessLogView(BaseModel):
    entries: list[AccessLogEntryView]


class BreakGlassView(BaseModel):
    access_seq: int
    recorded_at: datetime
    analyst: dict[str, Any]
    household: str | None
    purpose: str | None
    justification: str | None
    review: dict[str, Any] | None


class BreakGlassQueue(BaseModel):
    accesses: list[BreakGlassView]


class BreakGlassReview(BaseModel):
    """The privacy officer's judgement of one break-glass access."""

    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(default=None, max_length=64)
    outcome: Literal["justified", "unjustified"]
    note: str = Field(min_length=1, max_length=2000)


class NoticeView(BaseModel):
    access_seq: int
    recorded_at: datetime
    household: str
    kind: str
    accessor_organisation: str
    accessor_region: str
    purpose: str


class NoticesView(BaseModel):
    notices: list[NoticeView]
    withheld: int | None = Field(
        default=None,
        description="Notices left out because their household or person's processing is "
        "restricted (AVG art. 18); absent when none were.",
    )
