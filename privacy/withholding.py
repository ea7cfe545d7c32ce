"""The one rule for what a purpose learns about the signals it may not see.

Every view of signals (a timeline, a person's view, a worklist alert, a household's risk, the
audit replay's purpose view) splits a household's signals here, once, into three parts:

- `shown`: the purpose sees them (their sector is one of its sectors, they are inside its
  look-back window) and nothing restricts them;
- `beyond`: outside the purpose; the purpose register's `withheld` rule says what the view may
  tell of them: `nothing` (as if they did not exist), `count` (how many) or `weight` (how many,
  and their points in the score as one line). Never their sector, type, date, organisation or id;
- `restricted`: recorded at a household, or naming a person, whose processing is restricted
  (AVG art. 18): withheld as a restriction always was (counted in lists and timelines, their
  points in the explanation's withheld line), whatever the rule.

The score a purpose is shown is the score of `weighed` (shown + restricted, + beyond under
`weight`), its explanation the lines of `shown` alone, and the withheld line the difference: so
with `nothing` or `count` the score is that of the household without the signals beyond it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from privacy.disclosure import shows
from privacy.policy import Obligations
from privacy.purposes import WithheldRule

T = TypeVar("T")


@dataclass(frozen=True)
class Withholding(Generic[T]):
    """A household's signals split for one purpose (see the module docstring)."""

    rule: WithheldRule
    shown: list[T]
    beyond: list[T]
    restricted: list[T]

    @property
    def count(self) -> int | None:
        """How many signals beyond the purpose a view may say there are; None: say nothing
        (the rule is `nothing`, or there are none)."""
        if self.rule is WithheldRule.NOTHING or not self.beyond:
            return None
        return len(self.beyond)

    @property
    def weighed(self) -> list[T]:
        """The signals whose points the score shown to the purpose adds up."""
        extra = self.beyond if self.rule is WithheldRule.WEIGHT else []
        return [*self.shown, *self.restricted, *extra]

    @property
    def hides_existence(self) -> bool:
        """Whether something raised by signals beyond the purpose alone (an alert, a breach)
        must be left out: under `nothing` and `count` no view may show more of them than the
        count."""
        return self.rule is not WithheldRule.WEIGHT


def withhold(
    obligations: Obligations,
    signals: Iterable[T],
    restricted: Callable[[T], bool] = lambda _signal: False,
    record: Callable[[T], Mapping[str, Any]] = lambda signal: signal,  # type: ignore[assignment,return-value]
) -> Withholding[T]:
    """Splits the signals for the obligations; `record` gives a signal's `sector` and
    `occurred_at`, `restricted` whether a restriction withholds it (checked first: a
    restricted signal is withheld as such, whatever its sector)."""
    shown: list[T] = []
    beyond: list[T] = []
    held: list[T] = []
    for signal in signals:
        if restricted(signal):
            held.append(signal)
        elif shows(obligations, record(signal)):
            shown.append(signal)
        else:
            beyond.append(signal)
    return Withholding(obligations.withheld, shown, beyond, held)
