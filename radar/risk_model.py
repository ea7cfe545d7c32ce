"""The risk model's parameters: a versioned data file a domain expert can read and change.

The file (radar/risk_models/v<N>.toml) is validated as a whole when loaded. Once adopted, its
content travels inside the adoption event, so a replay never depends on files on disk.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Self

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from contracts.vocabulary import Severity, SignalType

MODELS_DIR = Path(__file__).with_name("risk_models")
DEFAULT_MODEL_FILE = MODELS_DIR / "v1.toml"
_TYPES = {str(kind): kind for kind in SignalType}  # the types a model 1 file weighs


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_Section):
    alert_score: float = Field(gt=0)
    cross_sector_min_sectors: int = Field(ge=2)
    cross_sector_min_score: float = Field(ge=0)


class TypeWeight(_Section):
    weight: float = Field(ge=0)
    half_life_days: float = Field(gt=0)


UNWEIGHED_TYPE = TypeWeight(weight=0.0, half_life_days=365.0)
"""Model 1's weight of a type it was not calibrated for (signal.v2's new types): no points of
its own, never a guess at a calibration; the signal still counts, as a sector and a repeat,
in the other signals' factors. Model v2 (radar/risk_models/v2.toml) weighs every v2 type."""


class Convergence(_Section):
    window_days: float = Field(gt=0)
    bonus_per_extra_sector: float = Field(ge=0)
    max_factor: float = Field(ge=1)


class Repetition(_Section):
    window_days: float = Field(gt=0)
    bonus_per_other_signal: float = Field(ge=0)
    max_factor: float = Field(ge=1)


class Escalation(_Section):
    window_days: float = Field(gt=0)
    factor: float = Field(ge=1)


class Children(_Section):
    named_factor: float = Field(ge=1)
    in_household_factor: float = Field(ge=1)
    types_concerning_children: frozenset[SignalType]

    @field_serializer("types_concerning_children")
    def _sorted(self, values: frozenset[SignalType]) -> list[str]:
        return sorted(str(value) for value in values)  # same bytes in every process

    @model_validator(mode="after")
    def _named_counts_most(self) -> Self:
        if self.named_factor < self.in_household_factor:
            raise ValueError("named_factor must be at least in_household_factor")
        return self


class Urgency(_Section):
    children_factor: float = Field(ge=1)
    points_per_day_open: float = Field(ge=0)
    max_age_points: float = Field(ge=0)
    kind_points: dict[str, float]


class RiskModel(_Section):
    """One version of the risk model. Every factor is at least 1 and every bonus non-negative,
    which is what makes a new signal never lower a score."""

    version: int = Field(ge=1)
    description: str = Field(min_length=1)
    thresholds: Thresholds
    severity: dict[Severity, float]
    signal_types: dict[SignalType, TypeWeight]
    convergence: Convergence
    repetition: Repetition
    escalation: Escalation
    children: Children
    urgency: Urgency

    @model_validator(mode="after")
    def _complete(self) -> Self:
        missing_types = set(SignalType) - set(self.signal_types)
        if missing_types:
            raise ValueError(f"signal_types lacks {sorted(missing_types)}")
        missing_severities = set(Severity) - set(self.severity)
        if missing_severities:
            raise ValueError(f"severity lacks {sorted(missing_severities)}")
        if any(value < 0 for value in self.severity.values()):
            raise ValueError("severity multipliers must not be negative")
        return self

    @classmethod
    def load(cls, path: Path = DEFAULT_MODEL_FILE) -> RiskModel:
        """Reads and validates a model file."""
        with path.open("rb") as handle:
            return cls.model_validate(tomllib.load(handle))

    def content(self) -> dict[str, Any]:
        """The model as plain JSON-able data, sorted: what an adoption event carries."""
        loaded: dict[str, Any] = orjson.loads(self.canonical_json())
        return loaded

    def canonical_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON: two files with the same numbers have the same print."""
        return hashlib.sha256(self.canonical_json()).hexdigest()

    def severity_multiplier(self, severity: str) -> float:
        return self.severity[Severity(severity)]

    def type_weight(self, signal_type: str) -> TypeWeight:
        """The type's weight; UNWEIGHED_TYPE for a type this model does not know."""
        kind = _TYPES.get(signal_type)
        return UNWEIGHED_TYPE if kind is None else self.signal_types[kind]


def default_model() -> RiskModel:
    """The model shipped with the radar, adopted automatically when none is in force."""
    return RiskModel.load(DEFAULT_MODEL_FILE)
