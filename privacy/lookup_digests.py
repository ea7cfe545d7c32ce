"""Keyed digests for the columns a lookup needs equality on: a household's or a person's
pseudonym, a signal's id.

A database's pages, its write-ahead log, its replicas and its backups keep old row versions
long after a delete; crypto-shredding only reaches what is encrypted. So no stored column holds
a pseudonym or a signal id as it is: what a query must find by equality is stored as an
HMAC-SHA256 digest under the deployment's lookup key, and what must be shown again is sealed
under the subject's own data key (privacy.storage.sealed_rows). The lookup key lives beside the
key-encryption key, outside the database: a copy of the database, its WAL or a base backup
without the keys directory links a digest to nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from pathlib import Path

from privacy.keyfiles import write_secret_file

LOOKUP_KEY_FILE = "lookup-digest.key"
LOOKUP_KEY_BYTES = 32
DIGEST_BYTES = 20  # 160 bits: no collision among billions of values; 32 characters in base32
HOUSEHOLD = "household"
PERSON = "person"
SIGNAL = "signal"
_PAIRS = [
    a + b for a in "abcdefghijklmnopqrstuvwxyz234567" for b in "abcdefghijklmnopqrstuvwxyz234567"
]
"""Every 10 bits as two lowercase base32 characters: `base64.b32encode` is pure Python in
3.11, and ingest takes eight digests per signal."""
_SHIFTS = tuple(range(150, -10, -10))
FINGERPRINT = "fingerprint"
RECENT_DIGESTS = 16_384  # about 2 MB: several projector batches' households and persons


class LookupDigests:
    """Digests of values under one lookup key; the kind is bound in, so a person's digest
    never equals a household's for the same text."""

    def __init__(self, key: bytes) -> None:
        if len(key) != LOOKUP_KEY_BYTES:
            raise ValueError("a lookup key is 32 bytes")
        # One keyed HMAC object, copied per digest: re-keying for every value costs 3x more.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)
        # A projector batch asks for the same household's digest several times (row key,
        # seal, membership); recent digests are kept, bounded (issue 15: a third of a rebuild).
        self._recent: dict[tuple[str, str], str] = {}

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> LookupDigests:
        """The deployment's lookup key from the keys directory, made on first use (two
        processes starting together agree: the file is created atomically, once)."""
        path = keys_dir / LOOKUP_KEY_FILE
        if not path.exists():
            write_secret_file(path, os.urandom(LOOKUP_KEY_BYTES))
        key = path.read_bytes()
        if len(key) != LOOKUP_KEY_BYTES:
            raise ValueError(f"lookup key file {path} is malformed")
        return cls(key)

    def of(self, kind: str, value: str) -> str:
        """The digest of `value` as a `kind`: 32 lowercase base32 characters."""
        known = self._recent.get((kind, value))
        if known is not None:
            return known
        digest = self.once(kind, value)
        if len(self._recent) >= RECENT_DIGESTS:
            self._recent.clear()  # cheaper than an LRU's bookkeeping on every call
        self._recent[(kind, value)] = digest
        return digest

    def once(self, kind: str, value: str) -> str:
        """`of`, for a value asked for once (a signal's fingerprint): not kept among the
        recent digests, which it would only push out sooner (the cache is cleared when full)."""
        mac = self._keyed.copy()
        mac.update(f"{kind}|{value}".encode())
        return _base32(mac.digest()[:DIGEST_BYTES])

    def household(self, pseudonym: str) -> str:
        return self.of(HOUSEHOLD, pseudonym)

    def person(self, pseudonym: str) -> str:
        return self.of(PERSON, pseudonym)

    def signal(self, signal_id: str) -> str:
        return self.of(SIGNAL, signal_id)

    def households(self, pseudonyms: Sequence[str]) -> list[str]:
        return [self.household(p) for p in pseudonyms]


def _base32(twenty: bytes) -> str:
    """`base64.b32encode(twenty).decode().lower()` for 20 bytes (no padding), in a tenth of
    the time."""
    bits = int.from_bytes(twenty, "big")
    return "".join([_PAIRS[bits >> shift & 0x3FF] for shift in _SHIFTS])
