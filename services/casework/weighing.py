"""A household's score as one purpose may be shown it, by the purpose register's withheld rule
(privacy/withholding.py): the lines of the signals it sees, and one withheld line for what the
rest adds (signals under restriction, and under `weight` the signals beyond the purpose).

The score is assessed again from the household's signals at read time (radar.risk.assess is a
pure function of signals, model and moment), so that a visible signal's own line does not tell,
through its convergence or repetition factor, that a signal the purpose may not see lies near
it: with `nothing` or `count` every number is that of the household without those signals.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from privacy.policy import Obligations
from privacy.withholding import Withholding, withhold
from radar.risk import ZERO, Assessment, Contribution, SignalFact
from radar.risk_in_force import assess_any
from radar.risk_model_v2 import AnyRiskModel, RiskModelV2


@dataclass(frozen=True)
class Weighed:
    """What the purpose is shown of a household's score now."""

    split: Withholding[SignalFact]
    lines: list[Contribution]  # the signals it sees, decayed to now, each worth 0.01 or more
    withheld_points: Decimal  # what the other weighed signals add (the withheld line)
    children_present: bool
    model_2: bool = False  # scored under model 2: its lines name the form and partner factors

    @property
    def score(self) -> Decimal:
        return sum((c.points for c in self.lines), ZERO) + self.withheld_points

    @property
    def sectors(self) -> list[str]:
        """The sectors behind the lines: the withheld line is no sector."""
        return sorted({c.sector for c in self.lines})

    @property
    def beyond_ids(self) -> frozenset[str]:
        return frozenset(f.signal_id for f in self.split.beyond)

    def leaves_out(self, triggers: Iterable[str]) -> bool:
        """Whether something raised by these signals (an alert) is to be left out: under
        `nothing` and `count` when they are all beyond the purpose."""
        found = set(triggers)
        return self.split.hides_existence and bool(found) and found <= self.beyond_ids

    def assessed_at(self, moment: datetime, model: AnyRiskModel) -> Assessment:
        """The score shown, with the children's, as it was at `moment` (an alert's score when
        it was raised)."""
        return assess_any([f for f in self.split.weighed if f.received_at <= moment], model, moment)

    def score_at(self, moment: datetime, model: AnyRiskModel) -> Decimal:
        return self.assessed_at(moment, model).score

    @property
    def recorded_at(self) -> datetime | None:
        """When the last signal the purpose sees (or one restricted) was received: the date of
        a signal beyond the purpose is never told, not even as the moment of a score."""
        moments = [f.received_at for f in (*self.split.shown, *self.split.restricted)]
        return max(moments) if moments else None


def split_facts(
    facts: Sequence[SignalFact], obligations: Obligations, restricted: Collection[str]
) -> Withholding[SignalFact]:
    """The household's signals split for the purpose, those in `restricted` (ids) apart."""
    return withhold(
        obligations,
        facts,
        lambda f: f.signal_id in restricted,
        lambda f: {"sector": f.sector, "occurred_at": f.occurred_at},
    )


def weigh(
    facts: Sequence[SignalFact],
    obligations: Obligations,
    restricted: Collection[str],
    model: AnyRiskModel,
    as_of: datetime | None,
    now: datetime,
) -> Weighed:
    """The household's score now as the purpose may be shown it, assessed as of `as_of` (the
    latest recorded score's moment) and decayed to now."""
    split = split_facts(facts, obligations, restricted)
    if as_of is None or not facts:
        return Weighed(split, [], ZERO, False)
    later = max(now, as_of)
    seen = _decayed(assess_any(split.shown, model, as_of), later)
    whole = assess_any(split.weighed, model, as_of)
    total = sum((c.points for c in _decayed(whole, later)), ZERO)
    shown = sum((c.points for c in seen), ZERO)
    return Weighed(
        split=split,
        lines=seen,
        withheld_points=max(ZERO, total - shown),
        children_present=whole.children_present,
        model_2=isinstance(model, RiskModelV2),
    )


def _decayed(assessment: Assessment, moment: datetime) -> list[Contribution]:
    """The lines decayed to `moment`, most points first (decay reorders signals of different
    half-lives), those no longer worth 0.01 left out: they add nothing."""
    decayed = (c.at(moment) for c in assessment.contributions)
    shown = [c for c in decayed if c.points > 0]
    return sorted(shown, key=lambda c: (-c.points, c.occurred_at, c.signal_id))
