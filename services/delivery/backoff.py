"""When to try a failing webhook again, and when to give an item up.

Exponential backoff with full jitter (a random wait up to the base doubled per failure, at most
the cap, at least half the base so that a failing receiver is never hammered): receivers that
all went down together are not hit together when they come back.
An item is given up (dead-lettered) after `max_attempts` failures, or when it has been failing
for `max_age` however few attempts that made (a long cap can make few attempts in a day).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_EXPONENT = 32
"""2**32 base waits is past any cap: the doubling stops there instead of growing the float."""


@dataclass(frozen=True)
class Backoff:
    base_seconds: float
    cap_seconds: float
    max_attempts: int
    max_age: timedelta
    jitter: Callable[[], float] = random.random  # in [0, 1)

    def wait(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failure in a row (1: the first)."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** min(failures - 1, MAX_EXPONENT))
        return timedelta(seconds=max(self.base_seconds / 2, ceiling * self.jitter()))

    def gives_up(self, failures: int, first_failed_at: datetime | None, now: datetime) -> bool:
        """Whether the item is dead after `failures` failures in a row, the first at
        `first_failed_at` (None: this was the first)."""
        too_old = first_failed_at is not None and now - first_failed_at >= self.max_age
        return failures >= self.max_attempts or too_old
