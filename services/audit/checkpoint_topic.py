"""The Kafka copy of the checkpoints: published by the sealer, read back by `verify`.

One partition keeps them in order. The topic is the copy held elsewhere: an auditor (or a
consumer in another organisation) can keep every checkpoint ever published, and the database
cannot take one back.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Collection

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError

from services.audit.checkpoints import Checkpoint
from services.kafka_topics import SINGLE_BROKER, Replication, ensure_topic

RETRY_AFTER_FAILURE_SECONDS = 5.0


class BrokerUnreachableError(ConnectionError):
    """No bootstrap server accepted a connection: Kafka is down or not where configured."""


def probe_broker(bootstrap: str, timeout_seconds: float) -> None:
    """Fails within `timeout_seconds` when no bootstrap server answers, instead of letting the
    client retry for half a minute (a stopped system is a normal place to run `verify`)."""
    reason = "no bootstrap server configured"
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            address = (host.strip("[]") or "localhost", int(port))
            with socket.create_connection(address, timeout_seconds):
                return
        except TimeoutError:
            reason = f"no answer within {timeout_seconds:g}s"
        except (OSError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
    raise BrokerUnreachableError(reason)


class CheckpointPublisher:
    """Publishes checkpoints with acks from all in-sync replicas; lazily connected."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        retention_days: int,
        timeout_seconds: float,
        replication: Replication = SINGLE_BROKER,
    ) -> None:
        self._bootstrap = bootstrap
        self._replication = replication
        self._topic = topic
        self._retention_days = retention_days
        self._timeout = timeout_seconds
        self._producer: KafkaProducer | None = None
        self._failed_at = float("-inf")

    def publish(self, checkpoints: list[Checkpoint]) -> bool:
        """Sends the checkpoints in order; True when the broker acknowledged all of them."""
        if time.monotonic() - self._failed_at < RETRY_AFTER_FAILURE_SECONDS:
            return False
        try:
            producer = self._connected()
            futures = [
                producer.send(self._topic, key=c.store.encode(), value=c.message())
                for c in checkpoints
            ]
            producer.flush(timeout=self._timeout)
            if all(f.is_done and f.succeeded() for f in futures):
                return True
        except KafkaError:
            pass
        self._failed_at = time.monotonic()
        self.close()
        return False

    def close(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(Exception):
                self._producer.close(timeout=1)
            self._producer = None

    def _connected(self) -> KafkaProducer:
        if self._producer is None:
            ensure_topic(self._bootstrap, self._topic, 1, self._retention_days, self._replication)
            self._producer = KafkaProducer(
                bootstrap_servers=self._bootstrap,
                acks="all",
                enable_idempotence=True,
                max_block_ms=int(self._timeout * 1000),
                request_timeout_ms=int(self._timeout * 1000),
            )
        return self._producer


def read_checkpoints(
    bootstrap: str,
    topic: str,
    store: str | Collection[str],
    timeout_seconds: float = 10.0,
    connect_timeout_seconds: float = 3.0,
) -> list[Checkpoint]:
    """Every checkpoint of this store (or these: a restored store's lineage) on the topic,
    oldest first (an absent topic holds none)."""
    keys = {s.encode() for s in ([store] if isinstance(store, str) else store)}
    probe_broker(bootstrap, connect_timeout_seconds)
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            enable_auto_commit=False,
            request_timeout_ms=int(max(timeout_seconds, 2) * 1000) + 1000,
            bootstrap_timeout_ms=int(connect_timeout_seconds * 1000),
        )
    except KafkaTimeoutError as error:
        # something accepted the connection, but no broker answered in time
        raise BrokerUnreachableError(
            f"no Kafka broker answered within {connect_timeout_seconds:g}s"
        ) from error
    try:
        if topic not in consumer.topics():
            return []
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found: list[Checkpoint] = []
        deadline = time.monotonic() + timeout_seconds
        while any(consumer.position(p) < ends[p] for p in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read topic {topic} within {timeout_seconds}s")
            for records in consumer.poll(timeout_ms=500).values():
                found.extend(Checkpoint.from_message(r.value) for r in records if r.key in keys)
        return found
    finally:
        consumer.close()
