"""Publishes pseudonymised signal events to Kafka and reports, per event, whether the broker
acknowledged it (acks from all in-sync replicas, idempotent producer)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from kafka import KafkaProducer
from kafka.errors import KafkaError

from contracts.signal_v1 import SignalEventV1

SCHEMA_HEADER = ("schema", b"radar.signal.v1")
CONTENT_TYPE_HEADER = ("content-type", b"application/json")


class BrokerUnavailableError(Exception):
    """Kafka could not be reached or did not acknowledge in time."""


@dataclass(frozen=True)
class Delivery:
    """Whether one event was acknowledged by the broker."""

    event: SignalEventV1
    acknowledged: bool


def serialise(event: SignalEventV1) -> bytes:
    """The record value of a signal event: its JSON form."""
    return orjson.dumps(event.model_dump(mode="json"))


class SignalPublisher:
    """A thread-safe, lazily connected Kafka producer for the signals topic."""

    def __init__(self, bootstrap: str, topic: str, timeout_seconds: float) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._timeout = timeout_seconds
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def publish(self, events: Sequence[SignalEventV1]) -> list[Delivery]:
        """Sends the events keyed by household and waits for the broker's acknowledgements."""
        try:
            producer = self._connected()
        except BrokerUnavailableError:
            return [Delivery(event, acknowledged=False) for event in events]
        futures = []
        for event in events:
            try:
                futures.append(
                    producer.send(
                        self._topic,
                        key=event.household.encode(),
                        value=serialise(event),
                        headers=[SCHEMA_HEADER, CONTENT_TYPE_HEADER],
                    )
                )
            except KafkaError:  # no metadata in time: the broker is not reachable
                futures.append(None)
        with contextlib.suppress(KafkaError):  # the futures tell which records were acknowledged
            producer.flush(timeout=self._timeout)
        deliveries = [
            Delivery(event, future is not None and future.is_done and future.succeeded())
            for event, future in zip(events, futures, strict=True)
        ]
        if not all(d.acknowledged for d in deliveries):
            self._reset()
        return deliveries

    def is_ready(self) -> bool:
        """Whether the broker answers and knows the topic."""
        try:
            return bool(self._connected().partitions_for(self._topic))
        except (KafkaError, BrokerUnavailableError):
            return False

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self._timeout)
                self._producer = None

    def _connected(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                milliseconds = int(self._timeout * 1000)
                try:
                    self._producer = KafkaProducer(
                        bootstrap_servers=self._bootstrap,
                        client_id="radar-ingest",
                        acks="all",
                        enable_idempotence=True,
                        linger_ms=2,
                        max_block_ms=milliseconds,
                        bootstrap_timeout_ms=milliseconds,
                        request_timeout_ms=milliseconds // 2,
                        delivery_timeout_ms=milliseconds,
                        max_in_flight_requests_per_connection=5,
                    )
                except KafkaError as error:
                    raise BrokerUnavailableError(type(error).__name__) from error
            return self._producer

    def _reset(self) -> None:
        """Drops a producer whose deliveries failed, so the next request starts clean."""
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=0)
