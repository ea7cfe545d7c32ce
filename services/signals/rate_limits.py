"""Per-organisation rate limits on ingest (issue 22): one publisher's flood cannot starve the
others.

Each publishing organisation (the authenticated Publisher's organisation, never the client
address: many organisations share a proxy or a NAT, and one organisation sends from many hosts)
has a token bucket counted in signals: a batch of 50 costs 50, so batching is no way around the
limit. The bucket holds at most `burst` signals and refills at `rate` signals per second.

A request is charged after authentication and before anything else: validation, deduplication,
the vault and Kafka. Invalid signals and duplicates are charged too, since they cost the ingest
process the same work. A request the bucket cannot pay for in full is refused whole (429 with
Retry-After, nothing published or stored), so a publisher never has to guess which part of a
batch went through; only an admitted request takes tokens.

The buckets live in this process: right for one ingest process. Several ingest processes would
each grant the full rate (see the README, "Rate limits on ingest"). There is one bucket per
organisation that ever sent, kept for the life of the process: organisations come from tokens the
radar signed, so they are few and known.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from services.errors import Refusal, RefusalKind

Clock = Callable[[], float]
"""Monotonic seconds (time.monotonic); tests pass a fake one and need no sleeping."""

WARNING_WINDOW_SECONDS = 60.0
"""At most one warning per organisation in this many seconds: a flood of 429s must not become a
flood of log lines (the request lines already record every answer)."""


class CostAboveBurstError(ValueError):
    """A request costs more than the bucket can ever hold: waiting would never help."""


@dataclass
class TokenBucket:
    """Signals an organisation may send now: at most `burst`, refilled at `rate` per second."""

    rate: float
    burst: int
    updated: float
    tokens: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst <= 0:
            raise ValueError("a token bucket needs a positive rate and burst")
        self.tokens = float(self.burst)  # a publisher that has been quiet may send a burst

    def take(self, cost: int, now: float) -> int | None:
        """Takes `cost` tokens and answers None; or takes nothing and answers the whole seconds
        (at least 1) until the bucket holds `cost`."""
        if cost > self.burst:
            raise CostAboveBurstError(f"a cost of {cost} exceeds the burst of {self.burst}")
        self._refill(now)
        if self.tokens >= cost:
            self.tokens -= cost
            return None
        return max(1, math.ceil((cost - self.tokens) / self.rate))

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)  # a clock never runs back, but be safe
        self.tokens = min(float(self.burst), self.tokens + elapsed * self.rate)
        self.updated = now


@dataclass
class _Warnings:
    """When the organisation's last warning was written and how many refusals since were not."""

    written_at: float
    suppressed: int = 0


class IngestRateLimit:
    """The token buckets of every publishing organisation in this process. Thread-safe: the
    ingest API answers requests on a thread pool."""

    def __init__(
        self,
        rate: float,
        burst: int,
        now: Clock = time.monotonic,
        warning_window_seconds: float = WARNING_WINDOW_SECONDS,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._now = now
        self._window = warning_window_seconds
        self._buckets: dict[str, TokenBucket] = {}
        self._warnings: dict[str, _Warnings] = {}
        self._lock = threading.Lock()

    @classmethod
    def off(cls) -> IngestRateLimit:
        """No limit at all (a rate or burst of 0)."""
        return cls(0, 0)

    @property
    def enabled(self) -> bool:
        return self.rate > 0 and self.burst > 0

    def admit(self, organisation: str, cost: int) -> None:
        """Charges the organisation `cost` signals, or raises the 429 refusal (charging
        nothing) with the whole seconds until it could pay."""
        if not self.enabled or cost <= 0:
            return
        with self._lock:
            now = self._now()
            bucket = self._buckets.get(organisation)
            if bucket is None:
                bucket = self._buckets[organisation] = TokenBucket(self.rate, self.burst, now)
            wait = bucket.take(cost, now)
            if wait is None:
                return
            self._warn(organisation, now)
        raise Refusal(
            RefusalKind.TOO_MANY_REQUESTS,
            f"your organisation's ingest rate limit is reached ({self.rate:g} signals/s, bursts "
            f"of up to {self.burst}): this request of {cost} signal(s) was refused whole and "
            f"nothing was stored; send it again after {wait} s",
            retry_after_seconds=wait,
        )

    def _warn(self, organisation: str, now: float) -> None:
        """One warning per organisation per window, saying how many refusals the previous
        warning stood for; the organisation is named, never a person or a client address."""
        warnings = self._warnings.get(organisation)
        if warnings is not None and now - warnings.written_at < self._window:
            warnings.suppressed += 1
            return
        # looked up at each (rare) warning, not cached at import: a logger cached under one
        # logging configuration would keep writing there after the next configure_logging
        structlog.get_logger("radar.ingest").warning(
            "ingest rate limit reached",
            organisation=organisation,
            rate_per_second=self.rate,
            burst=self.burst,
            suppressed_since_last_warning=0 if warnings is None else warnings.suppressed,
        )
        self._warnings[organisation] = _Warnings(written_at=now)
