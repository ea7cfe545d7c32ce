"""Per-subject data keys and the key-encryption key (KEK) that wraps them.

Each household's identities in the vault are encrypted under the household's own random
AES-256-GCM data key. Data keys are stored only wrapped (encrypted) by a key-encryption key held
outside the database: a key file for development, or anything that implements
`KeyEncryptionKey` (a KMS or HSM). Destroying a data key makes its subject's data unreadable
(crypto-shredding); losing the KEK makes every wrapped data key, and so all vault data,
unreadable. Every wrap and encryption binds a context (what the bytes belong to), so ciphertext
moved to another row does not decrypt.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.keyfiles import locked, replace_secret_file, write_secret_file

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
CIPHER_CACHE_SIZE = 4096  # keys with a ready cipher; an AESGCM object costs ~4 us to make


class UnreadableError(Exception):
    """Ciphertext that does not open: wrong key, wrong context, altered, or its key is gone."""


class CipherCache:
    """One AESGCM object per key, least recently used dropped first, safe across threads.

    Making the cipher object costs as much as sealing a small value with it; events, snapshots
    and read-model rows are sealed under the same few keys over and over. A destroyed key
    must be forgotten here too (`forget`), so no cipher outlives its key's destruction.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._ciphers: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> AESGCM:
        with self._lock:
            cipher = self._ciphers.get(key)
            if cipher is not None:
                self._ciphers.move_to_end(key)
                return cipher
        cipher = AESGCM(key)  # outside the lock: a race makes two, both correct
        with self._lock:
            self._ciphers[key] = cipher
            if len(self._ciphers) > self._size:
                self._ciphers.popitem(last=False)
        return cipher

    def forget(self, keys: Iterable[bytes]) -> None:
        with self._lock:
            for key in keys:
                self._ciphers.pop(key, None)

    def holds(self, key: bytes) -> bool:
        with self._lock:
            return key in self._ciphers

    def clear(self) -> None:
        with self._lock:
            self._ciphers.clear()


CIPHERS = CipherCache(CIPHER_CACHE_SIZE)


def forget_ciphers(keys: Iterable[bytes]) -> None:
    """Drops the cached ciphers of keys being destroyed or forgotten (crypto-shredding)."""
    CIPHERS.forget(keys)


def seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """AES-256-GCM with a fresh random nonce, bound to `context`; returns nonce || ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + CIPHERS.get(key).encrypt(nonce, plaintext, context)


def unseal(key: bytes, sealed: bytes, context: bytes) -> bytes:
    """Opens what `seal` made with the same key and context."""
    try:
        return CIPHERS.get(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except (InvalidTag, ValueError) as error:
        raise UnreadableError("ciphertext does not open with this key and context") from error


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted by a KEK version; only the KEK's holder can unwrap it."""

    kek_id: str
    wrapped: bytes


class KeyEncryptionKey(Protocol):
    """What wraps data keys. A KMS or HSM client implements the same three methods."""

    @property
    def current_id(self) -> str:
        """The KEK version new wraps are made with."""
        ...

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes: ...


class FileKeyEncryptionKey:
    """A versioned KEK in an owner-only JSON file outside the database (development default).

    A rotation adds a version that wraps from then on; older versions stay so existing
    wraps open until they are re-wrapped.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._current, self._keys = self._load()
        self._seen = self._stamp()

    @property
    def current_id(self) -> str:
        self._refresh()
        return self._current

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey:
        """Wraps under the current version as the file says now: a process running through
        a rotation wraps under the new version at once, so the old one can be retired."""
        self._refresh()
        return WrappedKey(self._current, seal(self._keys[self._current], data_key, context))

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        key = self._keys.get(wrapped.kek_id)
        if key is None:
            self._refresh()  # rotated by another process since we read the file
            key = self._keys.get(wrapped.kek_id)
        if key is None:
            raise UnreadableError(f"key-encryption key {wrapped.kek_id} is not available")
        return unseal(key, wrapped.wrapped, context)

    @staticmethod
    def rotate(path: Path) -> str:
        """Adds a KEK version that wraps from now on; returns its id. Existing wraps keep
        opening under their version until re-wrapped (SubjectKeyStore.rewrap)."""
        FileKeyEncryptionKey(path)  # creates the first version when there is none
        with locked(path):
            document = json.loads(path.read_text(encoding="utf-8"))
            number = 1 + max(int(kid.removeprefix("kek")) for kid in document["keys"])
            kek_id = f"kek{number}"
            document["keys"][kek_id] = _encoded(new_data_key())
            document["current"] = kek_id
            replace_secret_file(path, json.dumps(document, indent=2).encode())
        return kek_id

    def retire(self, kek_id: str) -> None:
        """Removes an old KEK version from the file (after every wrap under it was re-wrapped);
        what is still wrapped under it can then never be opened."""
        self._refresh()
        if kek_id == self._current:
            raise ValueError("the current key-encryption key cannot be retired")
        with locked(self._path):
            document = json.loads(self._path.read_text(encoding="utf-8"))
            document["keys"].pop(kek_id, None)
            replace_secret_file(self._path, json.dumps(document, indent=2).encode())
        retired = self._keys.pop(kek_id, None)
        if retired is not None:
            forget_ciphers([retired])

    def _stamp(self) -> tuple[int, int]:
        stat = self._path.stat()
        return stat.st_mtime_ns, stat.st_ino  # a replace makes a new inode

    def _refresh(self) -> None:
        """Rereads the file when it changed (a rotation or a retirement elsewhere)."""
        stamp = self._stamp()
        if stamp != self._seen:
            self._current, self._keys = self._load()
            self._seen = stamp

    def _load(self) -> tuple[str, dict[str, bytes]]:
        with self._lock:
            if not self._path.exists():
                first = {"current": "kek1", "keys": {"kek1": _encoded(new_data_key())}}
                write_secret_file(self._path, json.dumps(first, indent=2).encode())
            document = json.loads(self._path.read_text(encoding="utf-8"))
        keys = {kid: base64.b64decode(value) for kid, value in document["keys"].items()}
        if document["current"] not in keys or any(len(k) != DATA_KEY_BYTES for k in keys.values()):
            raise ValueError(f"key-encryption key file {self._path} is malformed")
        return document["current"], keys


def _encoded(key: bytes) -> str:
    return base64.b64encode(key).decode()
