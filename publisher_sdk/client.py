"""The publisher SDK: how an organisation sends signals to the radar.

It sends in batches, gives every signal an event id once (the idempotency key, kept across
retries), retries what the radar could not take yet (503, 429, connection failures) with
exponential backoff and jitter, honouring Retry-After, and reports per signal what became of
it. A retried signal the radar had already accepted comes back as 'duplicate': nothing is sent
twice and nothing is lost without being reported.

Identifiers are sealed by default: the client fetches the radar's public key once
(GET /v1/keys/identifiers) and encrypts every BSN and address to it before anything leaves the
process (privacy.sealed_submission), so proxies and TLS terminators see ciphertext only. The
client never logs; a result carries the event id, status and reasons, never an identifier.
"""

from __future__ import annotations

import random
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from privacy.sealed_identifiers import PublishedKey
from privacy.sealed_submission import sealed_signal

IDENTIFIER_KEY_PATH = "/v1/keys/identifiers"
BATCH_PATH = "/v1/signals/batch"
BATCH_PATH_V2 = "/v2/signals/batch"
FINAL_STATUSES = frozenset({"accepted", "duplicate", "rejected"})
# Every signal carries its event id, so sending again is always safe: retry what may pass later.
RETRYABLE_HTTP = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class PublishResult:
    """What became of one signal: accepted, duplicate, rejected (with reasons) or failed
    (the radar never confirmed it; safe to send again later with the same event id)."""

    event_id: str
    status: str
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.status in {"accepted", "duplicate"}


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, capped; Retry-After wins when it is longer."""

    max_attempts: int = 10
    base_seconds: float = 0.25
    cap_seconds: float = 15.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def pause(self, attempt: int, retry_after: float | None) -> None:
        backoff = self.rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))
        self.sleep(max(backoff, min(retry_after or 0.0, self.cap_seconds)))


def mutual_tls_context(ca_cert: str, client_cert: str, client_key: str) -> ssl.SSLContext:
    """How an organisation connects to an ingest API with mutual TLS: it trusts the radar's CA
    (PEM) and presents its own certificate and key (PEM), the one its token is bound to."""
    context = ssl.create_default_context(cafile=ca_cert)
    context.load_cert_chain(client_cert, client_key)
    return context


class PublisherClient:
    """Sends signals to the ingest API with a publisher's token."""

    def __init__(
        self,
        base_url: str,
        token: str,
        batch_size: int = 500,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 30.0,
        seal_identifiers: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """seal_identifiers=False sends BSNs and addresses in clear: only for a development
        radar that allows it (RADAR_ALLOW_PLAIN_IDENTIFIERS). `tls` is the context to connect
        with, e.g. `mutual_tls_context` for an ingest API with mutual TLS; default: the
        system's CAs, no client certificate."""
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_seconds,
            verify=tls if tls is not None else True,
        )
        self._batch_size = batch_size
        self._retry = retry or RetryPolicy()
        self._seal_identifiers = seal_identifiers
        self._identifier_key: PublishedKey | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PublisherClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def publish(self, signals: Iterable[dict[str, Any]]) -> list[PublishResult]:
        """Publishes every signal; one result per signal, in the order given."""
        return self._publish(signals, BATCH_PATH)

    def publish_v2(self, signals: Iterable[dict[str, Any]]) -> list[PublishResult]:
        """Publishes every signal.v2 submission (services.signals.submission_v2), its
        references sealed like BSNs and addresses; the same batches, retries and results."""
        return self._publish(signals, BATCH_PATH_V2)

    def _publish(self, signals: Iterable[dict[str, Any]], path: str) -> list[PublishResult]:
        prepared = [_with_event_id(signal) for signal in signals]
        outcome: dict[int, PublishResult] = {}
        sendable: list[tuple[int, dict[str, Any]]] = []
        key = self._key_for_sealing() if self._seal_identifiers and prepared else None
        for position, signal in enumerate(prepared):
            if isinstance(key, PublishResult):  # no key: nothing can be sent sealed
                outcome[position] = PublishResult(signal["event_id"], key.status, key.errors)
                continue
            try:
                sendable.append((position, sealed_signal(signal, key) if key else signal))
            except ValueError:
                outcome[position] = PublishResult(
                    str(signal["event_id"]),
                    "rejected",
                    [{"field": "event_id", "reason": "not a UUID: nothing can be sealed for it"}],
                )
        for start in range(0, len(sendable), self._batch_size):
            chunk = sendable[start : start + self._batch_size]
            answers = self._publish_batch([signal for _, signal in chunk], path)
            outcome.update(zip((position for position, _ in chunk), answers, strict=True))
        return [outcome[position] for position in range(len(prepared))]

    def _key_for_sealing(self) -> PublishedKey | PublishResult:
        """The radar's public key (fetched once, with retries), or the result every signal
        gets when it cannot be had: failed (try later) or rejected (retrying cannot help)."""
        for attempt in range(self._retry.max_attempts):
            if self._identifier_key is not None:
                return self._identifier_key
            try:
                answer = self._http.get(IDENTIFIER_KEY_PATH)
            except httpx.TransportError:
                self._retry.pause(attempt, None)
                continue
            if answer.status_code in RETRYABLE_HTTP:
                self._retry.pause(attempt, _retry_after(answer))
                continue
            if answer.status_code != 200:
                reason = str(_json(answer).get("detail", f"HTTP {answer.status_code}"))
                return PublishResult("", "rejected", [{"field": "", "reason": reason}])
            try:
                key = PublishedKey.model_validate(_json(answer))
                key.x25519()
            except (ValidationError, ValueError):
                reason = "the radar's identifier key is malformed"
                return PublishResult("", "rejected", [{"field": "", "reason": reason}])
            self._identifier_key = key
        return self._identifier_key or PublishResult("", "failed")

    def _publish_batch(self, batch: Sequence[dict[str, Any]], path: str) -> list[PublishResult]:
        outcome: dict[str, PublishResult] = {}
        pending = list(batch)
        for attempt in range(self._retry.max_attempts):
            retry_after = self._attempt(pending, outcome, path)
            pending = [s for s in pending if s["event_id"] not in outcome]
            if not pending:
                break
            self._retry.pause(attempt, retry_after)
        for signal in pending:
            outcome[signal["event_id"]] = PublishResult(signal["event_id"], "failed")
        return [outcome[s["event_id"]] for s in batch]

    def _attempt(
        self, pending: Sequence[dict[str, Any]], outcome: dict[str, PublishResult], path: str
    ) -> float | None:
        """Sends the pending signals once; records final answers; returns Retry-After."""
        try:
            answer = self._http.post(path, json={"signals": list(pending)})
        except httpx.TransportError:
            return None  # connection refused, reset or timed out: try again
        retry_after = _retry_after(answer)
        if answer.status_code in (200, 503) and "results" in _json(answer):
            for item in _json(answer)["results"]:
                if item["status"] in FINAL_STATUSES and item["event_id"] is not None:
                    outcome[item["event_id"]] = PublishResult(
                        item["event_id"], item["status"], item.get("errors", [])
                    )
            return retry_after
        if answer.status_code in RETRYABLE_HTTP:
            return retry_after
        reason = str(_json(answer).get("detail", f"HTTP {answer.status_code}"))
        for signal in pending:  # 4xx for the whole request: retrying cannot help
            outcome[signal["event_id"]] = PublishResult(
                signal["event_id"], "rejected", [{"field": "", "reason": reason}]
            )
        return None


def _with_event_id(signal: dict[str, Any]) -> dict[str, Any]:
    return signal if signal.get("event_id") else {**signal, "event_id": str(uuid.uuid4())}


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(answer: httpx.Response) -> float | None:
    value = answer.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
