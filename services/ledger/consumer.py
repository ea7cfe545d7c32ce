"""Consumes the signals topic and records each record exactly once in the signal ledger.

Exactly once comes from the store, not from Kafka: a partition's batch and its last offset are
written in one database transaction (tracking record named kafka:<topic>:<partition>). On every
assignment the consumer seeks to the stored offset + 1; records at or below it are dropped; a
batch whose offset was already stored is rolled back by the store. Kafka's committed offsets are
kept up to date as a hint for tools, never trusted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, Tracking
from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from contracts.correction_v1 import CORRECTION_SCHEMA, SignalCorrectionV1
from contracts.signal_v1 import SIGNAL_SCHEMA, SignalEventV1
from contracts.signal_v2 import SIGNAL_SCHEMA_V2, SignalEventV2
from services import metrics
from services.ledger.application import SignalBatch, SignalLedger
from services.logs import REQUEST_ID_RECORD_HEADER

log = structlog.get_logger("radar.aggregator")
RETRY_PAUSE_SECONDS = 1.0


def tracking_name(topic: str, partition: int) -> str:
    """The tracking record name of one Kafka partition."""
    return f"kafka:{topic}:{partition}"


class _SeekToStoredOffsets(ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, resume each partition right after the offset the store recorded."""

    def __init__(self, aggregator: Aggregator) -> None:
        self._aggregator = aggregator

    def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        log.info("partitions revoked", partitions=sorted(tp.partition for tp in revoked))
        # Another member may write these partitions' households from now on: the ledger
        # forgets every cached aggregate, so none is trusted stale (nor kept after the
        # partitions went elsewhere).
        self._aggregator.forget_cached()

    def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        log.info("partitions assigned", partitions=sorted(tp.partition for tp in assigned))
        try:
            self._aggregator.seek_to_stored(assigned)
        except Exception as error:  # database unreachable: seek before the next batch instead
            log.warning("seek on assignment failed", error=type(error).__name__)
            self._aggregator.must_rewind()


