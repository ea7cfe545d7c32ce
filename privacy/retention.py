"""The retention policy (bewaartermijnen): per kind of data, how long after the last activity
about a household it may be kept, and on which legal ground. Loaded from retention.toml and
validated as a whole; a malformed policy stops the command that needs it."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from privacy.registers import load_toml

DEFAULT_POLICY = Path(__file__).with_name("retention.toml")


class RetentionKind(StrEnum):
    """The kinds of household data with their own retention period."""

    SIGNALS_WITHOUT_CASE = "signals_without_case"
    CASE_DATA = "case_data"


class RetentionPeriod(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    period_days: int = Field(ge=1)
    legal_source: str = Field(min_length=1)


class AccessLogRetention(BaseModel):
    """The access log's own retention (NEN 7513): entries are kept at least `minimum_days` and
    at most `maximum_days` after the end of their period (a calendar month); past the maximum
    the period's key is destroyed, so whom its entries were about can never be read again."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    minimum_days: int = Field(ge=1)
    maximum_days: int = Field(ge=1)
    minimum_source: str = Field(min_length=1)
    maximum_source: str = Field(min_length=1)
    to_confirm: str = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.maximum_days < self.minimum_days:
            raise ValueError("maximum_days is shorter than minimum_days")
        return self

    def past_maximum(self, period_end: datetime, now: datetime) -> bool:
        """Whether a period that ended then must be unreadable by now."""
        return period_end + timedelta(days=self.maximum_days) <= now

    def within_minimum(self, period_end: datetime, now: datetime) -> bool:
        """Whether a period that ended then must still be kept readable."""
        return period_end + timedelta(days=self.minimum_days) > now


class RetentionPolicy(BaseModel):
    """One version of the retention policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    signals_topic_max_days: int = Field(ge=1)
    kinds: dict[RetentionKind, RetentionPeriod]
    access_log: AccessLogRetention

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing = set(RetentionKind) - set(self.kinds)
        if missing:
            raise ValueError(f"no retention period for {sorted(missing)}")
        shortest = min(kind.period_days for kind in self.kinds.values())
        if self.signals_topic_max_days > shortest:
            raise ValueError(
                "signals_topic_max_days exceeds the shortest retention period: Kafka would "
                "keep signals longer than the radar may"
            )
        return self

    @classmethod
    def load(cls, path: Path = DEFAULT_POLICY) -> RetentionPolicy:
        """Reads and validates the policy; MalformedFileError names the file and the field."""
        return load_toml(cls, path, "retention policy")

    def kind_of(self, case_data: bool) -> RetentionKind:
        """The kind of a household's data: case data once Veilig Thuis took its case up."""
        return RetentionKind.CASE_DATA if case_data else RetentionKind.SIGNALS_WITHOUT_CASE

    def ends(self, kind: RetentionKind, last_activity: datetime) -> datetime:
        """When the retention of data of this kind, last touched then, ends."""
        return last_activity + timedelta(days=self.kinds[kind].period_days)

    def expired(self, kind: RetentionKind, last_activity: datetime, now: datetime) -> bool:
        """Whether data of this kind, last touched then, must be gone by now."""
        return self.ends(kind, last_activity) <= now
