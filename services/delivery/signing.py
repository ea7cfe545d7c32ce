"""How a delivery is signed, and how a receiver checks it.

Each POST carries `Radar-Timestamp` (Unix seconds) and `Radar-Signature` over
`timestamp + "." + body`: `hmac-sha256=<base64>` with the webhook's shared secret, or
`ed25519=<base64>` with the radar's webhook signing key (`radar webhooks public-key` prints
its public half). The timestamp is signed so that a receiver can refuse an old delivery
replayed by someone who recorded it (`MAX_SKEW_SECONDS`); the body is signed as sent, bytes
and all, so a receiver verifies before it parses.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.audit.keys import load_or_create_signing_key

SIGNATURE_HEADER = "Radar-Signature"
TIMESTAMP_HEADER = "Radar-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"  # the item's id: the same in every delivery of it
KIND_HEADER = "Radar-Feed"
MAX_SKEW_SECONDS = 300
"""How far a receiver should let the timestamp be from its own clock (five minutes)."""
WEBHOOK_KEY_FILE = "webhook-signing-key.pem"
"""Its own key, apart from the checkpoint key: a receiver's trust in webhooks is not a trust
in audit checkpoints, and either key can be replaced without the other."""


class Signing(StrEnum):
    HMAC = "hmac-sha256"  # a secret shared with the receiver
    ED25519 = "ed25519"  # the radar's webhook signing key


def signed_message(timestamp: int, body: bytes) -> bytes:
    return str(timestamp).encode() + b"." + body


def hmac_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    mac = hmac.HMAC(secret, hashes.SHA256())
    mac.update(signed_message(timestamp, body))
    return f"{Signing.HMAC}={base64.b64encode(mac.finalize()).decode()}"


def ed25519_signature(key: Ed25519PrivateKey, timestamp: int, body: bytes) -> str:
    raw = key.sign(signed_message(timestamp, body))
    return f"{Signing.ED25519}={base64.b64encode(raw).decode()}"


def webhook_signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The radar's webhook signing key, made on first use (owner-only file)."""
    return load_or_create_signing_key(keys_dir / WEBHOOK_KEY_FILE)


def verify(
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    secret: bytes | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> bool:
    """What a receiver does (tests/support/webhook_receiver.py does exactly this): the
    signature over timestamp and body, with the secret or the public key, and a fresh timestamp."""
    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        timestamp = int(lowered[TIMESTAMP_HEADER.lower()])
        scheme, _, encoded = lowered[SIGNATURE_HEADER.lower()].partition("=")
        signature = base64.b64decode(encoded, validate=True)
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        return False
    message = signed_message(timestamp, body)
    if scheme == Signing.HMAC and secret is not None:
        expected = hmac.HMAC(secret, hashes.SHA256())
        expected.update(message)
        return constant_time.bytes_eq(expected.finalize(), signature)
    if scheme == Signing.ED25519 and public_key is not None:
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True
    return False