class Aggregator:
    """One member of the aggregator consumer group."""

    def __init__(
        self,
        ledger: SignalLedger,
        bootstrap: str,
        topic: str,
        group: str,
        max_records: int,
    ) -> None:
        self._ledger = ledger
        self._topic = topic
        self._max_records = max_records
        self._consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id="radar-aggregator",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=max_records,
            session_timeout_ms=10000,
            heartbeat_interval_ms=1000,
        )
        self._consumer.subscribe([topic], listener=_SeekToStoredOffsets(self))
        self.recorded = 0
        self.duplicates = 0
        self.corrected = 0
        self.uncorrectable = 0
        self._must_rewind = False

    def must_rewind(self) -> None:
        """Asks for a seek to the stored offsets before the next batch is recorded."""
        self._must_rewind = True

    def forget_cached(self) -> None:
        """Drops the ledger's cached aggregates (a rebalance took partitions away)."""
        self._ledger.forget_cached_aggregates()

    def seek_to_stored(self, partitions: Sequence[TopicPartition]) -> None:
        """Positions the consumer on the first record the store has not yet applied."""
        for tp in partitions:
            stored = self._ledger.position(tracking_name(tp.topic, tp.partition))
            self._consumer.seek(tp, 0 if stored is None else stored + 1)

    def run(self, stop: threading.Event) -> None:
        """Polls and records until stopped; failures pause, rewind to the store and retry."""
        try:
            while not stop.is_set():
                try:
                    self.poll_once()
                except Exception as error:  # broker or database outage: rewind and retry
                    log.warning(
                        "batch failed; will rewind to stored offsets", error=type(error).__name__
                    )
                    self._must_rewind = True
                    time.sleep(RETRY_PAUSE_SECONDS)
        finally:
            self._consumer.close(autocommit=False)

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Records one poll's worth of records; returns how many records it applied.

        After a failure the consumer's position may lie past records that were never stored,
        so the next poll first seeks every partition back to the stored offsets.
        """
        if self._must_rewind:
            self.seek_to_stored(list(self._consumer.assignment()))
            self._must_rewind = False
        polled: dict[TopicPartition, list[Any]] = self._consumer.poll(
            timeout_ms=timeout_ms, max_records=self._max_records
        )
        applied = 0
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, records in polled.items():
            last_offset = self._record_partition(tp, records)
            if last_offset is not None:
                offsets[tp] = OffsetAndMetadata(last_offset + 1, "", -1)
                applied += len(records)
        if offsets:
            self._commit_hint(offsets)
        self._sample_lag()
        return applied

    def _sample_lag(self) -> None:
        """Consumer lag for the metrics, here because the consumer is not thread-safe."""
        try:
            metrics.CONSUMER_LAG_SAMPLES.sample(self._consumer, self._next_offset)
        except Exception as error:  # a metric is never worth a rewind
            log.info("consumer lag not sampled", error=type(error).__name__)

    def _next_offset(self, tp: TopicPartition) -> int:
        stored = self._ledger.position(tracking_name(tp.topic, tp.partition))
        return 0 if stored is None else stored + 1

    def _record_partition(self, tp: TopicPartition, records: list[Any]) -> int | None:
        source = tracking_name(tp.topic, tp.partition)
        stored = self._ledger.position(source)
        fresh = [r for r in records if stored is None or r.offset > stored]
        if not fresh:
            return None
        batch = SignalBatch([s for s in map(_decode, fresh) if s is not None])
        before = self._ledger.recorder.max_notification_id() or 0
        try:
            outcome = self._ledger.record_batch(batch, Tracking(source, fresh[-1].offset))
        except IntegrityError:
            # Another member recorded (part of) this batch first, or another process wrote
            # one of its aggregates since this one cached it (the ledger dropped those): resume
            # after the stored offset, which reads the records again on fresh state.
            log.info("batch conflicted with a write elsewhere; seeking", partition=tp.partition)
            self.seek_to_stored([tp])
            return None
        self.recorded += outcome.recorded
        self.duplicates += outcome.duplicates
        metrics.records_recorded(outcome.recorded, outcome.duplicates)
        self.corrected += outcome.corrected
        self.uncorrectable += len(outcome.uncorrectable)
        log.info(  # with the requests' ids: an operator follows a request from ingest to here
            "signals recorded",
            partition=tp.partition,
            offsets=f"{fresh[0].offset}-{fresh[-1].offset}",
            recorded=outcome.recorded,
            duplicates=outcome.duplicates,
            request_ids=sorted({i for i in map(_request_id, fresh) if i is not None}),
            positions=f"{before + 1}-{self._ledger.recorder.max_notification_id()}",
        )
        for correction_id in outcome.uncorrectable:  # its id only: the reason is free text
            log.warning(
                "correction of an unknown or retracted signal skipped",
                correction_id=str(correction_id),
                partition=tp.partition,
            )
        return int(fresh[-1].offset)

    def _commit_hint(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        try:
            self._consumer.commit(offsets)
        except KafkaError as error:  # e.g. during a rebalance; the store is the truth
            log.info("offset commit skipped", error=type(error).__name__)


_CONTRACTS: dict[str, type[SignalEventV1] | type[SignalEventV2] | type[SignalCorrectionV1]] = {
    SIGNAL_SCHEMA: SignalEventV1,
    SIGNAL_SCHEMA_V2: SignalEventV2,  # recorded as it is: never upcast a v1 on this path
    CORRECTION_SCHEMA: SignalCorrectionV1,
}


def _request_id(record: Any) -> str | None:
    """The id of the ingest request that published the record (its `request-id` header)."""
    found = dict(record.headers or ()).get(REQUEST_ID_RECORD_HEADER)
    return None if found is None else bytes(found).decode(errors="replace")[:64]


def _decode(record: Any) -> SignalEventV1 | SignalEventV2 | SignalCorrectionV1 | None:
    """The record's signal (v1 or v2) or correction, by its `schema` header (a record without
    one is a v1 signal, as before corrections and v2), or None for a record that is not valid:
    one whose schema is unknown, or whose content does not hold to its schema.

    Such a record cannot come from the ingest service; it is logged by position only (its
    content might hold anything) and skipped, and its offset is still recorded.
    """
    schema = dict(record.headers or ()).get("schema") or SIGNAL_SCHEMA.encode()
    contract = _CONTRACTS.get(bytes(schema).decode(errors="replace"))
    try:
        if contract is None:
            raise TypeError("unknown schema")
        return contract.model_validate_json(record.value)
    except (ValidationError, TypeError):
        log.error("invalid record skipped", partition=record.partition, offset=record.offset)
        return None
