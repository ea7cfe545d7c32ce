"""Serving ingest over TLS, and mutual TLS: which organisation's certificate a request came with.

uvicorn (0.54) verifies client certificates (`ssl_cert_reqs`) but does not tell the application
which one was presented: the ASGI TLS extension is not implemented (uvicorn PRs #1119, #2586,
#3132 are unmerged). Rather than a TLS-terminating proxy (another process to install, run and
trust on loopback, and a forwarded header the app must believe), a small subclass of uvicorn's
h11 protocol reads the verified peer certificate from the connection's `ssl` object once and
puts it in every request's scope as the ASGI TLS extension does
(`scope["extensions"]["tls"]["client_cert_chain"]`, PEM strings, the client's own first). Only a
certificate the handshake verified against the configured CA can get there: with
`CERT_REQUIRED` a connection without one, or with one from another CA, never reaches the app.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from services.settings import Settings

_TLS_VERSIONS = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}
"""`tls_version` in the ASGI TLS extension is the protocol's number on the wire."""


def client_certificate(scope: Scope) -> bytes | None:
    """The DER of the client certificate the request's connection presented, or None (plain
    HTTP, TLS without client certificates, or a server that does not fill the extension)."""
    tls = scope.get("extensions", {}).get("tls")
    chain = tls.get("client_cert_chain") if isinstance(tls, dict) else None
    if not chain:
        return None
    return ssl.PEM_cert_to_DER_cert(chain[0])


class _WithTls:
    """One connection's app: every request's scope carries that connection's TLS extension."""

    def __init__(self, app: ASGIApp, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            scope = {**scope, "extensions": {**scope.get("extensions", {}), "tls": self.tls}}
        await self.app(scope, receive, send)


def _tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The ASGI TLS extension of a connection; what CPython's ssl cannot tell (the server's own
    certificate, the cipher suite's number) is None, as the specification allows."""
    peer = ssl_object.getpeercert(binary_form=True)
    version = ssl_object.version()
    return {
        "server_cert": None,
        "client_cert_chain": [] if peer is None else [ssl.DER_cert_to_PEM_cert(peer)],
        "client_cert_name": None,
        "client_cert_error": None,  # a certificate that failed verification ended the handshake
        "tls_version": None if version is None else _TLS_VERSIONS.get(version),
        "cipher_suite": None,
    }


class ClientCertificateProtocol(H11Protocol):
    """uvicorn's h11 protocol, with the ASGI TLS extension in every scope of a TLS connection."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject):
            self.app = _WithTls(self.app, _tls_extension(ssl_object))  # type: ignore[assignment]


def server_context(settings: Settings) -> ssl.SSLContext:
    """The ingest API's TLS context: TLS 1.2 or newer; with a client CA, a client certificate
    signed by that CA (and by nothing else: the system's CAs are not loaded) is required."""
    assert settings.ingest_tls_cert is not None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.ingest_tls_cert, settings.ingest_tls_key)
    if settings.ingest_client_ca is not None:
        context.load_verify_locations(cafile=settings.ingest_client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def uvicorn_tls(settings: Settings) -> dict[str, Any]:
    """The `uvicorn.run` options that serve ingest as configured: none for plain HTTP; else the
    TLS context (built now, so a missing or wrong file stops the start with its reason) and the
    protocol that tells the app which client certificate came."""
    if settings.ingest_tls_cert is None:
        return {}
    context = server_context(settings)
    return {
        "ssl_context_factory": lambda _config, _default: context,
        "http": ClientCertificateProtocol,
    }
