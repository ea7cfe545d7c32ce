"""OpenID Connect sign-in for deployments: the region's identity provider says who the person
is, and in which role, region and organisation, in its signed ID token.

The authorization-code flow with PKCE (RFC 7636, Authlib's S256 challenge) and a nonce; the
state is kept here and bound to the browser by a cookie (no login CSRF); the ID token is
checked with joserfc (Authlib's JOSE library) against the provider's published keys: signature,
issuer, audience, expiry and nonce. Every failure is one refusal that names no token content.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from services.errors import Refusal, RefusalKind

PENDING_SECONDS = 600
"""A sign-in not finished within ten minutes is forgotten."""
HTTP_TIMEOUT_SECONDS = 10.0
ROLE_CLAIM, REGION_CLAIM, ORGANISATION_CLAIM = "radar_role", "radar_region", "organisation"
"""The claims a region's identity provider adds for the radar."""
ID_TOKEN_ALGORITHMS = ["RS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret_file: Path
    redirect_url: str


@dataclass(frozen=True)
class _Pending:
    nonce: str
    verifier: str
    started: float


def refused(reason: str) -> Refusal:
    return Refusal(RefusalKind.UNAUTHENTICATED, f"sign-in with the identity provider: {reason}")


class OidcLogin:
    """Starts and finishes sign-ins with one identity provider."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, read once."""
        if self._metadata is None:
            url = f"{self.settings.issuer.rstrip('/')}/.well-known/openid-configuration"
            self._metadata = _get_json(url)
        return self._metadata

    def start(self) -> tuple[str, str]:
        """A new sign-in: its state (for the browser's cookie) and where to send the browser."""
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        with self._lock:
            now = time.monotonic()
            self._pending = {
                k: p for k, p in self._pending.items() if now - p.started < PENDING_SECONDS
            }
            self._pending[state] = _Pending(nonce, verifier, now)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.client_id,
                "redirect_uri": self.settings.redirect_url,
                "scope": "openid",
                "state": state,
                "nonce": nonce,
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return state, f"{self.metadata()['authorization_endpoint']}?{query}"

    def finish(self, state: str, code: str) -> Analyst:
        """The person the provider signed in, from the code it sent back with `state`."""
        with self._lock:
            pending = self._pending.pop(state, None)
        if pending is None or time.monotonic() - pending.started >= PENDING_SECONDS:
            raise refused("unknown or expired sign-in")
        tokens = self._exchange(code, pending.verifier)
        claims = self._checked(tokens.get("id_token"), pending.nonce)
        return _analyst(claims)

    def _exchange(self, code: str, verifier: str) -> dict[str, Any]:
        secret = self.settings.client_secret_file.read_text().strip()
        try:
            answer = httpx.post(
                self.metadata()["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.settings.redirect_url,
                    "code_verifier": verifier,
                },
                auth=(self.settings.client_id, secret),
                timeout=HTTP_TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as error:
            raise refused("the provider did not answer") from error
        if answer.status_code != httpx.codes.OK:
            raise refused(f"the provider refused the code ({answer.status_code})")
        tokens: dict[str, Any] = answer.json()
        return tokens

    def _checked(self, id_token: Any, nonce: str) -> dict[str, Any]:
        if not isinstance(id_token, str):
            raise refused("no ID token")
        keys = KeySet.import_key_set(cast(Any, _get_json(self.metadata()["jwks_uri"])))
        try:
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.client_id},
                nonce={"essential": True, "value": nonce},
                sub={"essential": True},
                exp={"essential": True},
            ).validate(token.claims)
        except (JoseError, ValueError) as error:
            raise refused("the ID token is not valid") from error
        return dict(token.claims)


def _analyst(claims: dict[str, Any]) -> Analyst:
    try:
        return Analyst(
            subject=str(claims["sub"]),
            organisation=str(claims[ORGANISATION_CLAIM]),
            role=AnalystRole(claims[ROLE_CLAIM]),
            region=VtRegion(claims[REGION_CLAIM]),
        )
    except (KeyError, ValueError) as error:
        raise refused("the ID token names no valid role, region or organisation") from error


def _get_json(url: str) -> dict[str, Any]:
    try:
        answer = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS)
        answer.raise_for_status()
    except httpx.HTTPError as error:
        raise refused("the provider did not answer") from error
    found: dict[str, Any] = answer.json()
    return found
