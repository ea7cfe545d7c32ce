"""Publishes pseudonymised signal events, and corrections of them, to Kafka and reports, per
record, whether the broker acknowledged it (acks from all in-sync replicas, idempotent
producer). The `schema` header tells a signal from a correction."""

from __future__ import annotations

import contextlib
import struct
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.partitioner import DefaultPartitioner
from kafka.producer.future import FutureRecordMetadata

from contracts.correction_v1 import CORRECTION_SCHEMA, SignalCorrectionV1
from contracts.signal_v1 import SIGNAL_SCHEMA, SignalEventV1
from contracts.signal_v2 import SIGNAL_SCHEMA_V2, SignalEventV2
from services import metrics
from services.logs import REQUEST_ID_RECORD_HEADER, current_request_id

RECONNECT_INTERVAL_SECONDS = 1.0
SCHEMA_HEADER = ("schema", SIGNAL_SCHEMA.encode())
SCHEMA_HEADER_V2 = ("schema", SIGNAL_SCHEMA_V2.encode())
CORRECTION_SCHEMA_HEADER = ("schema", CORRECTION_SCHEMA.encode())
CONTENT_TYPE_HEADER = ("content-type", b"application/json")
LINGER_MS = 10
"""How long a partition's batch waits for more records: a request's records arrive a few
hundred microseconds apart, so with kafka-python's 2 ms a batch left with about five of them
(each new batch a wake-up of the sender thread). A request of 10 waits at most this longer."""
BATCH_BYTES = 512 * 1024
"""A batch of 500 signals (about 700 bytes each, six partitions) fits in one batch per
partition; kafka-python's 16 KiB default took about 23."""


_MURMUR_SEED = 0x9747B28C
_MURMUR_M = 0x5BD1E995
_U32 = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (the Java client's, and kafka-python's DefaultPartitioner's), the same
    value in a third of the time: the 4-byte words unpacked at once, one mask per product."""
    length = len(data)
    h = (_MURMUR_SEED ^ length) & _U32
    whole = length & ~3
    for word in struct.unpack_from(f"<{length >> 2}I", data):
        k = (word * _MURMUR_M) & _U32
        k = ((k ^ (k >> 24)) * _MURMUR_M) & _U32
        h = ((h * _MURMUR_M) & _U32) ^ k
    extra = length & 3
    if extra >= 3:
        h ^= data[whole + 2] << 16
    if extra >= 2:
        h ^= data[whole + 1] << 8
    if extra >= 1:
        h = ((h ^ data[whole]) * _MURMUR_M) & _U32
    h = ((h ^ (h >> 13)) * _MURMUR_M) & _U32
    return h ^ (h >> 15)


class HouseholdPartitioner(DefaultPartitioner):  # type: ignore[misc]
    """kafka-python's default partitioner for keyed records (murmur2 of the key over the
    sorted partitions: a household keeps its partition, whichever client wrote it before),
    without its pure-Python murmur2 and the list of available partitions it builds for
    every record though a keyed record never uses it. Unkeyed records: the default's."""

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: bytes | None,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(super().partition(topic, key, None, value, serialized_value, cluster))
        partitions = cluster.partitions_for_topic(topic)
        if partitions is None:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        ordered = sorted(partitions)
        return int(ordered[(murmur2(serialized_key) & 0x7FFFFFFF) % len(ordered)])


SignalEvent = SignalEventV1 | SignalEventV2
"""A signal as published: v1 or v2, on the same topic, told apart by the `schema` header."""


class BrokerUnavailableError(Exception):
    """Kafka could not be reached or did not acknowledge in time."""


@dataclass(frozen=True)
class Delivery:
    """Whether one event was acknowledged by the broker."""

    event: SignalEvent
    acknowledged: bool


def serialise(event: SignalEvent | SignalCorrectionV1) -> bytes:
    """The record value of a signal event or correction: its JSON form (pydantic's own JSON,
    the same bytes as orjson of `model_dump(mode="json")` without the dict in between)."""
    return event.model_dump_json().encode()


