"""The pure rules of webhook delivery: which receiver URLs a registration may have, how long a
failing webhook waits and when an item is given up, and what a receiver's check of a signature
accepts (services/delivery/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from services.delivery.backoff import Backoff
from services.delivery.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    ed25519_signature,
    hmac_signature,
    verify,
)
from services.delivery.urls import checked_url
from services.errors import Refusal

SECRET = b"s" * 32
NOW = 1_800_000_000


@pytest.mark.parametrize(
    "url",
    [
        "https://hwc.example.org/radar",
        "https://10.1.2.3:8443/in",  # an organisation's own network
        "https://[2001:db8::1]/in",
    ],
)
def test_an_https_receiver_elsewhere_is_taken(url: str) -> None:
    assert checked_url(url, allow_loopback=False) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hwc.example.org/radar", "https"),
        ("ftp://hwc.example.org/radar", "https"),
        ("https://127.0.0.1:8443/radar", "RADAR_WEBHOOKS_ALLOW_LOOPBACK"),
        ("https://localhost/radar", "RADAR_WEBHOOKS_ALLOW_LOOPBACK"),
        ("https://[::1]/radar", "RADAR_WEBHOOKS_ALLOW_LOOPBACK"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://0.0.0.0/x", "unspecified"),
        ("https://me:pw@hwc.example.org/x", "password"),
        ("https://hwc.example.org/x#frag", "fragment"),
        ("https:///x", "host"),
        ("https://hwc.example.org/a\x00b", "printable"),
        ("https://hwc.example.org/ä", "ASCII"),
        ("https://hwc.example.org:99999/x", "not a URL"),
        ("https://hwc.example.org/" + "x" * 2048, "2048"),
    ],
)
def test_a_receiver_url_is_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(Refusal) as refused:
        checked_url(url, allow_loopback=False)
    [error] = refused.value.errors
    assert error.field == "url" and why in error.reason
    assert "pw" not in error.reason  # the value is never echoed


def test_loopback_is_taken_only_where_the_setting_allows_it() -> None:
    assert checked_url("https://127.0.0.1:8443/x", allow_loopback=True)


@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0, max_value=0.999))
def test_a_wait_never_exceeds_the_cap_and_never_is_nothing(failures: int, draw: float) -> None:
    backoff = Backoff(1.0, 300.0, 10, timedelta(days=1), jitter=lambda: draw)
    wait = backoff.wait(failures).total_seconds()
    assert 0.5 <= wait <= 300.0
    assert wait <= 2 ** (failures - 1) or wait == 0.5


def test_the_ceiling_doubles_until_the_cap() -> None:
    backoff = Backoff(1.0, 60.0, 10, timedelta(days=1), jitter=lambda: 0.999999)
    ceilings = [round(backoff.wait(n).total_seconds()) for n in range(1, 9)]
    assert ceilings == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_item_is_given_up_after_the_attempts_or_the_age() -> None:
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    backoff = Backoff(1.0, 60.0, 3, timedelta(hours=24))
    assert not backoff.gives_up(1, None, now)
    assert not backoff.gives_up(2, now - timedelta(hours=23), now)
    assert backoff.gives_up(3, now - timedelta(minutes=1), now)  # the attempts
    assert backoff.gives_up(2, now - timedelta(hours=24), now)  # the age


def _headers(signature: str, timestamp: int = NOW) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}


def test_a_receiver_accepts_exactly_what_was_signed() -> None:
    body = b'{"id":"x","body":{"status":"recorded"}}'
    key = Ed25519PrivateKey.generate()
    assert verify(_headers(hmac_signature(SECRET, NOW, body)), body, NOW, secret=SECRET)
    ed = _headers(ed25519_signature(key, NOW, body))
    assert verify(ed, body, NOW, public_key=key.public_key())
    assert not verify(ed, body + b" ", NOW, public_key=key.public_key())  # altered body
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify(ed, body, NOW, public_key=other)  # another signer
    signed = _headers(hmac_signature(SECRET, NOW, body))
    assert not verify(signed, body, NOW, secret=b"t" * 32)  # another secret
    assert not verify(signed, body, NOW + 301, secret=SECRET)  # too old: a replay
    moved = _headers(hmac_signature(SECRET, NOW, body), timestamp=NOW + 1)
    assert not verify(moved, body, NOW, secret=SECRET)  # the timestamp is signed too
    assert not verify({}, body, NOW, secret=SECRET)
    assert not verify(_headers("hmac-sha256=%%%"), body, NOW, secret=SECRET)
