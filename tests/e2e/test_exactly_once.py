"""Exactly once (invariant 3): SIGKILL the aggregator again and again while signals flow; in
the end every accepted signal is recorded once, and the timeline equals a full rebuild. A record
consumed twice, or a signal re-submitted, changes nothing."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaProducer

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from services.database import Database
from services.settings import Settings
from testkit.processes import RadarProcess, running_radar
from testkit.synthetic import SyntheticPopulation, sector_of
from tests.support.inspection import (
    assert_read_models_equal_rebuild,
    recorded_signals,
    topic_records,
    wait_for,
    wait_for_projection,
)

SIGNALS = 3000
BATCH = 100
KILLS = 6


def _tokens(authority: TokenAuthority) -> dict[Sector, str]:
    return {
        sector: authority.issue(
            Publisher(f"sys-{sector}", f"org-{sector}".replace("_", "-"), sector),
            Audience.INGEST,
            timedelta(hours=1),
        )
        for sector in Sector
    }


def _stream(
    ingest_url: str,
    tokens: dict[Sector, str],
    signals: list[dict[str, Any]],
    accepted: list[dict[str, Any]],
) -> None:
    """Publishes the signals in batches per sector, keeping those the API accepted."""
    with httpx.Client(timeout=60) as client:
        for start in range(0, len(signals), BATCH):
            by_sector: dict[Sector, list[dict[str, Any]]] = defaultdict(list)
            for signal in signals[start : start + BATCH]:
                by_sector[sector_of(signal["signal_type"])].append(signal)
            for sector, batch in by_sector.items():
                answer = client.post(
                    f"{ingest_url}/v1/signals/batch",
                    json={"signals": batch},
                    headers={"Authorization": f"Bearer {tokens[sector]}"},
                )
                assert answer.status_code == 200, answer.text
                results = answer.json()["results"]
                accepted.extend(
                    s for s, r in zip(batch, results, strict=True) if r["status"] == "accepted"
                )


def test_aggregator_killed_repeatedly_records_every_signal_once(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    population = SyntheticPopulation(seed=20261128)
    signals: list[dict[str, Any]] = []
    while len(signals) < SIGNALS:
        household = population.household()
        signals.extend(
            population.signal(household) for _ in range(population.signals_per_household())
        )
    signals = signals[:SIGNALS]
    random.Random(1).shuffle(signals)
    authority = TokenAuthority(settings.keys_dir)
    tokens = _tokens(authority)
    accepted: list[dict[str, Any]] = []
    chaos = random.Random(42)

    with running_radar(settings) as radar:
        radar.processes["aggregator"].kill()  # from here on the test decides when it runs
        publisher = threading.Thread(
            target=_stream, args=(radar.ingest_url, tokens, signals, accepted)
        )
        publisher.start()
        for _ in range(KILLS):
            aggregator = RadarProcess("aggregator", radar.settings).start()
            time.sleep(chaos.uniform(1.0, 4.0))
            aggregator.kill()
        publisher.join(timeout=300)
        assert not publisher.is_alive()
        aggregator = RadarProcess("aggregator", radar.settings).start()
        try:
            wait_for(
                lambda: (
                    sum(sum(c.values()) for c in recorded_signals(database).values())
                    >= len(accepted)
                ),
                180,
                "every accepted signal in the event store",
            )
        finally:
            aggregator.stop()
        wait_for_projection(database)

    assert len(accepted) == SIGNALS
    recorded = recorded_signals(database)
    every = Counter[str]()
    for counts in recorded.values():
        every.update(counts)
    assert set(every) == {s["event_id"] for s in accepted}
    assert max(every.values()) == 1, "a signal was recorded more than once"
    households_expected = Counter(
        (s["household"]["postcode"], s["household"]["house_number"]) for s in accepted
    )
    assert sorted(households_expected.values()) == sorted(
        sum(c.values()) for c in recorded.values()
    )
    assert_read_models_equal_rebuild(database, tmp_path)


def test_the_same_record_consumed_twice_is_recorded_once(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    tokens = _tokens(authority)
    population = SyntheticPopulation(seed=7)
    household = population.household()
    signal = population.signal(household, Sector.POLICE)
    with running_radar(settings) as radar:
        first = httpx.post(
            f"{radar.ingest_url}/v1/signals",
            json=signal,
            headers={"Authorization": f"Bearer {tokens[Sector.POLICE]}"},
        )
        assert first.status_code == 202
        again = httpx.post(
            f"{radar.ingest_url}/v1/signals",
            json=signal,
            headers={"Authorization": f"Bearer {tokens[Sector.POLICE]}"},
        )
        assert again.status_code == 200 and again.json()["status"] == "duplicate"
        wait_for(lambda: len(recorded_signals(database)) == 1, 30, "the signal in the store")
        # The same record delivered again by Kafka (a producer retry or a replay).
        (stored_household,) = recorded_signals(database)
        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        topic_record = _only_record_value(settings)
        for _ in range(2):
            producer.send(settings.signals_topic, key=stored_household.encode(), value=topic_record)
        producer.flush()
        producer.close()
        assert SignalEventV1.model_validate_json(topic_record).household == stored_household
        # A second aggregator group re-reads the whole topic from the start (offsets lost).
        replay = RadarProcess(
            "aggregator", radar.settings.model_copy(update={"consumer_group": "a-fresh-group"})
        ).start()
        try:
            time.sleep(5)
        finally:
            replay.stop()
        wait_for_projection(database)
    recorded = recorded_signals(database)
    assert recorded == {stored_household: Counter({signal["event_id"]: 1})}
    assert_read_models_equal_rebuild(database, tmp_path)


def _only_record_value(settings: Settings) -> bytes:
    (record,) = topic_records(settings.kafka_bootstrap, settings.signals_topic)
    return bytes(record.value)
