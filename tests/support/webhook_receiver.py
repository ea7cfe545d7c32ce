"""A webhook receiver on 127.0.0.1 over HTTPS (services/delivery/receiver.py's server, with a
certificate from a test CA made with `cryptography`, tests/support/local_ca.py), as an
organisation would run one: it verifies each
delivery's signature before it looks at the body, keeps what it got, and answers as the test
says (`answers`: a status per request, then 200). It can be stopped and started again on the
same port (a receiver down for a while)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.delivery.receiver import https_server, serve_in_background
from services.delivery.signing import IDEMPOTENCY_HEADER, verify
from tests.support.local_ca import LocalCa


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    answered: int

    @property
    def id(self) -> str:
        return self.headers[IDEMPOTENCY_HEADER]

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    """The receiver; `url` to register, `ca` for RADAR_WEBHOOKS_CA_BUNDLE."""

    def __init__(
        self,
        directory: Path,
        secret: bytes | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> None:
        ca = LocalCa(directory, "receiver")
        self._issued = ca.server("127.0.0.1")
        self.ca = ca.cert
        self.secret = secret
        self.public_key = public_key
        self.received: list[Received] = []
        self.answers: list[int] = []  # the statuses of the next requests, then 200
        self.delay_seconds = 0.0  # how long each answer takes after it was recorded
        self.refused_ids: set[str] = set()  # items it answers 500 to, however often they come
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/radar/webhook"

    def start(self) -> None:
        self._server = https_server(self.port, self._issued.cert, self._issued.key, self.took)
        self.port = self._server.server_address[1]
        serve_in_background(self._server)

    def took(self, headers: dict[str, str], body: bytes) -> int:
        verified = verify(headers, body, time.time(), self.secret, self.public_key)
        with self._lock:
            status = self.answers.pop(0) if self.answers else 200
            if headers.get(IDEMPOTENCY_HEADER) in self.refused_ids:
                status = 500
            if not verified:
                status = 401
            self.received.append(Received(headers, body, verified, status))
        time.sleep(self.delay_seconds)
        return status

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def taken(self) -> list[Received]:
        """The deliveries it acknowledged (2xx), in the order they came."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]


@contextmanager
def receiving(
    directory: Path, secret: bytes | None = None, public_key: Ed25519PublicKey | None = None
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(directory, secret, public_key)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
