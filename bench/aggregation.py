"""Aggregation: signals/s from a Kafka backlog into the event store, offsets tracked, against a
batched INSERT of the same records into a plain table in the same database, committed in
transactions of the same mean size as the aggregator's."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import Tracking

from bench.infra import (
    BASELINE_REPEATS,
    BenchUnavailableError,
    Record,
    end_offsets,
    fresh_topic,
    kafka_crc32c,
    median_of,
    produce,
    unique,
)
from bench.report import Row, throughput_row
from services.database import Database
from services.ledger.application import BatchOutcome, SignalBatch, SignalLedger
from services.ledger.consumer import Aggregator, tracking_name
from services.ledger.store import open_ledger
from services.settings import Settings
from testkit.services import KAFKA_BOOTSTRAP

JOIN_TIMEOUT_SECONDS = 60.0
CATCH_UP_TIMEOUT_SECONDS = 1800.0

# issue 15: aggregation in one process >= 0.10 of the raw INSERT on SQLite, >= 0.25 on PostgreSQL
TARGET_RATIO = {"sqlite": 0.10, "postgresql": 0.25}


def measure(kind: str, db: Database, records: Sequence[Record]) -> Row:
    """Aggregates the records into `db` (left filled, for the rebuild stage) and compares."""
    batch_records = Settings().aggregator_batch_records
    with fresh_topic() as topic:
        ledger = open_ledger(db)
        transactions: list[int] = []
        _count_transactions(ledger, transactions)
        aggregator = Aggregator(
            ledger, KAFKA_BOOTSTRAP, topic, unique("bench-aggregator"), batch_records
        )
        _join(aggregator)
        produce(topic, records)  # the backlog, written while the aggregator waits
        ends = end_offsets(topic)
        started = time.perf_counter()
        applied = 0
        while applied < len(records) or not _caught_up(ledger, topic, ends):
            applied += aggregator.poll_once()
            if time.perf_counter() - started > CATCH_UP_TIMEOUT_SECONDS:
                raise BenchUnavailableError("aggregator did not catch up")
        elapsed = time.perf_counter() - started
        _consumer(aggregator).close(autocommit=False)
        ledger.close()
    mean_transaction = max(1, round(sum(transactions) / len(transactions)))
    baseline_elapsed = median_of(
        BASELINE_REPEATS, lambda: plain_insert(db, records, mean_transaction)
    )
    return throughput_row(
        f"aggregation ({kind})",
        len(records) / elapsed,
        len(records) / baseline_elapsed,
        TARGET_RATIO[kind],
        signals=len(records),
        seconds=elapsed,
        baseline_seconds=baseline_elapsed,
        transactions=len(transactions),
        mean_transaction_records=mean_transaction,
        recorded=aggregator.recorded,
        duplicates=aggregator.duplicates,
        kafka_crc32c=kafka_crc32c(),
    )


def _count_transactions(ledger: SignalLedger, sizes: list[int]) -> None:
    """Notes the size of every batch the ledger commits (one transaction each)."""
    record_batch = ledger.record_batch

    def counted(batch: SignalBatch, tracking: Tracking) -> BatchOutcome:
        sizes.append(len(batch.signals))
        return record_batch(batch, tracking)

    ledger.record_batch = counted  # type: ignore[method-assign]


def _join(aggregator: Aggregator) -> None:
    """Polls the empty topic until the consumer group has assigned the partitions."""
    deadline = time.monotonic() + JOIN_TIMEOUT_SECONDS
    while not _consumer(aggregator).assignment():
        aggregator.poll_once(timeout_ms=100)
        if time.monotonic() > deadline:
            raise BenchUnavailableError("aggregator got no partitions assigned")


def _consumer(aggregator: Aggregator) -> Any:
    """The aggregator's Kafka consumer: the bench waits for its assignment and closes it."""
    return aggregator._consumer


def _caught_up(ledger: SignalLedger, topic: str, ends: dict[int, int]) -> bool:
    return all(
        ledger.position(tracking_name(topic, partition)) == end - 1
        for partition, end in ends.items()
        if end > 0
    )


PLAIN_CREATE_SQLITE = (
    "CREATE TABLE bench_plain_records (id INTEGER PRIMARY KEY, household TEXT, value BLOB)"
)
PLAIN_CREATE_POSTGRES = (
    "CREATE TABLE bench_plain_records (id bigint PRIMARY KEY, household text, value bytea)"
)
PLAIN_INSERT_SQLITE = "INSERT INTO bench_plain_records VALUES (?, ?, ?)"
PLAIN_INSERT_POSTGRES = "INSERT INTO bench_plain_records VALUES (%s, %s, %s)"
PLAIN_DROP = "DROP TABLE bench_plain_records"
PlainRow = tuple[int, str, bytes]


def plain_insert(db: Database, records: Sequence[Record], batch: int) -> float:
    """Seconds to INSERT the records into a plain table, committing every `batch` rows."""
    rows = [(i, key.decode(), value) for i, (key, value) in enumerate(records)]
    chunks = [rows[i : i + batch] for i in range(0, len(rows), batch)]
    if db.is_sqlite:
        return _plain_insert_sqlite(db, chunks)
    return _plain_insert_postgres(db, chunks)


def _plain_insert_sqlite(db: Database, chunks: list[list[PlainRow]]) -> float:
    connection = sqlite3.connect(db.sqlite_path(), isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")  # as the event store's connections
        connection.execute(PLAIN_CREATE_SQLITE)
        started = time.perf_counter()
        for chunk in chunks:
            connection.execute("BEGIN")
            connection.executemany(PLAIN_INSERT_SQLITE, chunk)
            connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.execute(PLAIN_DROP)
        return elapsed
    finally:
        connection.close()


def _plain_insert_postgres(db: Database, chunks: list[list[PlainRow]]) -> float:
    with psycopg.connect(db.url) as connection:
        connection.execute(PLAIN_CREATE_POSTGRES)
        connection.commit()
        started = time.perf_counter()
        cursor = connection.cursor()
        for chunk in chunks:
            cursor.executemany(PLAIN_INSERT_POSTGRES, chunk)
            connection.commit()
        elapsed = time.perf_counter() - started
        connection.execute(PLAIN_DROP)
        connection.commit()
        return elapsed
