"""The per-organisation token buckets of ingest (services/signals/rate_limits.py), on a fake
clock: burst, refill, a batch costs its signals, Retry-After in whole seconds, organisations
apart, and one warning per organisation per window."""

from __future__ import annotations

import pytest
import structlog
from pydantic import ValidationError

from services.errors import Refusal, RefusalKind
from services.settings import Settings
from services.signals.rate_limits import CostAboveBurstError, IngestRateLimit, TokenBucket


class FakeClock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def refusal_of(limit: IngestRateLimit, organisation: str, cost: int) -> Refusal:
    with pytest.raises(Refusal) as refused:
        limit.admit(organisation, cost)
    return refused.value


def test_a_quiet_organisation_may_send_its_whole_burst_at_once_and_no_more() -> None:
    bucket = TokenBucket(rate=10, burst=100, updated=0.0)
    assert bucket.take(60, now=0.0) is None
    assert bucket.take(40, now=0.0) is None
    assert bucket.take(1, now=0.0) == 1  # empty: a tenth of a second, rounded up to 1


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    bucket = TokenBucket(rate=10, burst=100, updated=0.0)
    assert bucket.take(100, now=0.0) is None
    assert bucket.take(30, now=2.9) == 1  # 29 tokens after 2.9 s: one short
    assert bucket.take(30, now=3.0) is None  # 30 after 3 s
    assert bucket.take(100, now=1000.0) is None  # refilled to the burst, never beyond
    assert bucket.take(1, now=1000.0) == 1


def test_a_batch_costs_one_token_per_signal_and_is_refused_whole() -> None:
    bucket = TokenBucket(rate=5, burst=50, updated=0.0)
    assert bucket.take(45, now=0.0) is None  # a batch of 45 costs 45, not 1
    assert bucket.take(50, now=0.0) == 9  # 5 left, 45 missing at 5/s: 9 s
    assert bucket.take(5, now=0.0) is None  # the refused batch took nothing
    assert bucket.take(1, now=0.0) == 1


def test_retry_after_is_the_whole_seconds_until_enough_tokens() -> None:
    bucket = TokenBucket(rate=4, burst=40, updated=0.0)
    assert bucket.take(40, now=0.0) is None
    assert bucket.take(10, now=0.0) == 3  # 2.5 s, rounded up
    assert bucket.take(10, now=2.5) is None  # and after 2.5 s it passes indeed


def test_a_cost_above_the_burst_is_a_programming_error_not_a_wait() -> None:
    with pytest.raises(CostAboveBurstError):
        TokenBucket(rate=1, burst=10, updated=0.0).take(11, now=0.0)


def test_a_flooding_organisation_is_refused_while_another_is_untouched() -> None:
    clock = FakeClock()
    limit = IngestRateLimit(rate=10, burst=100, now=clock)
    limit.admit("politie-utrecht", 100)
    refused = refusal_of(limit, "politie-utrecht", 50)
    assert refused.kind == RefusalKind.TOO_MANY_REQUESTS
    assert refused.retry_after_seconds == 5
    assert "rate limit" in refused.reason and "nothing was stored" in refused.reason
    for _ in range(100):
        limit.admit("ggz-centraal", 1)  # its own bucket, still full
    clock.advance(5)
    limit.admit("politie-utrecht", 50)  # Retry-After was right


def test_a_rate_or_burst_of_zero_turns_the_limit_off() -> None:
    for limit in (IngestRateLimit(0, 100), IngestRateLimit(10, 0), IngestRateLimit.off()):
        assert not limit.enabled
        for _ in range(10):
            limit.admit("politie-utrecht", 1_000_000)


def test_one_warning_per_organisation_per_window_naming_no_one() -> None:
    clock = FakeClock()
    limit = IngestRateLimit(rate=0.1, burst=10, now=clock, warning_window_seconds=60)
    limit.admit("politie-utrecht", 10)
    limit.admit("ggz-centraal", 10)
    with structlog.testing.capture_logs() as logs:
        for _ in range(50):
            refusal_of(limit, "politie-utrecht", 10)
        refusal_of(limit, "ggz-centraal", 10)
        clock.advance(59)
        refusal_of(limit, "politie-utrecht", 10)  # 5.9 tokens: refused, still in the window
    assert [(w["log_level"], w["organisation"]) for w in logs] == [
        ("warning", "politie-utrecht"),
        ("warning", "ggz-centraal"),
    ]
    assert logs[0]["suppressed_since_last_warning"] == 0

    with structlog.testing.capture_logs() as logs:
        clock.advance(1)  # the window is over
        refusal_of(limit, "politie-utrecht", 10)
    (warning,) = logs
    assert warning["organisation"] == "politie-utrecht"
    assert warning["suppressed_since_last_warning"] == 50  # 49 in the flood, 1 at 59 s
    assert set(warning) == {  # no subject, client address or signal content
        "event",
        "log_level",
        "organisation",
        "rate_per_second",
        "burst",
        "suppressed_since_last_warning",
    }


def test_a_burst_below_the_batch_limit_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="a full batch could never pass"):
        Settings(ingest_burst_per_organisation=500, max_batch_signals=1000)
    Settings(ingest_burst_per_organisation=0, max_batch_signals=1000)  # off: anything goes
    Settings(ingest_rate_per_organisation=0, ingest_burst_per_organisation=5)
