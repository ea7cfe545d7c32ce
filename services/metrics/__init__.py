"""Prometheus metrics of every radar process: what an operator watches, never whom.

Each process keeps its own metrics in prometheus_client's default registry. The ingest and query
APIs serve them at `GET /metrics` (unauthenticated: no sample names a person, a household, a
signal or an analyst; a deployment restricts the path at its proxy); the aggregator and the
projector have no HTTP API, so each serves them on a port of its own (`serve`). The APIs'
request metrics and their /metrics route are in `http.py`.

Labels hold only bounded, impersonal values: route templates (never raw paths, which carry
pseudonyms), status classes, outcomes, sectors, purposes from the register, read-model names,
topics and partitions. tests/e2e/test_metrics_end_to_end.py checks every label of every sample.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from prometheus_client import REGISTRY, Counter, Gauge, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = structlog.get_logger("radar.metrics")
disable_created_metrics()  # type: ignore[no-untyped-call]  # no `_created` twin per counter

MAX_EVENTS_BEHIND = 10_000
"""Projection lag is counted up to this many events per read model and scrape (bounded work)."""

# --- ingest -----------------------------------------------------------------------------------

SIGNALS = Counter(
    "radar_ingest_signals_total",
    "Signals submitted, by outcome (accepted, duplicate, rejected, unavailable) and sector.",
    ["outcome", "sector"],
)
PRODUCER_SEND_FAILURES = Counter(
    "radar_kafka_producer_send_failures_total",
    "Records the ingest producer could not get acknowledged by Kafka (broker unreachable, or "
    "sent but not acknowledged in time).",
    ["reason"],
)

# --- aggregator -------------------------------------------------------------------------------

RECORDS_RECORDED = Counter(
    "radar_aggregator_records_recorded_total",
    "Signal and correction records recorded in the event store (rate = aggregation rate).",
)
RECORDS_DUPLICATE = Counter(
    "radar_aggregator_records_duplicate_total",
    "Records whose signal was recorded before (same event id): nothing changed.",
)
# --- query ------------------------------------------------------------------------------------

GATE_DECISIONS = Counter(
    "radar_gate_decisions_total",
    "Decisions of the query gate, each an access-log entry, by purpose and outcome.",
    ["purpose", "outcome"],
)
BREAK_GLASS_USES = Counter(
    "radar_gate_break_glass_uses_total",
    "Permitted break-glass accesses (each awaits the privacy officer's review).",
)
NOTICES_SENT = Counter(
    "radar_gate_notices_total",
    "Notices to a household's own region of an access from elsewhere, by kind.",
    ["kind"],
)

# --- projector (the audit sealer runs there too) ----------------------------------------------

CHECKPOINTS_SEALED = Counter(
    "radar_audit_checkpoints_sealed_total",
    "Audit checkpoints signed by this process's sealer.",
)


# --- retention (`radar retention enforce --every-hours N`, the one long-lived retention run) --

RETENTION_RUNS = Counter(
    "radar_retention_runs_total",
    "Retention enforcements run by this process, by mode (enforce or dry_run).",
    ["mode"],
)
RETENTION_ERASED = Counter(
    "radar_retention_households_erased_total",
    "Households erased at the end of their retention period, by retention kind.",
    ["kind"],
)
RETENTION_LAST_RUN = Gauge(
    "radar_retention_last_run_timestamp_seconds",
    "When this process last finished a retention enforcement (Unix time).",
)


def retention_enforced(dry_run: bool, expired: dict[str, int]) -> None:
    RETENTION_RUNS.labels("dry_run" if dry_run else "enforce").inc()
    if not dry_run:
        for kind, households in expired.items():
            RETENTION_ERASED.labels(kind).inc(households)
    RETENTION_LAST_RUN.set_to_current_time()


def serve(host: str, port: int, process: str) -> bool:
    """Serves this process's metrics on host:port (0: off). A port that cannot be bound is
    logged and the process carries on without: its work matters more than its metrics, and
    Prometheus shows the target as down (`up == 0`, an alert rule)."""
    if port == 0:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        log.warning("metrics port unavailable", process=process, port=port, error=str(error))
        return False
    log.info("serving metrics", process=process, port=port)
    return True


# --- ingest hooks -----------------------------------------------------------------------------


def signals_answered(outcomes: Iterable[str], sector: str) -> None:
    """Counts a request's answers: one increment per outcome, not per signal (a label
    lookup and a locked increment for each of a batch's 500 signals)."""
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[str(outcome)] = counts.get(str(outcome), 0) + 1
    for outcome, count in counts.items():
        SIGNALS.labels(outcome, sector).inc(count)


def producer_send_failed(records: int, reason: str) -> None:
    if records:
        PRODUCER_SEND_FAILURES.labels(reason).inc(records)


# --- aggregator: consumer lag, sampled in the poll loop (the consumer is not thread-safe) -----


class _Consumer(Protocol):
    def assignment(self) -> set[Any]: ...

    def end_offsets(
        self, partitions: list[Any], timeout_ms: int | None = None
    ) -> dict[Any, int]: ...


