"""Credentials as standard JWTs signed with Ed25519 (EdDSA).

Asymmetric keys mean the services that verify tokens hold no secret that could mint one. Every
token names its key (kid), audience, issuer, expiry and a unique id (jti). Signing keys are
generated on first use under the data directory; none is ever in the repository.

A token can be bound to a client certificate (RFC 8705, certificate-bound access tokens): its
`cnf` claim holds the certificate's SHA-256 thumbprint, and an audience served over mutual TLS
accepts it only from a connection that presented that certificate, so a stolen token is useless
without the organisation's private key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
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
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Actor, Analyst, AnalystRole, Publisher
from privacy.keyfiles import new_key_path, public_key_id, versioned_key_files, write_private_key

ISSUER = "signal-radar"
ALGORITHM = "EdDSA"
CLOCK_LEEWAY = timedelta(seconds=5)
"""How far apart the clocks of the host that mints a token and the service that checks it may
be. Without it a token minted on a host a second ahead is refused as "not yet valid"; with it an
expired token is still accepted for up to this long. NTP keeps hosts well within a second, so
5 s covers a drifting clock and keeps the window in which an expired token works short
(README, "Using the APIs")."""
SHORTEST_LIFETIME = timedelta(minutes=1)
"""Expiries are whole seconds: a token meant to live less than a minute could expire before a
person has pasted it into a client, or be born expired and live on only by the leeway."""
_KEY_PREFIX = "token-signing"
THUMBPRINT = "x5t#S256"
"""The `cnf` member naming a bound certificate by its SHA-256 thumbprint (RFC 8705, 3.1)."""
NOT_BOUND = "token not bound to this client certificate"


class Audience(StrEnum):
    """The service a token is for; a token for one is refused by the other."""

    INGEST = "radar-ingest"
    QUERY = "radar-query"


class InvalidCredentialError(Exception):
    """The token was missing, malformed, expired, for another audience or badly signed."""


class UnusableLifetimeError(ValueError):
    """A lifetime no token should be minted with: it would be expired, or all but, when made."""


def token_lifetime(hours: float) -> timedelta:
    """The lifetime of a token to mint for someone, refusing one that could not be used (a
    token minted for a person must work); UnusableLifetimeError says why in a few words."""
    if not math.isfinite(hours):
        raise UnusableLifetimeError("not a number of hours")
    if hours <= 0:
        raise UnusableLifetimeError("the token would be expired when it is made")
    try:
        lifetime = timedelta(hours=hours)
        datetime.now(UTC) + lifetime  # raises when no expiry can hold it
    except OverflowError:
        raise UnusableLifetimeError("longer than a token's expiry can hold") from None
    if lifetime < SHORTEST_LIFETIME:
        raise UnusableLifetimeError("shorter than a minute, the token would expire unused")
    return lifetime


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key pair and its key id."""

    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


key_id_of = public_key_id
"""A key id derived from the public key, so it can never point at the wrong key."""


def certificate_thumbprint(certificate_der: bytes) -> str:
    """The `x5t#S256` of a certificate: base64url, unpadded, of the SHA-256 of its DER."""
    digest = hashlib.sha256(certificate_der).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def certificate_der(data: bytes) -> bytes:
    """The DER of one X.509 certificate, given as PEM or DER, that a token can be bound to now;
    ValueError says why not: a key or a CSR passed by mistake, or a certificate outside its
    validity (no handshake would succeed with it, so the token could never be used)."""
    from cryptography import x509  # here: minting an unbound token stays as quick as before

    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(data)
        else:
            certificate = x509.load_der_x509_certificate(data)
    except ValueError:
        raise ValueError("not an X.509 certificate") from None
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc < now:
        raise ValueError(f"the certificate expired at {certificate.not_valid_after_utc}")
    if certificate.not_valid_before_utc > now:
        raise ValueError(f"the certificate is not valid before {certificate.not_valid_before_utc}")
    return certificate.public_bytes(serialization.Encoding.DER)


