"""The score keeper: the household's scope and one per child (radar.scoring's Scope), the
signals added since last asked taken in together; what the household aggregate keeps in memory
(radar.household_score) to score new signals without going through its whole history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from radar.risk import SignalFact
from radar.risk_model_v2 import AnyRiskModel, RiskModelV2
from radar.risk_v2 import model_2_fact
from radar.scoring import Scope


@dataclass(frozen=True)
class Scores:
    """The household's score and its children's at one moment, from a ScoreKeeper."""

    score: Decimal
    child_scores: dict[str, Decimal]
    children_present: bool


class ScoreKeeper:
    """The household's scope and one per child named in its signals, under one model. A
    child whose scope would hold every signal of the household (each names the child or no
    child) shares the household's scope until a signal names only other children. Under
    model 2 a signal's children are model 2's (radar.risk_v2.model_2_fact)."""

    def __init__(self, facts: Sequence[SignalFact], model: AnyRiskModel) -> None:
        self.model = model
        self._v2 = model if isinstance(model, RiskModelV2) else None
        facts = [self._seen(f) for f in facts] if self._v2 is not None else facts
        self._household = Scope(model, facts)
        self._terms = self._household.terms
        self.removed: set[str] = set()  # the household's signals removed since taken
        self.children: dict[str, Scope | None] = {}  # None: the household's scope
        self._naming: Counter[str] = Counter(c for f in facts for c in f.children)
        for child in self._naming:
            self.children[child] = self._scope_of(child)
        self._added: list[SignalFact] = []  # added, not yet applied to the scopes

    @property
    def household(self) -> Scope:
        """The household's scope, with every signal added so far."""
        self._flush()
        return self._household

    def _scope_of(self, child: str) -> Scope | None:
        household = self._household
        counted = [f for f in household.facts.values() if _counts_for(f, child)]
        if len(counted) == len(household):
            return None
        return Scope(self.model, counted, self._terms)

    def add(self, fact: SignalFact) -> None:
        """Adds a signal; the scopes take in the signals added since they were last asked
        about, together (a batch: each touched factor worked out once)."""
        self._added.append(self._seen(fact))

    def _seen(self, fact: SignalFact) -> SignalFact:
        return fact if self._v2 is None else model_2_fact(fact, self._v2)

    def _flush(self) -> None:
        if not self._added:
            return
        facts, self._added = self._added, []
        self._household.add_all(facts)
        for child, scope in self.children.items():
            counted = [f for f in facts if _counts_for(f, child)]
            if scope is None:
                if len(counted) < len(facts):  # no longer every signal: a scope of its own
                    self.children[child] = self._scope_of(child)
            else:
                scope.add_all(f for f in counted if f.signal_id not in scope.facts)
        for fact in facts:
            for child in fact.children:
                self._naming[child] += 1
                if child not in self.children:
                    self.children[child] = self._scope_of(child)

    def remove(self, signal_id: str) -> None:
        fact = self.household.facts[signal_id]
        self._household.remove(signal_id)
        self.removed.add(signal_id)
        for child, scope in list(self.children.items()):
            if child in fact.children:
                self._naming[child] -= 1
                if not self._naming[child]:
                    del self._naming[child], self.children[child]
                    continue
            if scope is not None and signal_id in scope.facts:
                scope.remove(signal_id)

    def replace(self, fact: SignalFact) -> None:
        """A corrected signal: its old values leave every scope, the new ones enter."""
        self.remove(fact.signal_id)
        self.add(fact)

    def scores(self, moment: datetime) -> Scores:
        score = self.household.score_at(moment)
        child_scores = {
            child: _in_cents(score if scope is None else scope.score_at(moment))
            for child, scope in sorted(self.children.items())
        }
        return Scores(_in_cents(score), child_scores, self.household.named > 0)

    def take_changes(self) -> tuple[set[str], set[str]]:
        """The household's signals whose factors changed, and those removed, since last asked."""
        changed, self.household.dirty = self.household.dirty, set()
        removed, self.removed = self.removed - set(self.household.facts), set()
        return changed - removed, removed


def _counts_for(fact: SignalFact, child: str) -> bool:
    """Whether a child's score counts the signal: it names the child, or no child."""
    return child in fact.children or not fact.children


def _in_cents(total: int) -> Decimal:
    return Decimal(total).scaleb(-2)
