"""One HTTPS POST to a receiver, its certificate verified against the configured CA bundle.

No redirect is followed (a receiver cannot send the radar's deliveries, or the radar itself,
somewhere it was not registered for), no proxy or certificate setting is taken from the
environment, and every failure is a short status word, never an exception text: an exception
may echo the URL or the response, and the status is stored and shown.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import httpx


class Post(Protocol):
    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> str:
        """The HTTP status as text ("200"), or what went wrong before one."""
        ...


def tls_context(ca_bundle: Path | None) -> ssl.SSLContext:
    """Verifies receivers against `ca_bundle` (PEM), else the system's trusted CAs."""
    if ca_bundle is None:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=str(ca_bundle))


def delivered(status: str) -> bool:
    """A 2xx is the receiver's acknowledgement; anything else is tried again."""
    return status.isdigit() and 200 <= int(status) < 300


class HttpsPoster:
    """A keep-alive client for every receiver, made at the first POST: a CA bundle not there
    yet (make run before the local receiver made its certificate) fails the attempts, which
    back off as any failure does, instead of the process."""

    def __init__(self, ca_bundle: Path | None, timeout_seconds: float) -> None:
        self._ca_bundle = ca_bundle
        self._timeout = timeout_seconds
        self._client: httpx.Client | None = None

    def _connected(self) -> httpx.Client | None:
        if self._client is None:
            try:
                context = tls_context(self._ca_bundle)
            except (OSError, ssl.SSLError):
                return None
            self._client = httpx.Client(
                verify=context, timeout=self._timeout, follow_redirects=False, trust_env=False
            )
        return self._client

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> str:
        client = self._connected()
        if client is None:
            return "ca_bundle_unreadable"
        try:
            response = client.post(url, content=body, headers=dict(headers))
        except httpx.ConnectError as error:
            return "tls_error" if isinstance(error.__cause__, ssl.SSLError) else "connect_error"
        except httpx.TimeoutException:
            return "timeout"
        except httpx.HTTPError:
            return "http_error"
        return str(response.status_code)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
