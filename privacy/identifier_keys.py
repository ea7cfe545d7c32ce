"""The radar's key pairs for sealed identifiers: publishers encrypt BSNs and addresses to the
newest public key; only the ingest service, inside the trust boundary, holds the private keys.

X25519 keys are created on first use in the keys directory (owner-only files, never in git).
A rotation adds a key that seals from then on; older private keys stay, so a publisher still
holding the previous public key is not refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from privacy.keyfiles import new_key_path, public_key_id, versioned_key_files, write_private_key

_KEY_PREFIX = "identifier-sealing"


@dataclass(frozen=True)
class IdentifierKey:
    """One X25519 key pair, named by the id publishers put in their sealed values."""

    key_id: str
    private_key: X25519PrivateKey

    @property
    def public_key(self) -> X25519PublicKey:
        return self.private_key.public_key()

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key, as publishers receive it."""
        return self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


class IdentifierKeyring:
    """Every identifier key the radar ever made; the newest is the one publishers seal to."""

    def __init__(self, keys: Sequence[IdentifierKey]) -> None:
        if not keys:
            raise ValueError("an identifier keyring needs at least one key")
        self._keys = list(keys)
        self._by_id = {key.key_id: key for key in keys}

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> IdentifierKeyring:
        """The keys in the directory, oldest first; creates the first one when there is none."""
        keys = []
        for path in versioned_key_files(keys_dir, _KEY_PREFIX, _create_key):
            private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private_key, X25519PrivateKey):
                raise ValueError(f"{path} is not an X25519 key")
            keys.append(IdentifierKey(public_key_id(private_key.public_key()), private_key))
        return cls(keys)

    @staticmethod
    def rotate(keys_dir: Path) -> str:
        """Adds a new key that publishers seal to from now on; returns its key id."""
        return _create_key(new_key_path(keys_dir, _KEY_PREFIX))

    @property
    def current(self) -> IdentifierKey:
        return self._keys[-1]

    def key(self, key_id: str) -> IdentifierKey | None:
        """The key with this id, current or retired; None when the radar never made it."""
        return self._by_id.get(key_id)


def _create_key(path: Path) -> str:
    private_key = X25519PrivateKey.generate()
    write_private_key(path, private_key)
    return public_key_id(private_key.public_key())