class ConsumerLag(Collector):
    """Records behind the end of each assigned partition, as last sampled by the poll loop:
    the broker's end offset against the next offset the event store will apply (the store,
    not the consumer's fetch position, is the truth of what was recorded)."""

    def __init__(self) -> None:
        self._lags: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()
        self._sampled_at = float("-inf")

    def sample(
        self,
        consumer: _Consumer,
        next_offset: Callable[[Any], int],
        every_seconds: float = 1.0,
        timeout_ms: int = 2000,
    ) -> None:
        """End offsets against the store's next offsets, at most once per `every_seconds`
        (one request to the broker); a failure leaves the last sample in place."""
        now = time.monotonic()
        if now - self._sampled_at < every_seconds:
            return
        self._sampled_at = now
        assigned = list(consumer.assignment())
        ends = consumer.end_offsets(assigned, timeout_ms=timeout_ms) if assigned else {}
        lags = {
            (str(tp.topic), int(tp.partition)): max(0, int(ends[tp]) - next_offset(tp))
            for tp in assigned
            if tp in ends
        }
        with self._lock:
            self._lags = lags

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "radar_aggregator_consumer_lag",
            "Records in each assigned partition of the signals topic not yet consumed.",
            labels=["topic", "partition"],
        )
        with self._lock:
            for (topic, partition), lag in sorted(self._lags.items()):
                family.add_metric([topic, str(partition)], lag)
        yield family


CONSUMER_LAG_SAMPLES = ConsumerLag()
REGISTRY.register(CONSUMER_LAG_SAMPLES)


def records_recorded(recorded: int, duplicates: int) -> None:
    RECORDS_RECORDED.inc(recorded)
    RECORDS_DUPLICATE.inc(duplicates)


# --- projector: lag per read model and the newest checkpoint, computed on scrape --------------


class Watched(Protocol):
    """A read model as the lag collector sees it."""

    name: str
    topics: tuple[str, ...]

    def position(self) -> int: ...


class Notifications(Protocol):
    def after(self, position: int, limit: int, topics: Sequence[str] = ()) -> Sequence[Any]: ...

    def last_id(self) -> int: ...


def events_behind(notifications: Notifications, model: Watched) -> int:
    """Events of the read model's topics stored after its position (up to MAX_EVENTS_BEHIND)."""
    position = model.position()
    if notifications.last_id() <= position:
        return 0
    behind = 0
    page = 1000
    while behind < MAX_EVENTS_BEHIND:
        found = notifications.after(position, page, model.topics)
        behind += len(found)
        if len(found) < page:
            break
        position = found[-1].id
    return min(behind, MAX_EVENTS_BEHIND)


class ProjectorMetrics(Collector):
    """What the projector process follows: each read model's lag and position, and the age of
    the newest audit checkpoint. Read from the database at each scrape."""

    def __init__(self) -> None:
        self._notifications: Callable[[], Notifications] | None = None
        self._models: list[Watched] = []
        self._newest_checkpoint: datetime | None = None

    def watch(self, notifications: Callable[[], Notifications], models: Sequence[Watched]) -> None:
        self._notifications = notifications
        self._models = list(models)

    def checkpoint_sealed(self, sealed_at: datetime) -> None:
        if self._newest_checkpoint is None or sealed_at > self._newest_checkpoint:
            self._newest_checkpoint = sealed_at

    def collect(self) -> Iterator[GaugeMetricFamily]:
        behind = GaugeMetricFamily(
            "radar_projector_events_behind",
            f"Events in the store a read model has not applied yet (counted up to "
            f"{MAX_EVENTS_BEHIND}).",
            labels=["read_model"],
        )
        position = GaugeMetricFamily(
            "radar_projector_position",
            "The last event-store notification id applied to each read model.",
            labels=["read_model"],
        )
        if self._notifications is not None:
            try:
                notifications = self._notifications()
                for model in self._models:
                    behind.add_metric([model.name], events_behind(notifications, model))
                    position.add_metric([model.name], model.position())
            except Exception as error:  # the database may be restarting: no sample this time
                log.warning("projection lag not read", error=type(error).__name__)
        yield behind
        yield position
        age = GaugeMetricFamily(
            "radar_audit_newest_checkpoint_age_seconds",
            "Seconds since the newest audit checkpoint was sealed (absent before the first).",
        )
        if self._newest_checkpoint is not None:
            age.add_metric([], (datetime.now(UTC) - self._newest_checkpoint).total_seconds())
        yield age


PROJECTOR = ProjectorMetrics()
REGISTRY.register(PROJECTOR)


def checkpoint_sealed(sealed_at: datetime, counted: bool = True) -> None:
    """A checkpoint signed now (`counted`), or the newest one found at start (not counted)."""
    if counted:
        CHECKPOINTS_SEALED.inc()
    PROJECTOR.checkpoint_sealed(sealed_at)


# --- query hooks ------------------------------------------------------------------------------


def gate_decided(
    purpose: str | None, permitted: bool, break_glass: bool, notice: str | None
) -> None:
    """One decision of the gate, after its access-log entry was written. `purpose` is one of
    the register's (the policy names no other) or None."""
    GATE_DECISIONS.labels(purpose or "none", "permit" if permitted else "deny").inc()
    if permitted and break_glass:
        BREAK_GLASS_USES.inc()
    if notice is not None:
        NOTICES_SENT.labels(notice).inc()
