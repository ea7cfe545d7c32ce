"""What the ingest tests share: a probe that reads the test's topic back, the receipts table,
police tokens and submissions, and an ingest API in-process (TestClient) on the test's settings."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from sqlalchemy import select

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from services import bootstrap
from services.database import Database
from services.settings import Settings
from services.signals.store import ingest_receipts
from testkit.processes import free_port
from testkit.services import KAFKA_BOOTSTRAP
from testkit.synthetic import SyntheticPopulation

PARTITIONS = 6  # the `topic` fixture's partition count
HOUR = timedelta(hours=1)
POLICE = Publisher("sys-1", "politie-utrecht", Sector.POLICE)


class TopicProbe:
    """Reads back the test's topic: exact record counts from the end offsets (the topic is
    fresh and written by an idempotent, non-transactional producer) and the records themselves.
    """

    def __init__(self, topic: str) -> None:
        self.partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        self._consumer = KafkaConsumer(
            bootstrap_servers=KAFKA_BOOTSTRAP,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            consumer_timeout_ms=3000,
        )
        self._consumer.assign(self.partitions)

    def count(self) -> int:
        return sum(self._consumer.end_offsets(self.partitions).values())

    def records(self) -> list[ConsumerRecord]:
        """Every record on the topic, read from the beginning."""
        expected = self.count()
        self._consumer.seek_to_beginning(*self.partitions)
        found: list[ConsumerRecord] = []
        deadline = time.monotonic() + 10
        while len(found) < expected and time.monotonic() < deadline:
            for batch in self._consumer.poll(timeout_ms=500).values():
                found.extend(batch)
        assert len(found) == expected, f"read {len(found)} of {expected} records"
        return found

    def events(self) -> list[SignalEventV1]:
        return [SignalEventV1.model_validate_json(r.value) for r in self.records()]

    def close(self) -> None:
        self._consumer.close()


def receipts(settings: Settings, named: Iterable[str] = ()) -> dict[str, str]:
    """event id -> organisation, for every row of the receipts table. The table holds only
    the ids' digests: a row of one of the `named` ids shows that id, any other its digest."""
    database = Database.of(settings)
    digests = database.lookup_digests()
    plain = {digests.signal(event_id): event_id for event_id in named}
    engine = database.engine()
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(ingest_receipts.c.event_id, ingest_receipts.c.organisation)
            ).all()
    finally:
        engine.dispose()
    return {plain.get(row.event_id, row.event_id): row.organisation for row in rows}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bearer_for(authority: TokenAuthority, actor: Any, audience: Audience) -> dict[str, str]:
    """The Authorization header of an hour's token for the actor."""
    return bearer(authority.issue(actor, audience, HOUR))


def family_signal(
    kind: str, days_ago: int, address: dict[str, Any], parent: str, child: str
) -> dict[str, Any]:
    """A submission about a synthetic parent and child at an address in Utrecht (VT09); a
    police zorgmelding is high, anything else moderate."""
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": "high" if kind == "zorgmelding" else "moderate",
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "region": "VT09",
        "household": address,
        "persons": [{"bsn": parent, "role": "parent_or_carer"}, {"bsn": child, "role": "child"}],
    }


def police_token(authority: TokenAuthority) -> dict[str, str]:
    return bearer(authority.issue(POLICE, Audience.INGEST, HOUR))


def police_signals(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Valid police submissions about a handful of synthetic households."""
    population = SyntheticPopulation(seed=seed)
    households = [population.household() for _ in range(max(1, count // 4))]
    return [population.signal(households[i % len(households)], Sector.POLICE) for i in range(count)]


def json_post(
    client: TestClient, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return client.post(path, content=body, headers={**headers, "Content-Type": "application/json"})


def ingest_client(settings: Settings) -> TestClient:
    return TestClient(bootstrap.ingest_app(settings), raise_server_exceptions=False)


def closed_port() -> int:
    """A local port nothing listens on."""
    return free_port()


def identifiers_of(signal: dict[str, Any]) -> list[bytes]:
    """The plain identifiers in a submission: BSNs and the postcode in both spellings."""
    postcode = signal["household"]["postcode"]
    normalised = HomeAddress.normalised(postcode, signal["household"]["house_number"]).postcode
    return [p["bsn"].encode() for p in signal["persons"]] + [
        postcode.encode(),
        normalised.encode(),
    ]


def assert_nothing_changed(kafka: TopicProbe, settings: Settings, what: str) -> None:
    assert kafka.count() == 0, f"{what}: a record reached the topic"
    assert receipts(settings) == {}, f"{what}: a receipt was written"


class Background:
    """Runs one call on a daemon thread, so a test can bound how long it waits for an answer
    without being held up by a call that does not return in time."""

    def __init__(self, call: Callable[[], httpx.Response]) -> None:
        self.answer: httpx.Response | BaseException | None = None
        self._call = call
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.answer = self._call()
        except BaseException as error:  # reported by result()
            self.answer = error

    def result(self, deadline: float, what: str) -> httpx.Response:
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        assert not self._thread.is_alive(), f"{what}: no answer in time"
        assert isinstance(self.answer, httpx.Response), f"{what}: raised {self.answer!r}"
        return self.answer
