"""The risk model's parameters, version 2: what signal.v2's facts weigh (forms of violence,
partner violence repeated, the MARAC repeat rule, elder abuse from 65), in a versioned data file
a domain expert can read and change (radar/risk_models/v2.toml).

Everything model v1 has, v2 has under the same names and meaning (thresholds, severity, type
weights, convergence, repetition, escalation, children, urgency), keyed by v2's signal types;
the sections it adds are only ever factors of at least 1 and band raises, so a new signal still
never lowers a score. radar/risk_v2.py applies it.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any, Self

import orjson
from pydantic import Field, field_serializer, model_validator

from contracts.signal_types_v2 import SignalTypeV2
from contracts.vocabulary import Severity
from contracts.vocabulary_v2 import FormOfViolence, PersonRoleV2
from radar.risk_model import (
    MODELS_DIR,
    Convergence,
    Escalation,
    Repetition,
    Thresholds,
    TypeWeight,
    Urgency,
    _Section,
)
from radar.risk_model import RiskModel as RiskModelV1

MODEL_V2_FILE = MODELS_DIR / "v2.toml"


def _sorted_list(values: frozenset[str]) -> list[str]:
    return sorted(str(value) for value in values)  # same bytes in every process


class Bands(_Section):
    """Score bands: low below `medium`, high from the alert score (thresholds.alert_score)."""

    medium: float = Field(gt=0)


class ChildrenV2(_Section):
    named_factor: float = Field(ge=1)
    in_household_factor: float = Field(ge=1)
    types_concerning_children: frozenset[SignalTypeV2]
    adult_from_age: int = Field(ge=1)  # a person younger than this counts as a child

    @field_serializer("types_concerning_children")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return _sorted_list(values)

    @model_validator(mode="after")
    def _named_counts_most(self) -> Self:
        if self.named_factor < self.in_household_factor:
            raise ValueError("named_factor must be at least in_household_factor")
        return self


class FormWeight(_Section):
    factor: float = Field(ge=1)
    acute: bool = False


class Acute(_Section):
    window_days: float = Field(gt=0)


class PartnerViolence(_Section):
    incidents: int = Field(ge=2)
    window_days: float = Field(gt=0)
    factor: float = Field(ge=1)
    roles: frozenset[PersonRoleV2] = Field(min_length=1)
    forms: frozenset[FormOfViolence]
    types: frozenset[SignalTypeV2]

    @field_serializer("roles", "forms", "types")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return _sorted_list(values)


class RepeatAfterHighRisk(_Section):
    window_days: float = Field(gt=0)
    incident_types: frozenset[SignalTypeV2]

    @field_serializer("incident_types")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return _sorted_list(values)


class ElderAbuse(_Section):
    min_age: int = Field(ge=1)


class RiskModelV2(_Section):
    """One version of the risk model for signal.v2 (the format of radar/risk_models/v2.toml)."""

    version: int = Field(ge=2)
    description: str = Field(min_length=1)
    thresholds: Thresholds
    bands: Bands
    severity: dict[Severity, float]
    signal_types: dict[SignalTypeV2, TypeWeight]
    forms_of_violence: dict[FormOfViolence, FormWeight]
    acute: Acute
    partner_violence: PartnerViolence
    repeat_after_high_risk: RepeatAfterHighRisk
    elder_abuse: ElderAbuse
    convergence: Convergence
    repetition: Repetition
    escalation: Escalation
    children: ChildrenV2
    urgency: Urgency

    @model_validator(mode="after")
    def _complete(self) -> Self:
        for name, known, listed in (
            ("signal_types", set(SignalTypeV2), set(self.signal_types)),
            ("severity", set(Severity), set(self.severity)),
            ("forms_of_violence", set(FormOfViolence), set(self.forms_of_violence)),
        ):
            missing = known - listed
            if missing:
                raise ValueError(f"{name} lacks {sorted(missing)}")
        if any(value < 0 for value in self.severity.values()):
            raise ValueError("severity multipliers must not be negative")
        if self.bands.medium > self.thresholds.alert_score:
            raise ValueError("bands.medium must not lie above thresholds.alert_score")
        return self

    @classmethod
    def load(cls, path: Path = MODEL_V2_FILE) -> RiskModelV2:
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

    def type_weight(self, signal_type: str) -> TypeWeight:
        return self.signal_types[SignalTypeV2(signal_type)]

    def severity_multiplier(self, severity: str) -> float:
        return self.severity[Severity(severity)]

    def form(self, form: str) -> FormWeight:
        return self.forms_of_violence[FormOfViolence(form)]

    def keeps_v1(self, v1: RiskModelV1) -> bool:
        """Whether this model weighs what v1 knew as `v1` does: then a v1 history (upcast)
        scores the same under both (radar/risk_v2.py's module docstring)."""
        shared = ("thresholds", "severity", "convergence", "repetition", "escalation", "urgency")
        if any(getattr(self, name) != getattr(v1, name) for name in shared):
            return False
        types = {str(k): v for k, v in self.signal_types.items()}
        types_v1 = set(v1.signal_types)
        children = self.children
        return (
            all(types[str(kind)] == weight for kind, weight in v1.signal_types.items())
            and (children.named_factor, children.in_household_factor)
            == (v1.children.named_factor, v1.children.in_household_factor)
            and {str(t) for t in v1.children.types_concerning_children}
            == {str(t) for t in children.types_concerning_children} & {str(t) for t in types_v1}
        )


AnyRiskModel = RiskModelV1 | RiskModelV2
"""A model the radar scores under: model 1's format, or model 2's."""


def default_model_v2() -> RiskModelV2:
    """The v2 model shipped with the radar (adopted with `radar model adopt`)."""
    return RiskModelV2.load(MODEL_V2_FILE)


def is_model_2(content: dict[str, Any]) -> bool:
    """Whether a model file (or an adoption's content) is in model 2's format: it weighs forms
    of violence. Not its version number alone: model 1's format was adopted as versions 2 and
    higher before model 2 existed, and those records must still read as model 1."""
    return "forms_of_violence" in content


def parse_model(content: dict[str, Any]) -> AnyRiskModel:
    """A model file's (or an adoption's) content as the class its format says."""
    if is_model_2(content):
        return RiskModelV2.model_validate(content)
    return RiskModelV1.model_validate(content)


def load_model(path: Path) -> AnyRiskModel:
    """Reads and validates a model file of either format."""
    with path.open("rb") as handle:
        return parse_model(tomllib.load(handle))
