"""The synthetic world's parameters, as its versioned file states them (world-v1.toml beside
this module); validated, so a typo in the file is an error, not a silently different world."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SEVERITIES = ("low", "moderate", "high", "acute")
WORLD_FILE = "world-v1.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Share = float


def _shares(values: list[float], what: str) -> None:
    if len(values) == 0 or abs(sum(values) - 1.0) > 1e-9 or min(values) < 0:
        raise ValueError(f"{what} must be non-negative shares adding up to 1")


class Scale(_Section):
    children_victims_per_year: int = Field(gt=0)
    adult_victims_per_year: int = Field(gt=0)
    victims_per_household: float = Field(gt=0)
    regions: int = Field(gt=0)
    region_fraction: float = Field(gt=0, le=1)
    vt_reports_per_half_year: int = Field(gt=0)

    def households(self) -> int:
        """Affected households a year in the simulated slice of an average region."""
        victims = self.children_victims_per_year + self.adult_victims_per_year
        per_region = victims / self.victims_per_household / self.regions
        return max(1, round(per_region * self.region_fraction))

    def vt_reports_per_household(self) -> float:
        """The public figure the world's VT reports are compared with: reports a year per
        affected household, nationally."""
        victims = self.children_victims_per_year + self.adult_victims_per_year
        return 2 * self.vt_reports_per_half_year / (victims / self.victims_per_household)


class Households(_Section):
    escalating_share: Share = Field(ge=0, le=1)
    calming_share: Share = Field(ge=0, le=1)
    two_adults_share: Share = Field(ge=0, le=1)
    children_shares: list[float]
    child_age_max: int = Field(ge=0, le=17)
    moving_share: Share = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> Households:
        if self.escalating_share + self.calming_share > 1:
            raise ValueError("escalating_share + calming_share exceed 1")
        _shares(self.children_shares, "children_shares")
        return self


class Incidents(_Section):
    base_rate_per_year: float = Field(gt=0)
    peak_rate_per_year: float = Field(gt=0)
    escalation_shape: float = Field(gt=0)
    escalation_days_min: int = Field(gt=0)
    escalation_days_max: int = Field(gt=0)
    calm_rate_per_year: float = Field(ge=0)
    calm_after_fraction_min: float = Field(gt=0, lt=1)
    calm_after_fraction_max: float = Field(gt=0, lt=1)
    severity_steady: list[float]
    severity_at_harm: list[float]
    physical: Share = Field(ge=0, le=1)
    psychological: Share = Field(ge=0, le=1)
    witnessing: Share = Field(ge=0, le=1)
    sexual: Share = Field(ge=0, le=1)
    sexual_escalating: Share = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> Incidents:
        if self.escalation_days_min > self.escalation_days_max:
            raise ValueError("escalation_days_min exceeds escalation_days_max")
        if self.calm_after_fraction_min > self.calm_after_fraction_max:
            raise ValueError("calm_after_fraction_min exceeds calm_after_fraction_max")
        if self.peak_rate_per_year < self.base_rate_per_year:
            raise ValueError("peak_rate_per_year is below base_rate_per_year")
        for name in ("severity_steady", "severity_at_harm"):
            values = getattr(self, name)
            if len(values) != len(SEVERITIES):
                raise ValueError(f"{name} needs a share for each of {', '.join(SEVERITIES)}")
            _shares(values, name)
        return self


class Party(_Section):
    """One party: what it sees of an incident, how late, and as which signal type."""

    sector: str
    probability: Share = Field(ge=0, le=1)
    delay_min_days: int = Field(ge=0)
    delay_max_days: int = Field(ge=0)
    min_severity: str = "low"
    needs_children: bool = False
    types: dict[str, str]
    types_with_children: dict[str, str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Party:
        if self.delay_min_days > self.delay_max_days:
            raise ValueError("delay_min_days exceeds delay_max_days")
        if self.min_severity not in SEVERITIES:
            raise ValueError(f"min_severity is not one of {', '.join(SEVERITIES)}")
        for mapping in (self.types, self.types_with_children or self.types):
            if set(mapping) != set(self.eligible_severities()):
                raise ValueError("types must name a signal type for each severity it sees")
        return self

    def eligible_severities(self) -> tuple[str, ...]:
        return SEVERITIES[SEVERITIES.index(self.min_severity) :]

    def sees(self, severity: str, children: bool) -> bool:
        """Whether an incident of this severity is one this party could see at all."""
        return severity in self.eligible_severities() and (children or not self.needs_children)

    def signal_type(self, severity: str, children: bool) -> str:
        mapping = self.types_with_children if children and self.types_with_children else self.types
        return mapping[severity]


class Workload(_Section):
    analysts_per_region: float = Field(gt=0)


class WorldParameters(_Section):
    """The whole file: the world is a function of these and a seed."""

    version: int = Field(ge=1)
    description: str
    start: date
    horizon_days: int = Field(gt=0)
    scale: Scale
    households: Households
    incidents: Incidents
    parties: dict[str, Party]
    workload: Workload

    def analysts(self) -> float:
        """Analysts for the simulated slice (a whole region's, scaled down)."""
        return self.workload.analysts_per_region * self.scale.region_fraction

    @classmethod
    def parse(cls, content: dict[str, Any]) -> WorldParameters:
        return cls.model_validate(content)
