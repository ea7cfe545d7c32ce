"""Reads back what the radar wrote, for assertions: the event store, the topic, the raw bytes."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from psycopg import sql
from sqlalchemy import Engine, MetaData, select

from radar.timeline import SIGNAL_RECORDED
from services.database import Database
from services.ledger.store import open_ledger
from services.projections.projector import rebuild
from services.timelines.store import TimelineStore

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "errors"}
"""The members of an error answer (RFC 9457 problem details): a reason, never data."""


def recorded_signals(database: Database) -> dict[str, Counter[str]]:
    """household pseudonym -> how often each signal id was recorded in the event store."""
    ledger = open_ledger(database)
    found: dict[str, Counter[str]] = defaultdict(Counter)
    try:
        for _id, event in ledger.notifications.all_readable():
            if isinstance(event, SIGNAL_RECORDED):
                found[event.household][str(event.signal_id)] += 1
    finally:
        ledger.close()
    return found


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def topic_records(bootstrap: str, topic: str, partitions: int = 6) -> list[Any]:
    """Every record on the topic, read from the beginning."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000
    )
    assigned = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    records = list(consumer)
    consumer.close()
    return records


def database_bytes(database: Database) -> bytes:
    """Everything stored in the database, as raw bytes (SQLite files, or every PostgreSQL row)."""
    if database.is_sqlite:
        path = database.sqlite_path()
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())
    url = database.url
    chunks: list[bytes] = []
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "select schemaname, tablename from pg_tables "
            "where schemaname not in ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("select * from {}").format(sql.Identifier(schema, table))
            for row in connection.execute(query):
                chunks.extend(_as_bytes(value) for value in row)
    return b"\n".join(chunks)


def tables_bytes(engine: Engine, tables: Iterable[str]) -> list[bytes]:
    """Every stored row of the named tables, one haystack per row (each column as the bytes
    the database gave): what a test scans for a pseudonym or a signal id in clear."""
    reflected = MetaData()
    reflected.reflect(engine, only=list(tables))
    with engine.connect() as connection:
        return [
            b"|".join(_as_bytes(value) for value in row)
            for table in reflected.sorted_tables
            for row in connection.execute(select(table))
        ]


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def files_bytes(directory: Path, patterns: Iterable[str] = ("**/*.log", "**/*.out")) -> bytes:
    """The contents of every log and output file below a directory."""
    return b"\n".join(path.read_bytes() for pattern in patterns for path in directory.glob(pattern))


def identifiers_found(haystack: bytes, identifiers: Iterable[str]) -> list[str]:
    """Which identifiers occur in the bytes."""
    return sorted({i for i in identifiers if i.encode() in haystack})


def timeline_store(database: Database) -> TimelineStore:
    """The timelines on the database, with its keys (as the radar's processes open them)."""
    engine = database.engine()
    return TimelineStore(engine, database.row_sealer(engine))


def assert_read_models_equal_rebuild(database: Database, tmp_path: Path) -> None:
    """Invariant 4: the live timeline equals one rebuilt from scratch from the event store."""
    live = timeline_store(database)
    rebuilt = timeline_store(Database(f"sqlite:///{tmp_path / 'rebuild.db'}", database.keys_dir))
    ledger = open_ledger(database)
    try:
        rebuild(ledger, rebuilt, 1000)
    finally:
        ledger.close()
    assert live.position() >= rebuilt.position(), "the live projection had not caught up"
    assert live.dump() == rebuilt.dump()
    live.engine.dispose()
    rebuilt.engine.dispose()


def every_accepted_recorded_once(database: Database, accepted_ids: set[str]) -> None:
    """Invariant 3: each accepted signal is in the event store exactly once, nothing else is."""
    every: Counter[str] = Counter()
    for counts in recorded_signals(database).values():
        every.update(counts)
    assert set(every) == accepted_ids
    assert max(every.values(), default=1) == 1, "a signal was recorded more than once"


def wait_for_projection(database: Database, timeout: float = 120) -> None:
    """Waits until the live timeline holds every signal recorded in the event store."""
    live = timeline_store(database)

    def caught_up() -> bool:
        recorded = sum(sum(c.values()) for c in recorded_signals(database).values())
        return len(live.all_entries()) >= recorded

    try:
        wait_for(caught_up, timeout, "the live projection to catch up")
    finally:
        live.engine.dispose()
