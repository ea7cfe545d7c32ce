"""Aggregation in parallel: signals/s of two `radar aggregator` processes (one consumer group,
six partitions) against one, from the same backlog into fresh PostgreSQL databases, in one run.
PostgreSQL only: SQLite takes one writer at a time, so a second aggregator there only waits."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.aggregation import CATCH_UP_TIMEOUT_SECONDS, JOIN_TIMEOUT_SECONDS, _caught_up
from bench.infra import (
    PARTITIONS,
    BenchUnavailableError,
    Record,
    end_offsets,
    fresh_topic,
    postgres_database,
    produce,
    settings_for,
)
from bench.report import Row, throughput_row
from services.ledger.store import open_ledger
from testkit.processes import RadarProcess, free_port

TARGET = 1.5
"""Two processes against one, same run (issue 15)."""


def measure(directory: Path, records: Sequence[Record]) -> Row:
    one = _rate(directory / "one", records, 1)
    two = _rate(directory / "two", records, 2)
    return throughput_row(
        "aggregation, 2 processes vs 1 (postgresql)",
        two,
        one,
        TARGET,
        signals=len(records),
        one_process_per_second=one,
        two_processes_per_second=two,
    )


def _rate(directory: Path, records: Sequence[Record], processes: int) -> float:
    """Signals/s from the moment the backlog is produced until every partition is recorded,
    the processes started and their partitions assigned beforehand."""
    with fresh_topic() as topic, postgres_database(directory / "db") as db:
        settings = settings_for(directory, db, topic).model_copy(
            update={"aggregator_metrics_port": free_port(), "aggregators": processes}
        )
        ledger = open_ledger(db)  # the schema, made once before the processes meet it
        started = [
            RadarProcess(
                "aggregator", settings, extra_env={"RADAR_PROCESS_INDEX": str(index)}
            ).start()
            for index in range(processes)
        ]
        try:
            _wait_assigned(settings.metrics_ports("aggregator"), started)
            clock = time.perf_counter()
            produce(topic, records)
            ends = end_offsets(topic)
            while not _caught_up(ledger, topic, ends):
                if time.perf_counter() - clock > CATCH_UP_TIMEOUT_SECONDS:
                    raise BenchUnavailableError("the aggregators did not catch up")
                time.sleep(0.1)
            elapsed = time.perf_counter() - clock
        finally:
            for process in started:
                process.stop()
            ledger.close()
    return len(records) / elapsed


def _wait_assigned(ports: list[int], processes: list[RadarProcess]) -> None:
    """Until every process has partitions and together they hold all of them (the lag gauge
    has one sample per assigned partition)."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not all(process.alive() for process in processes):
            raise BenchUnavailableError(f"an aggregator ended: {processes[0].tail()}")
        held = [_partitions(port) for port in ports]
        if all(held) and len(set().union(*held)) == PARTITIONS:
            return
        time.sleep(0.2)
    raise BenchUnavailableError("the aggregators' partitions were not assigned in time")


def _partitions(port: int) -> set[str]:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return set()
    return {
        sample.labels["partition"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "radar_aggregator_consumer_lag"
    }
