"""Incremental scoring: the household's score and its children's kept up to date batch by
batch, equal to the cent to the full assessment (radar.risk.assess; model 2: assess_v2).

A new (or withdrawn) signal changes the factors only of the signals whose windows it falls in;
decay changes every signal's points, but a signal's points (rounded to 0.01) change only when
its decayed value crosses a half cent, a moment that can be computed beforehand. So each scope
(the household, and each child: the signals naming it or no child) keeps every signal's factors,
its points at the last moment and a queue of the moments its points next change: the work per
signal is the signals near it plus the points that actually changed, not the whole history.
Pure and in memory: the household rebuilds it from its facts when loaded.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from radar.model_1_factors import _SEVERITY_RANK, _decay
from radar.risk import CENT, Factors, SignalFact
from radar.risk_model_v2 import AnyRiskModel, RiskModelV2
from radar.scoring_terms import Terms
from radar.scoring_v2 import LAST as _LAST
from radar.scoring_v2 import Model2Factors

_SAFE_FRACTION = 1e-6  # float cents this close to a half cent are rounded in Decimal
_SAFE_SCALED = 1e9
_SLACK = timedelta(seconds=1)  # re-check a point this long before its computed change
_SLACK_RELATIVE = 1e-6


def cents(product: float) -> int:
    """`Decimal(product).quantize(CENT, ROUND_HALF_UP)` in whole cents, in floats when the
    float cannot be on the wrong side of a half cent (an error of at most 1e-7 cent here)."""
    scaled = product * 100.0
    whole = math.floor(scaled)
    fraction = scaled - whole
    if abs(fraction - 0.5) < _SAFE_FRACTION or scaled > _SAFE_SCALED:
        return int(Decimal(product).quantize(CENT, rounding=ROUND_HALF_UP).scaleb(2))
    return int(whole) + (fraction > 0.5)


class Scope:
    """The signals one score counts, their factors and their points at the last moment."""

    def __init__(
        self,
        model: AnyRiskModel,
        facts: Iterable[SignalFact] = (),
        terms: Terms | None = None,  # the model's, when the caller has them
    ) -> None:
        self.model = model
        self.terms = Terms.of(model) if terms is None else terms
        self._concerning = self.terms.concerning
        self._escalation_window = timedelta(days=model.escalation.window_days)
        self.keys: list[tuple[datetime, str]] = []  # (occurred_at, signal_id), ascending
        self._sector_list: list[str] = []  # the sector and severity rank of each key
        self._rank_list: list[int] = []
        self.facts: dict[str, SignalFact] = {}
        self.factors: dict[str, Factors] = {}
        self.sectors: dict[str, Counter[str]] = {}  # sectors in each signal's window
        # others in each signal's repetition window; counted on only while below the maximum
        self.others: dict[str, int] = {}
        self.repeating: set[str] = set()
        self.unescalated: dict[int, set[str]] = {}  # by severity rank
        self.named = 0  # signals naming a child or concerning children by type
        self.dirty: set[str] = set()  # factors changed since taken
        self.as_of: datetime | None = None
        self.points: dict[str, int] = {}  # cents at as_of
        self.total = 0
        self._due: dict[str, datetime] = {}
        self._queue: list[tuple[datetime, str]] = []
        # model 2's own factors (radar.risk_v2), None under model 1
        self.v2 = Model2Factors(model) if isinstance(model, RiskModelV2) else None
        self._build(sorted(facts, key=lambda f: (f.occurred_at, f.signal_id)))

    def __len__(self) -> int:
        return len(self.facts)

    # --- changes of the signals ----------------------------------------------------------------

    def _build(self, ordered: Sequence[SignalFact]) -> None:
        """An empty scope's signals (in key order) in one pass: each window is counted once
        from the sorted moments, each signal's factors worked out once. The same state as
        adding them one by one (the windows are symmetric), in a fraction of the work."""
        model, names = self.model, self._names_children
        self.keys = [(f.occurred_at, f.signal_id) for f in ordered]
        self._sector_list = [f.sector for f in ordered]
        self._rank_list = [_SEVERITY_RANK[f.severity] for f in ordered]
        self.facts = {f.signal_id: f for f in ordered}
        self.named = sum(1 for f in ordered if names(f))
        times = [f.occurred_at for f in ordered]
        if self.v2 is not None:
            for fact in ordered:
                self.v2.add(fact)
        convergence = timedelta(days=model.convergence.window_days)
        repetition = timedelta(days=model.repetition.window_days)
        for fact in ordered:
            moment = fact.occurred_at
            low = bisect_left(times, moment - convergence)
            high = bisect_right(times, moment + convergence, low)
            self.sectors[fact.signal_id] = Counter(self._sector_list[low:high])
            low = bisect_left(times, moment - repetition)
            high = bisect_right(times, moment + repetition, low)
            self._set_repetition(fact.signal_id, high - low - 1)
            self._set_escalation(fact)
        self._refresh(list(self.facts))

    def add(self, fact: SignalFact) -> None:
        self.add_all((fact,))

    def add_all(self, facts: Iterable[SignalFact]) -> None:
        """Adds the signals, then works out the factors of every signal they touched once
        (not once per signal added: a batch of a busy household touches the same neighbours
        again and again). The factors depend on the set of signals only, not on the order."""
        named_before = self.named > 0
        touched: set[str] = set()
        for fact in facts:
            self._insert(fact, touched)
        if (self.named > 0) != named_before:
            touched |= set(self.facts)
        self._refresh(touched)

    def _insert(self, fact: SignalFact, touched: set[str]) -> None:
        """The signal's place among the others, and the counts it changes; notes in `touched`
        the signals whose factors may have changed."""
        model, signal_id, moment = self.model, fact.signal_id, fact.occurred_at
        index = bisect_left(self.keys, (moment, signal_id))
        self.keys.insert(index, (moment, signal_id))
        self._sector_list.insert(index, fact.sector)
        self._rank_list.insert(index, _SEVERITY_RANK[fact.severity])
        self.facts[signal_id] = fact
        self.named += self._names_children(fact)
        touched.add(signal_id)
        low, high = self._span(moment, model.convergence.window_days)
        window = [key[1] for key in self.keys[low:high]]
        self.sectors[signal_id] = Counter(self._sector_list[low:high])
        for other in window:
            if other != signal_id:
                seen = self.sectors[other]
                seen[fact.sector] += 1
                if seen[fact.sector] == 1:
                    touched.add(other)
        # the neighbours still counting theirs: those in the window (or all, when fewer)
        repeating = self.repeating
        low, high = self._span(moment, model.repetition.window_days)
        if len(repeating) <= high - low:
            reach = timedelta(days=model.repetition.window_days)
            nearby = [o for o in repeating if abs(self.facts[o].occurred_at - moment) <= reach]
        else:
            nearby = [key[1] for key in self.keys[low:high] if key[1] in repeating]
        for other in nearby:
            if other != signal_id:
                self._set_repetition(other, self.others[other] + 1)
                touched.add(other)
        self._count_repetition(signal_id)
        self._set_escalation(fact)
        self._escalate_later(fact, touched)
        if self.v2 is not None:
            touched.update(self.v2.add(fact))

    def _escalate_later(self, fact: SignalFact, touched: set[str]) -> None:
        """A less severe signal escalates the later, more severe ones within its window: those
        waiting for one, looked up among the waiting or in the window, whichever are fewer."""
        moment, rank = fact.occurred_at, _SEVERITY_RANK[fact.severity]
        window = self._escalation_window
        later = bisect_right(self.keys, (moment, _LAST))
        until = bisect_right(self.keys, (moment + window, _LAST), later)
        higher = [w for r, w in self.unescalated.items() if r > rank and w]
        if sum(map(len, higher)) <= until - later:
            for waiting in higher:
                for other in list(waiting):
                    occurred_at = self.facts[other].occurred_at
                    if occurred_at - window <= moment < occurred_at:
                        waiting.discard(other)
                        touched.add(other)
            return
        ranks, unescalated = self._rank_list, self.unescalated
        for index in range(later, until):
            if ranks[index] > rank:
                other = self.keys[index][1]
                found = unescalated.get(ranks[index])
                if found is not None and other in found:
                    found.discard(other)
                    touched.add(other)

    def remove(self, signal_id: str) -> None:
        model = self.model
        fact = self.facts[signal_id]
        moment = fact.occurred_at
        named_before = self.named > 0
        touched: set[str] = set()
        for other in self._around(moment, model.convergence.window_days):
            if other != signal_id:
                seen = self.sectors[other]
                seen[fact.sector] -= 1
                if seen[fact.sector] == 0:
                    del seen[fact.sector]
                    touched.add(other)
        repetition = self._around(moment, model.repetition.window_days)
        escalation_reach = timedelta(days=model.escalation.window_days)
        index = bisect_left(self.keys, (moment, signal_id))
        del self.keys[index], self._sector_list[index], self._rank_list[index]
        del self.facts[signal_id], self.sectors[signal_id], self.factors[signal_id]
        del self.others[signal_id]
        self.repeating.discard(signal_id)
        self._unescalated(fact).discard(signal_id)
        self.named -= self._names_children(fact)
        self.total -= self.points.pop(signal_id, 0)
        self._due.pop(signal_id, None)
        self.dirty.discard(signal_id)
        if self.v2 is not None:
            touched.update(self.v2.remove(fact))
        for other in repetition:
            if other != signal_id:
                self._count_repetition(other)
                touched.add(other)
        for other, later in self.facts.items():
            if moment < later.occurred_at <= moment + escalation_reach:
                self._set_escalation(later)
                touched.add(other)
        if (self.named > 0) != named_before:
            touched |= set(self.facts)
        self._refresh(touched)

    def _around(self, moment: datetime, days: float) -> list[str]:
        """The signals within +/- `days` of the moment (the reference's window)."""
        low, high = self._span(moment, days)
        return [key[1] for key in self.keys[low:high]]

    def _span(self, moment: datetime, days: float) -> tuple[int, int]:
        window = timedelta(days=days)
        low = bisect_left(self.keys, (moment - window,))
        return low, bisect_right(self.keys, (moment + window, _LAST), low)

    def _count_repetition(self, signal_id: str) -> None:
        fact = self.facts[signal_id]
        low, high = self._span(fact.occurred_at, self.model.repetition.window_days)
        others = high - low - 1
        self._set_repetition(signal_id, others)

    def _set_repetition(self, signal_id: str, others: int) -> None:
        """Keeps counting a signal's neighbours only while another one would raise its factor
        (past the maximum a count too low is the same factor: a removal counts again)."""
        rules = self.model.repetition
        self.others[signal_id] = others
        bonus = rules.bonus_per_other_signal
        if bonus == 0 or 1 + bonus * others >= rules.max_factor:
            self.repeating.discard(signal_id)
        else:
            self.repeating.add(signal_id)

    def _unescalated(self, fact: SignalFact) -> set[str]:
        rank = _SEVERITY_RANK[fact.severity]
        waiting = self.unescalated.get(rank)
        if waiting is None:
            waiting = self.unescalated[rank] = set()
        return waiting

    def _set_escalation(self, fact: SignalFact) -> None:
        if self._escalates(fact):
            self._unescalated(fact).discard(fact.signal_id)
        else:
            self._unescalated(fact).add(fact.signal_id)

    def _escalates(self, fact: SignalFact) -> bool:
        window = timedelta(days=self.model.escalation.window_days)
        low = bisect_left(self.keys, (fact.occurred_at - window,))
        high = bisect_left(self.keys, (fact.occurred_at,))
        return low < high and min(self._rank_list[low:high]) < _SEVERITY_RANK[fact.severity]

    def _names_children(self, fact: SignalFact) -> bool:
        return bool(fact.children) or fact.signal_type in self._concerning

    def _refresh(self, touched: Iterable[str]) -> None:
        for signal_id in touched:
            factors = self._factors(signal_id)
            if self.factors.get(signal_id) != factors:
                self.factors[signal_id] = factors
                self.dirty.add(signal_id)
                if self.as_of is not None:
                    self._rescore(signal_id, self.as_of)

    def _factors(self, signal_id: str) -> Factors:
        model, fact = self.model, self.facts[signal_id]
        weight, half_life_days = self.terms.weights[fact.signal_type, fact.severity]
        sectors = len(self.sectors[signal_id])
        convergence = min(
            1 + model.convergence.bonus_per_extra_sector * (sectors - 1),
            model.convergence.max_factor,
        )
        repetition = min(
            1 + model.repetition.bonus_per_other_signal * self.others[signal_id],
            model.repetition.max_factor,
        )
        escalated = signal_id not in self._unescalated(fact)
        escalation = model.escalation.factor if escalated else 1.0
        if self._names_children(fact):
            children = model.children.named_factor
        elif self.named:
            children = model.children.in_household_factor
        else:
            children = 1.0
        factors = Factors(
            signal_id=signal_id,
            signal_type=fact.signal_type,
            sector=fact.sector,
            severity=fact.severity,
            occurred_at=fact.occurred_at,
            weight=weight,
            half_life_days=half_life_days,
            convergence=convergence,
            repetition=repetition,
            escalation=escalation,
            children=children,
            sectors_nearby=sectors,
        )
        if self.v2 is not None:
            factors = replace(factors, form=self.v2.form(fact), partner=self.v2.partner(fact))
        return factors

    # --- the moment ------------------------------------------------------------------------------

    def score_at(self, moment: datetime) -> int:
        """The score in cents at `moment`; re-rounds only the points that changed since."""
        if self.as_of is None or moment < self.as_of:
            self.as_of = moment
            self._queue, self._due = [], {}
            for signal_id in self.facts:
                self._rescore(signal_id, moment)
            return self.total
        self.as_of = moment
        while self._queue and self._queue[0][0] <= moment:
            due, signal_id = heapq.heappop(self._queue)
            if self._due.get(signal_id) == due:
                self._rescore(signal_id, moment)
        return self.total

    def _rescore(self, signal_id: str, moment: datetime) -> None:
        factors = self.factors[signal_id]
        now = cents(factors.product(_decay(factors.occurred_at, moment, factors.half_life_days)))
        self.total += now - self.points.get(signal_id, 0)
        self.points[signal_id] = now
        self._schedule(signal_id, factors, now, moment)

    def _schedule(self, signal_id: str, factors: Factors, now: int, moment: datetime) -> None:
        """When the points may next drop below `now` cents (a little early: then re-checked)."""
        self._due.pop(signal_id, None)
        if now <= 0:
            return  # nothing to lose until the factors change
        fresh = factors.product(1.0)
        boundary = (now - 0.5) / 100
        age = 0.0 if fresh <= boundary else factors.half_life_days * math.log2(fresh / boundary)
        try:
            reach = timedelta(days=age)
            due = factors.occurred_at + reach - _SLACK - reach * _SLACK_RELATIVE
        except OverflowError:
            return  # later than any moment a score can have
        due = max(due, moment + timedelta(microseconds=1))
        self._due[signal_id] = due
        heapq.heappush(self._queue, (due, signal_id))
        if len(self._queue) > 2 * len(self._due) + 64:  # drop what re-scheduling left behind
            self._queue = [(when, key) for key, when in self._due.items()]
            heapq.heapify(self._queue)