class TokenAuthority:
    """Issues and verifies radar credentials with the signing keys in one directory.

    The newest key signs; every key in the directory still verifies, which is how keys rotate.
    Tokens for a `bound` audience (one served over mutual TLS) are accepted only together with
    the client certificate their `cnf` names.
    """

    def __init__(
        self,
        keys_dir: Path,
        is_revoked: Callable[[str], bool] = lambda _jti: False,
        bound: frozenset[Audience] = frozenset(),
    ) -> None:
        self._keys_dir = keys_dir
        self._keys = self._load_or_create(keys_dir)
        self._is_revoked = is_revoked
        self._bound = bound

    @staticmethod
    def _load_or_create(keys_dir: Path) -> list[SigningKey]:
        paths = versioned_key_files(keys_dir, _KEY_PREFIX, _create_signing_key)
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
        return _create_signing_key(new_key_path(keys_dir, _KEY_PREFIX))

    def issue(
        self,
        actor: Actor,
        audience: Audience,
        lifetime: timedelta,
        certificate: bytes | None = None,
    ) -> str:
        """A signed token for the actor, valid for one audience for the given lifetime, taken as
        given (tests mint expired tokens); what mints for a person checks `token_lifetime`.
        With a certificate (DER) the token is bound to it (`cnf`)."""
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
        if certificate is not None:
            claims["cnf"] = {THUMBPRINT: certificate_thumbprint(certificate)}
        if isinstance(actor, Publisher):
            claims.update(kind="publisher", sector=str(actor.sector))
        else:
            claims.update(kind="analyst", role=str(actor.role), region=str(actor.region))
            if actor.on_behalf_of is not None:
                claims["on_behalf_of"] = actor.on_behalf_of  # the responsible user (NEN 7513)
        signer = self._keys[-1]
        return jwt.encode(
            claims, signer.private_key, algorithm=ALGORITHM, headers={"kid": signer.key_id}
        )

    def verify(self, token: str, audience: Audience, certificate: bytes | None = None) -> Actor:
        """The actor a valid token speaks for; InvalidCredentialError says why it is not valid.
        `certificate` is the DER of the client certificate the request came with, if any; a
        bound audience refuses a token that does not name it."""
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
            if audience in self._bound:
                _check_binding(claims, certificate)
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


def _check_binding(claims: dict[str, Any], certificate: bytes | None) -> None:
    """RFC 8705, 3: the token's `cnf` thumbprint must be that of the presented certificate."""
    if certificate is None:
        raise InvalidCredentialError("no client certificate")
    confirmation = claims.get("cnf")
    bound_to = confirmation.get(THUMBPRINT) if isinstance(confirmation, dict) else None
    presented = certificate_thumbprint(certificate).encode()
    if not isinstance(bound_to, str) or not hmac.compare_digest(bound_to.encode(), presented):
        raise InvalidCredentialError(NOT_BOUND)


def _create_signing_key(path: Path) -> str:
    private_key = Ed25519PrivateKey.generate()
    write_private_key(path, private_key)
    return key_id_of(private_key.public_key())


def _actor_from_claims(claims: dict[str, Any]) -> Actor:
    if claims.get("kind") == "publisher":
        return Publisher(claims["sub"], claims["org"], SectorV2(claims["sector"]))
    if claims.get("kind") == "analyst":
        on_behalf_of = claims.get("on_behalf_of")
        if on_behalf_of is not None and (not isinstance(on_behalf_of, str) or not on_behalf_of):
            raise InvalidCredentialError("on_behalf_of must name a user")
        return Analyst(
            claims["sub"],
            claims["org"],
            AnalystRole(claims["role"]),
            VtRegion(claims["region"]),
            on_behalf_of,
        )
    raise InvalidCredentialError("token names no known kind of actor")


def claimed_subject(token: str) -> str | None:
    """The subject a token claims, read WITHOUT verifying it (for logging a refusal, marked
    unverified); None when the token cannot even be parsed."""
    try:
        subject = jwt.decode(token, options={"verify_signature": False}).get("sub")
    except jwt.InvalidTokenError:
        return None
    return subject if isinstance(subject, str) else None


def token_id(token: str) -> str:
    """The unique id (jti) of a token, read without verifying it: for revoking a token."""
    jti = jwt.decode(token, options={"verify_signature": False}).get("jti")
    if not isinstance(jti, str):
        raise InvalidCredentialError("token has no id")
    return jti
