"""What adopting a new model version would change: its parameters, and every household's
score now, before the new version is put in force."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from radar.risk import SignalFact
from radar.risk_in_force import assess_any
from radar.risk_model_v2 import AnyRiskModel


@dataclass(frozen=True)
class ScoreChange:
    """One household's score now under the model in force and under the new one."""

    household: str
    region: str | None
    before: Decimal
    after: Decimal
    alert_before: bool  # at or above the alert score of its model
    alert_after: bool

    @property
    def delta(self) -> Decimal:
        return self.after - self.before


@dataclass(frozen=True)
class DiffSummary:
    households: int
    higher: int
    lower: int
    unchanged: int
    newly_alerting: int
    no_longer_alerting: int


def parameter_changes(old: AnyRiskModel, new: AnyRiskModel) -> list[str]:
    """Every parameter that differs, as `path: old -> new` lines."""
    before, after = _flatten(old.content()), _flatten(new.content())
    return [
        f"{key}: {before.get(key, '(absent)')} -> {after.get(key, '(absent)')}"
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]


def score_changes(
    households: Iterable[tuple[str, str | None, Sequence[SignalFact]]],
    old: AnyRiskModel,
    new: AnyRiskModel,
    now: datetime,
) -> list[ScoreChange]:
    """Each household's score at `now` under both models, largest change first."""
    changes = []
    for household, region, facts in households:
        if not facts:
            continue
        before = assess_any(facts, old, now).score
        after = assess_any(facts, new, now).score
        changes.append(
            ScoreChange(
                household,
                region,
                before,
                after,
                before >= Decimal(str(old.thresholds.alert_score)),
                after >= Decimal(str(new.thresholds.alert_score)),
            )
        )
    return sorted(changes, key=lambda c: (-abs(c.delta), c.household))


def summarise(changes: Sequence[ScoreChange]) -> DiffSummary:
    return DiffSummary(
        households=len(changes),
        higher=sum(c.delta > 0 for c in changes),
        lower=sum(c.delta < 0 for c in changes),
        unchanged=sum(c.delta == 0 for c in changes),
        newly_alerting=sum(c.alert_after and not c.alert_before for c in changes),
        no_longer_alerting=sum(c.alert_before and not c.alert_after for c in changes),
    )


def _flatten(content: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in content.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat
