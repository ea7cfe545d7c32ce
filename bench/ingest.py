"""Ingest: signals/s through the real ingest process's batch endpoint into Kafka (validation,
pseudonymisation, receipts included), against a kafka-python producer (acks=all, idempotent)
sending the same serialised records straight to another fresh topic.

The raw baseline is one producer in one process (bench.infra.producer), so the row's figure is
one ingest process; two ingest processes on one port (RADAR_INGEST_PROCESSES=2, as `radar run`
starts them) are measured after it and reported beside it, not as the ratio."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.data import ORGANISATIONS, Recorder, Submission, publisher
from bench.infra import (
    BASELINE_REPEATS,
    BenchUnavailableError,
    Record,
    fresh_topic,
    kafka_crc32c,
    median_of,
    produce,
    producer,
    settings_for,
    sqlite_database,
)
from bench.report import Row, throughput_row
from contracts.vocabulary import Sector
from privacy.credentials import Audience, TokenAuthority
from testkit.processes import RadarProcess, wait_until_ready

WARM_UP_SIGNALS = 200
TARGET_RATIO = 0.3  # issue 15: ingest >= 0.3 of the raw producer


def measure(
    directory: Path,
    submissions: Sequence[Submission],
    recorder: Recorder,
    batch_size: int,
    clients: int,
) -> Row:
    warm_up, timed = submissions[:WARM_UP_SIGNALS], submissions[WARM_UP_SIGNALS:]
    records = [recorder.record(s) for s in timed]
    baseline_elapsed = _raw_producer(records)  # the median of three
    elapsed = _through_ingest(directory / "one", warm_up, timed, batch_size, clients, 1)
    two = _through_ingest(directory / "two", warm_up, timed, batch_size, clients, 2)
    return throughput_row(
        "ingest (HTTP batch -> Kafka)",
        len(timed) / elapsed,
        len(records) / baseline_elapsed,
        TARGET_RATIO,
        signals=len(timed),
        batch=batch_size,
        clients=clients,
        seconds=elapsed,
        baseline_seconds=baseline_elapsed,
        baseline_is="one kafka-python producer (acks=all, idempotent) in one process",
        two_processes_per_second=len(timed) / two,
        kafka_crc32c=kafka_crc32c(),
    )


def _through_ingest(
    directory: Path,
    warm_up: Sequence[Submission],
    timed: Sequence[Submission],
    batch_size: int,
    clients: int,
    processes: int,
) -> float:
    """Seconds for the timed submissions through `processes` ingest processes on one port
    (a topic and database of their own), after the warm-up."""
    with fresh_topic() as topic, sqlite_database(directory / "db") as db:
        settings = settings_for(directory, db, topic).model_copy(
            update={"ingest_processes": processes}
        )
        tokens = _tokens(settings.keys_dir)  # keys exist before the process loads them
        started_processes = [
            RadarProcess("ingest", settings, extra_env={"RADAR_PROCESS_INDEX": str(index)}).start()
            for index in range(processes)
        ]
        try:
            url = f"http://{settings.host}:{settings.ingest_port}"
            for process in started_processes:
                wait_until_ready(url, process)
            _post_all(url, tokens, _batches(warm_up, batch_size), clients)
            started = time.perf_counter()
            _post_all(url, tokens, _batches(timed, batch_size), clients)
            return time.perf_counter() - started
        finally:
            for process in started_processes:
                process.stop()


def _raw_producer(records: Sequence[Record]) -> float:
    with fresh_topic("bench.raw") as topic:
        sender = producer()
        try:
            produce(topic, records[:WARM_UP_SIGNALS], sender)  # connections and metadata

            def once() -> float:
                started = time.perf_counter()
                produce(topic, records, sender)
                return time.perf_counter() - started

            return median_of(BASELINE_REPEATS, once)
        finally:
            sender.close()


def _tokens(keys_dir: Path) -> dict[Sector, str]:
    authority = TokenAuthority(keys_dir)
    return {
        sector: authority.issue(publisher(sector), Audience.INGEST, timedelta(hours=2))
        for sector in ORGANISATIONS
    }


def _batches(
    submissions: Sequence[Submission], size: int
) -> list[tuple[Sector, list[dict[str, Any]]]]:
    """Batches of one sector each (a publisher speaks for one sector), in arrival order."""
    by_sector: dict[Sector, list[dict[str, Any]]] = {}
    batches = []
    for submission in submissions:
        pending = by_sector.setdefault(submission.sector, [])
        pending.append(submission.body)
        if len(pending) == size:
            batches.append((submission.sector, pending))
            by_sector[submission.sector] = []
    batches.extend((sector, rest) for sector, rest in by_sector.items() if rest)
    return batches


def _post_all(
    url: str,
    tokens: dict[Sector, str],
    batches: Sequence[tuple[Sector, list[dict[str, Any]]]],
    clients: int,
) -> None:
    local = threading.local()

    def post(batch: tuple[Sector, list[dict[str, Any]]]) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=60)
        sector, signals = batch
        answer = local.client.post(
            "/v1/signals/batch",
            json={"signals": signals},
            headers={"Authorization": f"Bearer {tokens[sector]}"},
        )
        body = answer.json()
        if answer.status_code != 200 or body["accepted"] != len(signals):
            raise BenchUnavailableError(
                f"ingest answered {answer.status_code}: "
                f"{ {k: v for k, v in body.items() if k != 'results'} }"
            )

    with ThreadPoolExecutor(clients) as pool:
        for _ in pool.map(post, batches):
            pass
