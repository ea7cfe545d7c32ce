"""The thresholds of the proactive review of the access log (NEN 7513: the log is reviewed, not
only kept): when is access unusual enough for the privacy officer to look at. Loaded from
access_review.toml; every field has a default, a malformed file stops the review."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from privacy.registers import load_toml

DEFAULT_REVIEW_POLICY = Path(__file__).with_name("access_review.toml")


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OddHours(_Part):
    """Local hours from `start_hour` to `end_hour` (over midnight when start > end)."""

    start_hour: int = Field(default=22, ge=0, le=23)
    end_hour: int = Field(default=6, ge=0, le=23)
    min_accesses: int = Field(default=3, ge=1)

    def covers(self, hour: int) -> bool:
        if self.start_hour <= self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour


class OutsideWorklist(_Part):
    min_households: int = Field(default=5, ge=1)


class BreakGlass(_Part):
    min_uses: int = Field(default=2, ge=1)


class AcrossRegions(_Part):
    min_regions: int = Field(default=3, ge=2)


class ReviewPolicy(_Part):
    """One version of the review's thresholds."""

    version: int = Field(default=1, ge=1)
    timezone: str = "Europe/Amsterdam"
    odd_hours: OddHours = OddHours()
    outside_worklist: OutsideWorklist = OutsideWorklist()
    break_glass: BreakGlass = BreakGlass()
    across_regions: AcrossRegions = AcrossRegions()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def load(cls, path: Path = DEFAULT_REVIEW_POLICY) -> ReviewPolicy:
        """Reads and validates the thresholds; MalformedFileError names the file and the field."""
        return load_toml(cls, path, "access review policy")