class SignalPublisher:
    """A thread-safe, lazily connected Kafka producer for the signals topic."""

    def __init__(self, bootstrap: str, topic: str, timeout_seconds: float) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._timeout = timeout_seconds
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()
        self._failed_at = float("-inf")
        self._lifetime = 0  # how often it was closed: connect_soon connects for one lifetime

    def publish(
        self, events: Sequence[SignalEvent], values: Sequence[bytes] | None = None
    ) -> list[Delivery]:
        """Sends the events keyed by household (as first known), each with its version's
        schema header, and waits for the broker's acknowledgements. `values`, when given, are
        the events' `serialise`d bytes, made by a caller that had the events' JSON anyway."""
        if values is None:
            values = [serialise(event) for event in events]
        records = [
            (
                event.first_known_household(),
                value,
                SCHEMA_HEADER_V2 if isinstance(event, SignalEventV2) else SCHEMA_HEADER,
            )
            for event, value in zip(events, values, strict=True)
        ]
        return [
            Delivery(event, acknowledged)
            for event, acknowledged in zip(events, self._send(records), strict=True)
        ]

    def publish_correction(self, correction: SignalCorrectionV1) -> bool:
        """Sends a correction keyed like the signal it corrects (so it follows that signal in
        its partition); whether the broker acknowledged it."""
        record = (correction.household, serialise(correction), CORRECTION_SCHEMA_HEADER)
        return self._send([record])[0]

    def _send(self, records: Sequence[tuple[str, bytes, tuple[str, bytes]]]) -> list[bool]:
        """Sends (key, value, schema header) records; per record, whether it was acknowledged."""
        try:
            producer = self._connected()
        except BrokerUnavailableError:
            metrics.producer_send_failed(len(records), "unreachable")
            return [False] * len(records)
        futures = []
        headers = [CONTENT_TYPE_HEADER]
        request_id = current_request_id()
        if request_id is not None:  # the aggregator names it in its line about the records
            headers.append((REQUEST_ID_RECORD_HEADER, request_id.encode()))
        for key, value, schema in records:
            try:
                futures.append(
                    producer.send(
                        self._topic,
                        key=key.encode(),
                        value=value,
                        headers=[schema, *headers],
                    )
                )
            except KafkaError:  # no metadata in time: the broker is not reachable
                futures.append(None)
        acknowledged = _acknowledged(futures, time.monotonic() + self._timeout)
        if not all(acknowledged):
            metrics.producer_send_failed(acknowledged.count(False), "not_acknowledged")
            self._reset()
        return acknowledged

    def connect_soon(self) -> None:
        """Connects in the background at start, so that the first requests find a producer
        rather than racing to make one (all but the one connecting got 503); a broker that
        is down then is retried by the requests as before."""
        started = self._lifetime
        threading.Thread(
            target=self.is_ready, args=(started,), name="kafka-connect", daemon=True
        ).start()

    def is_ready(self, lifetime: int | None = None) -> bool:
        """Whether the broker answers and knows the topic (connecting for `lifetime`, when
        given, only if the publisher was not closed since)."""
        try:
            return bool(self._connected(lifetime).partitions_for(self._topic))
        except (KafkaError, BrokerUnavailableError):
            return False

    def close(self) -> None:
        """Closes the producer; one being made meanwhile is waited for and closed too, and
        connect_soon's thread makes none after: a producer left open keeps its sender thread
        refreshing metadata of a topic that may be gone. Requests after close connect anew
        (an app whose lifespan starts again uses the same publisher)."""
        with self._lock:
            self._lifetime += 1
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self._timeout)

    def _connected(self, lifetime: int | None = None) -> KafkaProducer:
        """The producer, connecting if needed. While the broker is down, requests fail fast:
        only one thread at a time tries to connect (the others wait for it, at most the
        timeout), and not again within a second."""
        producer = self._producer
        if producer is not None:
            return producer
        if time.monotonic() - self._failed_at < RECONNECT_INTERVAL_SECONDS:
            raise BrokerUnavailableError("broker unreachable moments ago")
        # a connection being made (at start, connect_soon's) is waited for, as long as one's
        # own would take: the requests of ingest's first moments are served, not refused
        if not self._lock.acquire(timeout=self._timeout):
            raise BrokerUnavailableError("connecting to the broker")
        try:
            if lifetime is not None and lifetime != self._lifetime:
                raise BrokerUnavailableError("the publisher was closed meanwhile")
            if self._producer is None:
                if time.monotonic() - self._failed_at < RECONNECT_INTERVAL_SECONDS:
                    raise BrokerUnavailableError("broker unreachable moments ago")
                self._producer = self._new_producer()
            return self._producer
        except KafkaError as error:
            self._failed_at = time.monotonic()
            raise BrokerUnavailableError(type(error).__name__) from error
        finally:
            self._lock.release()

    def _new_producer(self) -> KafkaProducer:
        milliseconds = int(self._timeout * 1000)
        return KafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id="radar-ingest",
            acks="all",
            enable_idempotence=True,
            linger_ms=LINGER_MS,
            batch_size=BATCH_BYTES,
            partitioner=HouseholdPartitioner(),
            # kafka-python's own sensors (nobody reads them: the radar counts what it needs in
            # services.metrics) cost a fifth of the sender thread's work per produce request
            metrics_enabled=False,
            max_block_ms=milliseconds,
            bootstrap_timeout_ms=milliseconds,
            request_timeout_ms=milliseconds // 2,
            delivery_timeout_ms=milliseconds,
            max_in_flight_requests_per_connection=5,
        )

    def _reset(self) -> None:
        """Drops a producer whose deliveries failed, so the next request starts clean."""
        producer, self._producer = self._producer, None
        if producer is not None:
            self._failed_at = time.monotonic()
            with contextlib.suppress(KafkaError):  # unsent records fail; their senders retry
                producer.close(timeout=0)


def _acknowledged(futures: Sequence[FutureRecordMetadata | None], deadline: float) -> list[bool]:
    """Waits for these records' acknowledgements only, until the deadline. (`flush` would wait
    for every record in the producer, the other requests' too, and send each request's
    records at once instead of in batches shared with the requests beside it.)"""
    for future in futures:
        if future is not None and not future.is_done:
            with contextlib.suppress(KafkaError):  # the future tells: not acknowledged
                future.get(timeout=max(0.0, deadline - time.monotonic()))
    return [f is not None and f.is_done and f.succeeded() for f in futures]
