"""The cipher cache behind privacy.key_encryption.seal/unseal: bounded (least recently used out
first), safe from many threads, and what it forgets is made again only from the key."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from privacy.key_encryption import CipherCache, UnreadableError, new_data_key, seal, unseal


def test_the_least_recently_used_cipher_goes_first() -> None:
    cache = CipherCache(2)
    first, second, third = new_data_key(), new_data_key(), new_data_key()
    cache.get(first)
    cache.get(second)
    cache.get(first)  # used again: now the second is the oldest
    cache.get(third)
    assert cache.holds(first) and cache.holds(third) and not cache.holds(second)


def test_many_threads_seal_and_open_with_shared_ciphers() -> None:
    keys = [new_data_key() for _ in range(8)]

    def round_trip(n: int) -> bool:
        key = keys[n % len(keys)]
        plain = os.urandom(64)
        return unseal(key, seal(key, plain, b"ctx"), b"ctx") == plain

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(round_trip, range(2000)))


def test_a_wrong_key_still_does_not_open() -> None:
    sealed = seal(new_data_key(), b"secret", b"ctx")
    with pytest.raises(UnreadableError):
        unseal(new_data_key(), sealed, b"ctx")
    with pytest.raises(UnreadableError):
        unseal(b"short", sealed, b"ctx")
