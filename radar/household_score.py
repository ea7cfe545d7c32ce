"""The household's score, kept incrementally: what the aggregate holds of it (the latest score
and every signal's factors, from its ScoreChanged events) and the score keeper (radar.scoring)
it scores new signals with, kept in memory only and rebuilt from the facts when loaded.

Apart from radar/household.py, whose module must hold the event classes (stored topics).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.domain import Snapshot

from radar.risk import ZERO, Assessment, Contribution, Factors, SignalFact, shown_contributions
from radar.risk_model_v2 import AnyRiskModel
from radar.score_keeper import ScoreKeeper

MEMORY_ONLY = ("_keeper", "_latest_fact")
"""The household's attributes kept in memory only, never in a snapshot (rebuilt from facts)."""


class HouseholdSnapshot(Snapshot):
    """A household's snapshot without what it keeps in memory only (its score keeper, its
    latest signal): that is rebuilt from the facts."""

    @classmethod
    def take(cls, aggregate: Any) -> Any:
        snapshot = super().take(aggregate)
        for name in MEMORY_ONLY:
            snapshot.state.pop(name, None)
        return snapshot


class HouseholdScore:
    """The score part of the Household aggregate (a mixin: the aggregate holds the state)."""

    pseudonym: str
    responsible_region: str | None
    latest_score: Assessment | None  # without contributions: `explained` holds them
    explained: dict[str, Factors]  # signal id -> factors, as the ScoreChanged events said
    _keeper: ScoreKeeper | None = None  # in memory only (see HouseholdSnapshot)
    # the latest signal, for the aggregate's region_evidence; in memory only too (declared
    # here: an annotated default in the aggregate's body would become a dataclass field)
    _latest_fact: SignalFact | None = None

    _score_changed: Callable[..., None]  # the aggregate's ScoreChanged trigger

    def signal_facts(self) -> list[SignalFact]:
        raise NotImplementedError

    def change_score(self, model: AnyRiskModel, as_of: datetime, cause: str) -> Decimal:
        """Scores the household at `as_of` and records the score with the factors that changed
        since the last score (not the whole explanation); returns the score."""
        keeper = self._keeper
        fresh = keeper is None or keeper.model != model
        if keeper is None or fresh:
            keeper = self._keeper = ScoreKeeper(self.signal_facts(), model)
        scores = keeper.scores(as_of)
        changed, removed = keeper.take_changes()
        factors = keeper.household.factors
        if fresh:
            changed = set(factors)
            removed = set(self.explained) - set(factors)
        self._score_changed(
            household=self.pseudonym,
            score=scores.score,
            as_of=as_of,
            model_version=model.version,
            changed=[
                factors[i].record() for i in sorted(changed) if self.explained.get(i) != factors[i]
            ],
            removed=sorted(i for i in removed if i in self.explained),
            whole=False,
            children_present=scores.children_present,
            child_scores=scores.child_scores,
            region=self.responsible_region,
            cause=cause,
        )
        return scores.score

    def _apply_score(
        self,
        score: Decimal,
        as_of: datetime,
        model_version: int,
        changed: Iterable[Mapping[str, Any]],
        removed: Iterable[str],
        whole: bool,
        children_present: bool,
        child_scores: Mapping[str, Decimal],
    ) -> None:
        """What a ScoreChanged event changes: the score, and the factors it names."""
        if whole:
            self.explained = {}
        for record in changed:
            factors = Factors.from_record(record)
            self.explained[factors.signal_id] = factors
        for signal_id in removed:
            self.explained.pop(signal_id, None)
        self.latest_score = Assessment(
            score=Decimal(str(score)),
            as_of=as_of,
            model_version=model_version,
            contributions=(),
            children_present=children_present,
            child_scores={k: Decimal(str(v)) for k, v in child_scores.items()},
        )

    def partner_incidents(self, since: datetime) -> int:
        """Model 2's partner incidents at `since` or later, as its score keeper holds
        them (scored under model 2 before: none under model 1), without reading the history."""
        keeper = self._keeper
        assert keeper is not None, "scored before"
        model_2 = keeper.household.v2
        return 0 if model_2 is None else model_2.partner_incidents(since)

    def latest_assessment(self) -> Assessment | None:
        """The score recorded last, with its explanation computed now (radar.risk's function)."""
        latest = self.latest_score
        if latest is None:
            return None
        return replace(
            latest, contributions=shown_contributions(self.explained.values(), latest.as_of)
        )

    def score_decayed_to(self, moment: datetime) -> Decimal:
        """The latest score as it decays by `moment` (read side: radar.risk.score_at)."""
        latest = self.latest_score
        if latest is None:
            return ZERO
        later = max(moment, latest.as_of)
        return sum((f.at(later).points for f in self.explained.values()), ZERO)

    def _keep(self, added: SignalFact | None = None, removed: str | None = None) -> None:
        """Tells the score keeper (if one is in memory) what changed in the facts."""
        keeper = self._keeper
        if keeper is None:
            return
        if removed is not None:
            keeper.remove(removed)
        if added is not None:
            keeper.add(added)


def upcast_score_state(state: dict[str, Any]) -> None:
    """A version 4 snapshot's latest score (with its explanation) as version 5 holds it."""
    score: Assessment | None = state.get("latest_score")
    state["explained"] = (
        {} if score is None else {c.signal_id: c.factors() for c in score.contributions}
    )
    if score is not None:
        state["latest_score"] = replace(score, contributions=())


def upcast_score_event(state: dict[str, Any]) -> None:
    """A version 1 ScoreChanged (the whole explanation) as version 2 records it."""
    contributions = state.pop("contributions")
    state["changed"] = [
        {k: v for k, v in c.items() if k not in ("decay", "points")} for c in contributions
    ]
    state["removed"] = []
    state["whole"] = True


def assessment_of(
    score: Decimal,
    as_of: datetime,
    model_version: int,
    contributions: list[dict[str, Any]],
    children_present: bool,
    child_scores: dict[str, Decimal],
) -> Assessment:
    """An assessment from the values a ScoreChanged event (or a version 3 snapshot) holds."""
    return Assessment(
        score=Decimal(str(score)),
        as_of=as_of,
        model_version=model_version,
        contributions=tuple(Contribution.from_record(c) for c in contributions),
        children_present=children_present,
        child_scores={k: Decimal(str(v)) for k, v in child_scores.items()},
    )
