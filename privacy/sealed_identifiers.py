"""Sealed identifiers: a BSN or address encrypted by the publisher to the radar's public key, so
that nothing between the publisher and the ingest service (proxies, TLS-terminating load
balancers, request logs) ever sees it in clear.

The scheme is HPKE (RFC 9180, base mode) with DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
AES-256-GCM, from `cryptography`. Each value is bound to its context through HPKE's `info`
(the single-shot form of associated data, RFC 9180 section 8.1): the format version, the
radar key id, the signal's event id and the field path. A sealed value copied into another
field, another signal or relabelled with another key id does not open.

A sealed value travels in JSON as

    {"version": 1, "key_id": "<16 hex>", "ephemeral_key": "<base64url>", "ciphertext": "<b64url>"}

where `ephemeral_key` is the sender's one-time X25519 public key (HPKE's `enc`) and
`ciphertext` the AES-256-GCM output with its tag. There is no nonce field: HPKE derives the
nonce from the key schedule, and every value gets a fresh ephemeral key.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from privacy.identifier_keys import IdentifierKey, IdentifierKeyring

FORMAT_VERSION = 1
KEM_NAME = "DHKEM(X25519, HKDF-SHA256)"
KDF_NAME = "HKDF-SHA256"
AEAD_NAME = "AES-256-GCM"
CONTEXT_LABEL = "signal-radar/sealed-identifier"
_SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)
_X25519_KEY_BYTES = 32

KeyId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
Base64Url = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", max_length=1024)]


class SealedValue(BaseModel):
    """One identifier encrypted to the radar's public key (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(description="Format version of the sealed value.")
    key_id: KeyId = Field(description="Id of the radar public key it was sealed to.")
    ephemeral_key: Base64Url = Field(description="Sender's one-time X25519 public key (HPKE enc).")
    ciphertext: Base64Url = Field(description="AES-256-GCM ciphertext with its tag.")


class PublishedKey(BaseModel):
    """What publishers fetch to seal identifiers: the radar's current public key."""

    model_config = ConfigDict(frozen=True)

    key_id: KeyId
    public_key: Base64Url = Field(description="Raw 32-byte X25519 public key, base64url.")
    format_version: int = FORMAT_VERSION
    kem: str = KEM_NAME
    kdf: str = KDF_NAME
    aead: str = AEAD_NAME
    context: str = Field(
        default=f"{CONTEXT_LABEL}|v<format_version>|<key_id>|<event_id>|<field path>",
        description="The HPKE info each value is sealed with (UTF-8); event_id in lower-case "
        "hyphenated form, field path e.g. persons.0.bsn or household.address.",
    )

    @classmethod
    def of(cls, key: IdentifierKey) -> PublishedKey:
        return cls(key_id=key.key_id, public_key=_encode(key.public_bytes()))

    def x25519(self) -> X25519PublicKey:
        """The public key itself; ValueError when it is not a 32-byte X25519 key."""
        return X25519PublicKey.from_public_bytes(_decode(self.public_key))


@dataclass(frozen=True)
class SealingContext:
    """Where a sealed value belongs: one field of one signal."""

    event_id: str
    field: str

    def info(self, key_id: str) -> bytes:
        """The HPKE info that binds the value to its format, key, signal and field."""
        return f"{CONTEXT_LABEL}|v{FORMAT_VERSION}|{key_id}|{self.event_id}|{self.field}".encode()


class UnopenableError(ValueError):
    """A sealed value the radar cannot open; the reason never contains the value."""


def seal(plaintext: str, recipient: PublishedKey, context: SealingContext) -> SealedValue:
    """Encrypts one identifier to the radar's published key, for one field of one signal."""
    sealed = _SUITE.encrypt(
        plaintext.encode("utf-8"), recipient.x25519(), info=context.info(recipient.key_id)
    )
    encapsulated, ciphertext = sealed[:_X25519_KEY_BYTES], sealed[_X25519_KEY_BYTES:]
    return SealedValue(
        version=FORMAT_VERSION,
        key_id=recipient.key_id,
        ephemeral_key=_encode(encapsulated),
        ciphertext=_encode(ciphertext),
    )


def open_sealed(sealed: SealedValue, keyring: IdentifierKeyring, context: SealingContext) -> str:
    """The identifier inside a sealed value, or UnopenableError saying why not."""
    key = keyring.key(sealed.key_id)
    if key is None:
        raise UnopenableError("sealed to a key the radar does not have (unknown key_id)")
    try:
        encapsulated = _decode(sealed.ephemeral_key)
        ciphertext = _decode(sealed.ciphertext)
    except (binascii.Error, ValueError) as error:
        raise UnopenableError("not base64url") from error
    if len(encapsulated) != _X25519_KEY_BYTES:
        raise UnopenableError("ephemeral_key is not a 32-byte X25519 key")
    try:
        plaintext = _SUITE.decrypt(
            encapsulated + ciphertext, key.private_key, info=context.info(sealed.key_id)
        )
        return plaintext.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as error:
        raise UnopenableError(
            "cannot be opened: altered, or sealed for another field, signal or key"
        ) from error


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
