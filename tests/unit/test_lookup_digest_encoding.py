"""The lookup digests keep their stored form: the fast base32 gives exactly what
`base64.b32encode` gave, so rows written before are still found."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from privacy.lookup_digests import LookupDigests, _base32


@given(st.binary(min_size=20, max_size=20))
def test_the_fast_base32_equals_the_standard_one(twenty: bytes) -> None:
    assert _base32(twenty) == base64.b32encode(twenty).decode().lower()


def test_a_digest_is_the_one_stored_before() -> None:
    digests = LookupDigests(bytes(range(32)))
    # computed with the base64.b32encode version (main before issue 15's ingest work)
    assert digests.household("hh.k1.abc") == _reference(bytes(range(32)), "household|hh.k1.abc")


def test_digests_made_at_once_in_many_threads_are_the_stored_ones() -> None:
    """One keyed HMAC object is copied for every digest: threads sharing it get the same."""
    from concurrent.futures import ThreadPoolExecutor

    digests = LookupDigests(bytes(range(32)))
    values = [f"hh.k1.{n:032x}" for n in range(3000)]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(digests.household, values))
    assert found == [_reference(bytes(range(32)), f"household|{v}") for v in values]


def _reference(key: bytes, message: str) -> str:
    import hashlib
    import hmac

    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.b32encode(mac[:20]).decode().lower()
