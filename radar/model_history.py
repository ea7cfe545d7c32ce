"""Which risk model version was in force when: changing the model is itself an event.

There is one history for the whole radar. Each adoption carries the model's full content and
fingerprint, so any score in the store can be explained by the model it names, even after the
model file changed or disappeared. The content's format says which class reads it (model 1's or
model 2's: radar.risk_model_v2.parse_model); versions adopted before model 2 read as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from radar.alerts import StaffRef
from radar.free_text import checked_text
from radar.risk_model_v2 import AnyRiskModel, parse_model

MODEL_HISTORY_ID = uuid5(NAMESPACE_URL, "urn:signal-radar:risk-model-history")


class ModelChangeError(ValueError):
    """A model version that cannot be adopted."""


@dataclass(frozen=True)
class AdoptedVersion:
    """One adoption: the model's full content under its fingerprint, when, by whom and why."""

    version: int
    fingerprint: str
    content: dict[str, Any]
    adopted_at: datetime
    by: dict[str, str] | None  # StaffRef record; None for the model shipped with the radar
    reason: str


class RiskModelHistory(Aggregate):
    """The versions of the risk model, in the order they were adopted."""

    # --- events: their class names are part of the stored topics, never rename them ----------

    class Opened(Aggregate.Created):
        """The history begins (empty: the first adoption follows)."""

    class ModelAdopted(Aggregate.Event):
        version: int
        fingerprint: str
        content: dict[str, Any]  # the model file's content, as adopted
        adopted_at: datetime
        by: dict[str, str] | None  # StaffRef record; None for the model shipped with the radar
        reason: str

    @staticmethod
    def create_id() -> UUID:
        return MODEL_HISTORY_ID

    @event(Opened)
    def __init__(self) -> None:
        self.versions: list[AdoptedVersion] = []

    def in_force(self) -> AnyRiskModel | None:
        """The model adopted last, if any."""
        if not self.versions:
            return None
        return _parsed(self.versions[-1].fingerprint, self.versions[-1].content)

    def model(self, version: int) -> AnyRiskModel:
        """A version adopted earlier, as it was adopted."""
        entry = next((v for v in self.versions if v.version == version), None)
        if entry is None:
            raise ModelChangeError(f"model version {version} was never adopted")
        return _parsed(entry.fingerprint, entry.content)

    def adopt(
        self, model: AnyRiskModel, adopted_at: datetime, by: StaffRef | None, reason: str
    ) -> None:
        """Puts a new version in force; its version number must be higher than the last."""
        current = self.in_force()
        if current is not None and model.version <= current.version:
            raise ModelChangeError(
                f"version {model.version} is not newer than version {current.version} in force"
            )
        self._model_adopted(
            version=model.version,
            fingerprint=model.fingerprint(),
            content=model.content(),
            adopted_at=adopted_at,
            by=by.record() if by else None,
            reason=checked_text(reason, "the reason"),
        )

    @event(ModelAdopted)
    def _model_adopted(
        self,
        version: int,
        fingerprint: str,
        content: dict[str, Any],
        adopted_at: datetime,
        by: dict[str, str] | None,
        reason: str,
    ) -> None:
        self.versions.append(AdoptedVersion(version, fingerprint, content, adopted_at, by, reason))


_PARSED: dict[str, AnyRiskModel] = {}


def _parsed(fingerprint: str, content: dict[str, Any]) -> AnyRiskModel:
    """Adopted content parsed once per process (it never changes under its fingerprint)."""
    model = _PARSED.get(fingerprint)
    if model is None:
        model = _PARSED[fingerprint] = parse_model(content)
    return model
