"""The aggregator in the test's own process, on the real broker: records go onto a test topic
as ingest writes them (the household as first known for key, a `schema` header), and the
aggregator records them into a ledger, polled until the store holds every offset sent."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from contracts.correction_v1 import CORRECTION_SCHEMA, SignalCorrectionV1
from contracts.signal_v1 import SIGNAL_SCHEMA, SignalEventV1
from contracts.signal_v2 import SIGNAL_SCHEMA_V2, SignalEventV2
from radar.household import household_id
from services.ledger.application import SignalLedger
from services.ledger.consumer import Aggregator, tracking_name
from services.signals.publisher import serialise
from testkit.services import KAFKA_BOOTSTRAP

WALL_CLOCK = frozenset({"timestamp"})  # when an event was made: all else is the signal's
MAX_POLLS = 400  # a bound on the polls, not a time: each poll returns as soon as it has records
Published = SignalEventV1 | SignalEventV2 | SignalCorrectionV1


@dataclass(frozen=True)
class TopicRecord:
    """One record as the signals topic holds it."""

    key: bytes
    value: bytes
    schema: str | None  # the `schema` header; None for a record without one


def record_of(item: Published) -> TopicRecord:
    """A signal or correction as the ingest service publishes it."""
    if isinstance(item, SignalCorrectionV1):
        return TopicRecord(item.household.encode(), serialise(item), CORRECTION_SCHEMA)
    schema = SIGNAL_SCHEMA_V2 if isinstance(item, SignalEventV2) else SIGNAL_SCHEMA
    value = item.model_dump_json().encode()  # what serialise makes of v1; h1's v2 the same
    return TopicRecord(item.first_known_household().encode(), value, schema)


@dataclass
class InProcessAggregator:
    """A member of a consumer group of its own on `topic`, recording into `ledger`."""

    ledger: SignalLedger
    topic: str
    group: str = field(default_factory=lambda: f"test-aggregator-{uuid.uuid4().hex[:8]}")
    max_records: int = 500  # per poll, so per batch (1: a batch of each record)
    sent: dict[int, int] = field(default_factory=dict)  # partition -> last offset sent

    def __post_init__(self) -> None:
        self.aggregator = Aggregator(
            self.ledger, KAFKA_BOOTSTRAP, self.topic, self.group, self.max_records
        )
        self._producer = KafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP, acks="all")

    def send(self, records: Sequence[TopicRecord]) -> None:
        """Puts the records on the topic, acknowledged, in order."""
        futures = [
            self._producer.send(
                self.topic,
                key=r.key,
                value=r.value,
                headers=[] if r.schema is None else [("schema", r.schema.encode())],
            )
            for r in records
        ]
        self._producer.flush()
        for future in futures:
            metadata = future.get()
            self.sent[metadata.partition] = max(
                metadata.offset, self.sent.get(metadata.partition, -1)
            )

    def publish(self, *items: Published) -> None:
        """Sends the signals and corrections and records them."""
        self.send([record_of(i) for i in items])
        self.catch_up()

    def catch_up(self) -> None:
        """Polls until the store recorded the last offset sent to each partition."""
        for _ in range(MAX_POLLS):
            if all(
                self.ledger.position(tracking_name(self.topic, p)) == last
                for p, last in self.sent.items()
            ):
                return
            self.aggregator.poll_once(timeout_ms=200)
        raise AssertionError(f"the aggregator did not record {self.sent} in {MAX_POLLS} polls")

    def close(self, admin: KafkaAdminClient) -> None:
        self._producer.close()
        self.aggregator._consumer.close(autocommit=False)
        with contextlib.suppress(KafkaError):
            admin.delete_groups([self.group])


@contextlib.contextmanager
def aggregating(
    ledger: SignalLedger, topic: str, admin: KafkaAdminClient, max_records: int = 500
) -> Iterator[InProcessAggregator]:
    """An in-process aggregator on the topic, closed and its group removed afterwards."""
    member = InProcessAggregator(ledger, topic, max_records=max_records)
    try:
        yield member
    finally:
        member.close(admin)


def stored_events(ledger: SignalLedger, household: str, kind: type) -> list[dict[str, Any]]:
    """The household's stored events of one kind (as the store reads them back: upcast), as
    their fields but the moment each was made."""
    stored = ledger.repository.event_store.get(household_id(household))
    return [
        {k: v for k, v in vars(e).items() if k not in WALL_CLOCK}
        for e in stored
        if isinstance(e, kind)
    ]
