"""Model 2's own factors kept incrementally in a scope (radar.scoring's Scope), with the
arithmetic of radar.risk_v2: a signal's form factor is its own (its forms and its persons'
ages), so it is worked out once; partner violence repeated is window-bounded like model 1's
repetition: a partner incident changes the factor only of the partner incidents from its moment
to window_days after it. So the work per signal stays the signals near it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from radar.risk import SignalFact
from radar.risk_model_v2 import RiskModelV2
from radar.risk_v2 import SignalFactV2

LAST = "\U0010ffff"  # after every signal id: (moment, LAST) follows each key at `moment`


class Model2Factors:
    """A scope's form factors (those not 1) and its partner incidents in key order."""

    def __init__(self, model: RiskModelV2) -> None:
        self.model = model
        self._reach = timedelta(days=model.partner_violence.window_days)
        self._forms: dict[str, float] = {}
        self._partners: list[tuple[datetime, str]] = []  # (occurred_at, signal_id), ascending

    def add(self, fact: SignalFact) -> list[str]:
        """Notes a signal; returns the partner incidents whose factor it may change."""
        facts = SignalFactV2.from_fact(fact)
        form = facts.form_factor(self.model)
        if form != 1.0:
            self._forms[fact.signal_id] = form
        if not facts.is_partner_incident(self.model):
            return []
        key = (fact.occurred_at, fact.signal_id)
        self._partners.insert(bisect_left(self._partners, key), key)
        return self._after(fact.occurred_at)

    def remove(self, fact: SignalFact) -> list[str]:
        """Forgets a signal; returns the partner incidents whose factor it may change."""
        self._forms.pop(fact.signal_id, None)
        key = (fact.occurred_at, fact.signal_id)
        index = bisect_left(self._partners, key)
        if self._partners[index : index + 1] != [key]:
            return []
        del self._partners[index]
        return self._after(fact.occurred_at)

    def form(self, fact: SignalFact) -> float:
        return self._forms.get(fact.signal_id, 1.0)

    def partner(self, fact: SignalFact) -> float:
        """From the `incidents`-th partner incident within window_days up to its moment (its
        own and those at the same moment included, as radar.risk_v2 counts), `factor`."""
        keys, rule = self._partners, self.model.partner_violence
        key = (fact.occurred_at, fact.signal_id)
        index = bisect_left(keys, key)
        if keys[index : index + 1] != [key]:
            return 1.0
        low = bisect_left(keys, (fact.occurred_at - self._reach,))
        within = bisect_right(keys, (fact.occurred_at, LAST), index) - low
        return rule.factor if within >= rule.incidents else 1.0

    def partner_incidents(self, since: datetime) -> int:
        """How many partner incidents occurred at `since` or later."""
        return len(self._partners) - bisect_left(self._partners, (since,))

    def _after(self, moment: datetime) -> list[str]:
        keys = self._partners
        low = bisect_left(keys, (moment,))
        return [key[1] for key in keys[low : bisect_right(keys, (moment + self._reach, LAST), low)]]
