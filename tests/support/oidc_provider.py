"""A loopback OpenID Connect provider for the pages' sign-in tests: discovery, an authorize
endpoint that signs the one configured person in at once, a token endpoint that checks the
client secret and the PKCE verifier, and its signing key's JWKS. Served by uvicorn on a free
port, as a region's identity provider would be over HTTP."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID, CLIENT_SECRET = "signal-radar", "loopback-secret"


@dataclass
class Provider:
    url: str
    claims: dict[str, Any]
    key: RSAKey
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    forged_nonce: bool = False


def _app(provider: Provider) -> FastAPI:
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, str]:
        return {
            "issuer": provider.url,
            "authorization_endpoint": f"{provider.url}/authorize",
            "token_endpoint": f"{provider.url}/token",
            "jwks_uri": f"{provider.url}/jwks",
        }

    @app.get("/authorize")
    def authorize(
        redirect_uri: str, state: str, nonce: str, code_challenge: str, client_id: str
    ) -> RedirectResponse:
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {"nonce": nonce, "challenge": code_challenge, "client": client_id}
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", 303)

    @app.post("/token")
    def token(
        code: str = Form(), code_verifier: str = Form(), grant_type: str = Form()
    ) -> dict[str, str]:
        issued = provider.codes.pop(code, None)
        if issued is None or create_s256_code_challenge(code_verifier) != issued["challenge"]:
            raise HTTPException(400, "invalid_grant")
        now = int(time.time())
        claims = {
            "iss": provider.url,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": "forged" if provider.forged_nonce else issued["nonce"],
            **provider.claims,
        }
        signed = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, provider.key)
        return {"access_token": "unused", "token_type": "Bearer", "id_token": signed}

    @app.get("/jwks")
    def jwks() -> dict[str, Any]:
        return {"keys": [provider.key.as_dict(private=False, kid="k1")]}

    return app


@contextmanager
def loopback_provider(claims: dict[str, Any]) -> Iterator[Provider]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = Provider(f"http://127.0.0.1:{port}", claims, RSAKey.generate_key(2048))
    server = uvicorn.Server(
        uvicorn.Config(_app(provider), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
