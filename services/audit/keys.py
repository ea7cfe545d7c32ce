"""The Ed25519 key that signs event-store checkpoints.

Generated on first use under the keys directory, readable by its owner only. Auditors keep a
copy of the public key elsewhere (`radar audit public-key`), so a checkpoint signed by anyone
else is rejected even if the key file on this machine were replaced.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privacy.keyfiles import write_secret_file


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short id derived from the public key itself."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The checkpoint signing key; two processes starting at once make one key."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (path.parent / ".audit-key.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            write_secret_file(path, pem)
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return private_key


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM (as printed by `radar audit public-key`)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def sign(private_key: Ed25519PrivateKey, body: bytes) -> str:
    return base64.b64encode(private_key.sign(body)).decode()


def signature_valid(public_key: Ed25519PublicKey, body: bytes, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), body)
    except (InvalidSignature, ValueError):
        return False
    return True
