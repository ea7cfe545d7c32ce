"""Whether every partition of the signals topic has enough copies in sync, for the ingest API's
readiness. With acks=all the leader acknowledges a record only once `min.insync.replicas`
copies hold it; below that every produce fails (NotEnoughReplicas), so a proxy should send no
publisher here until the brokers have caught up. A partition with fewer copies in sync than it
has replicas, but enough, still takes signals: readiness says so without refusing."""

from __future__ import annotations

import contextlib
import enum
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

REFRESH_SECONDS = 2.0
"""A load balancer probes readiness every second or two per process: one metadata request
per interval answers all of them."""


class ReplicaState(enum.StrEnum):
    """The worst partition's state."""

    IN_SYNC = "in_sync"
    UNDER_REPLICATED = "under_replicated"  # fewer copies in sync than replicas, enough to write
    BELOW_MIN_INSYNC = "below_min_insync"  # writes are refused until a copy catches up
    UNKNOWN = "unknown"  # the brokers did not answer, or the topic is not there (yet)

    @property
    def takes_writes(self) -> bool:
        return self in (ReplicaState.IN_SYNC, ReplicaState.UNDER_REPLICATED)


def state_of(partitions: Iterable[Mapping[str, Any]], min_insync: int) -> ReplicaState:
    """The state of a topic from its partitions as the brokers describe them (kafka-python's
    `describe_topics`: `replica_nodes`, `isr_nodes`, `leader_id` -1 when leaderless)."""
    found = list(partitions)
    if not found:
        return ReplicaState.UNKNOWN
    if any(p["leader_id"] < 0 or len(p["isr_nodes"]) < min_insync for p in found):
        return ReplicaState.BELOW_MIN_INSYNC
    if any(len(p["isr_nodes"]) < len(p["replica_nodes"]) for p in found):
        return ReplicaState.UNDER_REPLICATED
    return ReplicaState.IN_SYNC


class ReplicaWatch:
    """The topic's replica state, asked of the brokers at most once per `refresh_seconds`."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        min_insync: int,
        refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._min_insync = min_insync
        self._refresh = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._admin: KafkaAdminClient | None = None
        self._state = ReplicaState.UNKNOWN
        self._asked_at = float("-inf")

    def state(self) -> ReplicaState:
        with self._lock:
            if self._clock() - self._asked_at >= self._refresh:
                self._state = self._ask()
                self._asked_at = self._clock()
            return self._state

    def _ask(self) -> ReplicaState:
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(
                    bootstrap_servers=self._bootstrap,
                    client_id="radar-replica-watch",
                    request_timeout_ms=5000,
                )
            [topic] = self._admin.describe_topics([self._topic])
            if topic.get("error_code", 0) != 0:
                return ReplicaState.UNKNOWN
            return state_of(topic["partitions"], self._min_insync)
        except (KafkaError, OSError, ValueError):
            self._close_admin()  # a client whose brokers went away starts anew next time
            return ReplicaState.UNKNOWN

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(KafkaError):
                admin.close()

    def close(self) -> None:
        with self._lock:
            self._close_admin()
