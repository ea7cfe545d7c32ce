"""`radar run` with two aggregators (one consumer group) and two ingest processes (one port,
SO_REUSEPORT): both of each do work, and every accepted signal is recorded exactly once;
`radar status` reports each process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from services.database import Database
from services.settings import Settings
from services.status.cli import probe_all
from testkit.processes import checkpoints_topic, on_free_ports
from tests.chaos.radar_run import RadarRun
from tests.chaos.scenario import PublishingRun, progress_of, publisher_tokens, synthetic_stream
from tests.support.inspection import every_accepted_recorded_once

SIGNALS = 3000


@pytest.fixture
def removed_topics(kafka_admin: KafkaAdminClient, settings: Settings) -> Iterator[None]:
    yield
    names = {settings.signals_topic, checkpoints_topic(settings)}
    kafka_admin.delete_topics(sorted(names & set(kafka_admin.list_topics())))


def _counted(port: int, metric: str, **labels: str) -> float:
    """The sum of a counter's samples (with these labels) on one process's metrics port."""
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    return sum(
        sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == metric and labels.items() <= sample.labels.items()
    )


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # the deployment for N > 1
def test_two_aggregators_and_two_ingest_processes_record_every_signal_once(
    settings: Settings, database: Database, removed_topics: None
) -> None:
    ported = on_free_ports(settings, aggregators=2, ingest_processes=2)
    run = RadarRun(ported).start()
    try:
        run.wait_up()
        assert set(run.children()) == {
            "aggregator",
            "aggregator-2",
            "ingest",
            "ingest-2",
            "projector",
            "query",
        }
        tokens = publisher_tokens(ported.keys_dir)
        signals = synthetic_stream(SIGNALS, seed=1515)
        # many short connections, so the kernel spreads them over both ingest processes
        results = PublishingRun(run.url("ingest"), tokens, signals, workers=4, batch_size=50)
        accepted = {r.event_id for r in results.start().wait(timeout=300) if r.delivered}
        with progress_of(database) as progress:
            progress.wait_recorded(len(accepted), 180, "both aggregators")
        parts: dict[str, Any] = {part.name: part for part in probe_all(ported)}
        served = [
            _counted(port, "radar_ingest_signals_total", outcome="accepted")
            for port in ported.metrics_ports("ingest")
        ]
        recorded = [
            _counted(port, "radar_aggregator_records_recorded_total")
            for port in ported.metrics_ports("aggregator")
        ]
    finally:
        status = run.stop()
    assert len(accepted) == SIGNALS
    every_accepted_recorded_once(database, accepted)
    assert all(count > 0 for count in served), served  # both ingest processes took signals
    assert sum(served) == SIGNALS
    assert all(count > 0 for count in recorded), recorded  # both aggregators own partitions
    assert sum(recorded) == SIGNALS
    assert parts["aggregator"].state == "up", parts["aggregator"]
    assert parts["aggregator"].facts["processes_up"] == 2
    assert len(parts["aggregator"].facts["partitions"]) == ported.signals_partitions
    assert parts["ingest"].state == "up" and parts["ingest"].facts["processes_up"] == 2
    assert status == 0, run.output()[-3000:]
