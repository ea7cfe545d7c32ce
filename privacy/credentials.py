"""Credentials as standard JWTs signed with Ed25519 (EdDSA).

Asymmetric keys mean the services that verify tokens hold no secret that could mint one. Every
token names its key (kid), audience, issuer, expiry and a unique id (jti). Signing keys are
generated on first use under the data directory; none is ever in the repository.
"""

from __future__ import annotations

import fcntl
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import Actor, Analyst, AnalystRole, Publisher
from privacy.keyfiles import write_secret_file

ISSUER = "signal-radar"
ALGORITHM = "EdDSA"
CLOCK_LEEWAY = timedelta(seconds=30)


class Audience(StrEnum):
    """The service a token is for; a token for one is refused by the other."""

    INGEST = "radar-ingest"
    QUERY = "radar-query"


class InvalidCredentialError(Exception):
    """The token was missing, malformed, expired, for another audience or badly signed."""


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair and its key id."""

    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """A key id derived from the public key, so it can never point at the wrong key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class TokenAuthority:
    """Issues and verifies radar credentials with the signing keys in one directory.

    The newest key signs; every key in the directory still verifies, which is how keys rotate.
    """

    def __init__(
        self, keys_dir: Path, is_revoked: Callable[[str], bool] = lambda _jti: False
    ) -> None:
        self._keys_dir = keys_dir
        self._keys = self._load_or_create(keys_dir)
        self._is_revoked = is_revoked

    @staticmethod
    def _load_or_create(keys_dir: Path) -> list[SigningKey]:
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (keys_dir / ".token-keys.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two services starting at once make one key
            paths = sorted(keys_dir.glob("token-signing-*.pem"))
            if not paths:
                TokenAuthority.rotate(keys_dir)
                paths = sorted(keys_dir.glob("token-signing-*.pem"))
        keys = []
        for path in paths:
            private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private_key, Ed25519PrivateKey):
                raise ValueError(f"{path} is not an Ed25519 key")
            keys.append(SigningKey(key_id_of(private_key.public_key()), private_key))
        return keys

    @staticmethod
    def rotate(keys_dir: Path) -> str:
        """Adds a new signing key, which signs from now on; returns its key id."""
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        write_secret_file(keys_dir / f"token-signing-{stamp}.pem", pem)
        return key_id_of(private_key.public_key())

    def issue(self, actor: Actor, audience: Audience, lifetime: timedelta) -> str:
        """A signed token for the actor, valid for one audience for the given lifetime."""
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": actor.subject,
            "aud": str(audience),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "org": actor.organisation,
        }
        if isinstance(actor, Publisher):
            claims.update(kind="publisher", sector=str(actor.sector))
        else:
            claims.update(kind="analyst", role=str(actor.role), region=str(actor.region))
        signer = self._keys[-1]
        return jwt.encode(
            claims, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.key_id}
        )

    def verify(self, token: str, audience: Audience) -> Actor:
        """The actor a valid token speaks for; InvalidCredentialError says why it is not valid."""
        try:
            key_id = jwt.get_unverified_header(token).get("kid")
            key = next((k for k in self._keys if k.key_id == key_id), None)
            if key is None:
                raise InvalidCredentialError("unknown signing key")
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=str(audience),
                issuer=ISSUER,
                leeway=CLOCK_LEEWAY,
                options={"require": ["exp", "iat", "nbf", "sub", "aud", "iss", "jti"]},
            )
            if self._is_revoked(claims["jti"]):
                raise InvalidCredentialError("token revoked")
            return _actor_from_claims(claims)
        except jwt.ExpiredSignatureError as error:
            raise InvalidCredentialError("token expired") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidCredentialError("token is for another audience") from error
        except jwt.InvalidSignatureError as error:
            raise InvalidCredentialError("bad signature") from error
        except InvalidCredentialError:
            raise
        except (jwt.InvalidTokenError, KeyError, ValueError) as error:
            raise InvalidCredentialError(f"invalid token: {type(error).__name__}") from error


def _actor_from_claims(claims: dict[str, Any]) -> Actor:
    if claims.get("kind") == "publisher":
        return Publisher(claims["sub"], claims["org"], Sector(claims["sector"]))
    if claims.get("kind") == "analyst":
        return Analyst(
            claims["sub"], claims["org"], AnalystRole(claims["role"]), VtRegion(claims["region"])
        )
    raise InvalidCredentialError("token names no known kind of actor")


def token_id(token: str) -> str:
    """The unique id (jti) of a token, read without verifying it: for revoking a token."""
    jti = jwt.decode(token, options={"verify_signature": False}).get("jti")
    if not isinstance(jti, str):
        raise InvalidCredentialError("token has no id")
    return jti
