"""What every stage needs: the real broker and database server, fresh topics and databases,
settings for radar processes on free ports (run by testkit, as the tests run them), and a few
measurements (RSS, percentiles)."""

from __future__ import annotations

import math
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy.engine import make_url

from services.database import Database
from services.kafka_topics import wait_for_leaders
from services.settings import Settings
from testkit.processes import free_port
from testkit.services import KAFKA_BOOTSTRAP
from testkit.services import POSTGRES_URL as TEST_POSTGRES_URL

POSTGRES_URL = os.environ.get("RADAR_BENCH_POSTGRES_URL", TEST_POSTGRES_URL)
PARTITIONS = 6
BASELINE_REPEATS = 3  # baselines are short: take the median of three
Record = tuple[bytes, bytes]  # (key, value) as the ingest service writes them


class BenchUnavailableError(Exception):
    """Something the benchmark needs (Kafka, PostgreSQL, a radar process) is not there."""


def preflight() -> str:
    """Checks the broker and the database server; returns PostgreSQL's version."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=10000)
        admin.list_topics()
        admin.close()
    except Exception as error:
        raise BenchUnavailableError(
            f"Kafka not reachable at {KAFKA_BOOTSTRAP} ({error!r}); `make kafka-up`"
        ) from error
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5) as connection:
            row = connection.execute("show server_version").fetchone()
    except Exception as error:
        raise BenchUnavailableError(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({error!r}); `make pg-up`"
        ) from error
    return str(row[0]) if row else "?"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@contextmanager
def fresh_topic(prefix: str = "bench.signals") -> Iterator[str]:
    """A new topic with the production partition count; deleted afterwards."""
    name = unique(prefix)
    admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=30000)
    try:
        admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
        if not wait_for_leaders(KAFKA_BOOTSTRAP, name, PARTITIONS):
            raise BenchUnavailableError(f"topic {name} got no leaders in 30 s")
        yield name
    finally:
        try:
            admin.delete_topics([name])
        except Exception as error:  # a leftover topic is harmless; say so and go on
            print(f"  (could not delete topic {name}: {type(error).__name__})", file=sys.stderr)
        admin.close()


def end_offsets(topic: str) -> dict[int, int]:
    """The next offset of every partition: how far a consumer must get to have read it all."""
    consumer = KafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP)
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        return {
            tp.partition: int(offset) for tp, offset in consumer.end_offsets(partitions).items()
        }
    finally:
        consumer.close()


def producer() -> KafkaProducer:
    """A producer configured like the ingest service's: acks from all replicas, idempotent,
    kafka-python's own metrics off (as ingest has them: nothing reads them), so the baseline
    is not slowed by what ingest does not do."""
    return KafkaProducer(
        bootstrap_servers=KAFKA_BOOTSTRAP,
        acks="all",
        enable_idempotence=True,
        metrics_enabled=False,
        linger_ms=2,
        max_in_flight_requests_per_connection=5,
    )


def produce(topic: str, records: Sequence[Record], sender: KafkaProducer | None = None) -> None:
    """Sends the records and waits until every one is acknowledged."""
    own = sender is None
    sender = sender or producer()
    try:
        futures = [sender.send(topic, key=key, value=value) for key, value in records]
        sender.flush()
        failed = sum(1 for f in futures if not f.succeeded())
        if failed:
            raise BenchUnavailableError(f"{failed} records not acknowledged by Kafka")
    finally:
        if own:
            sender.close()


@contextmanager
def sqlite_database(directory: Path) -> Iterator[Database]:
    directory.mkdir(parents=True, exist_ok=True)
    yield Database(f"sqlite:///{directory / 'radar.db'}", _keys_beside(directory))


def _keys_beside(directory: Path) -> Path:
    """The keys directory of the processes settings_for(directory.parent, ...) starts: the
    KEK that wraps the event store's data keys must be the same in the bench and in them."""
    return directory.parent / "data" / "keys"


@contextmanager
def postgres_database(directory: Path) -> Iterator[Database]:
    """A PostgreSQL database of its own on the server, dropped afterwards."""
    name = unique("radar_bench").replace("-", "_")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        yield Database(url, _keys_beside(directory))
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(kind: str, directory: Path) -> Iterator[Database]:
    if kind == "sqlite":
        with sqlite_database(directory) as db:
            yield db
    else:
        with postgres_database(directory) as db:
            yield db


@contextmanager
def workspace() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="radar-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def settings_for(directory: Path, db: Database, topic: str) -> Settings:
    """Settings for the radar processes of one stage: own data dir, database, topic, ports."""
    return Settings(
        data_dir=directory / "data",
        database_url=db.url,
        kafka_bootstrap=KAFKA_BOOTSTRAP,
        signals_topic=topic,
        consumer_group=unique("bench-aggregator"),
        ingest_port=free_port(),
        query_port=free_port(),
        ingest_metrics_port=free_port(),
    )


def rss_kib(pid: int) -> int:
    """Resident set size of a process, from /proc (VmRSS, in KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchUnavailableError(f"no VmRSS for pid {pid}")


def median_of(repeats: int, measure: Callable[[], float]) -> float:
    """The median of several runs of a short measurement (the machine is noisy)."""
    return statistics.median(measure() for _ in range(repeats))


def kafka_crc32c() -> str:
    """Which CRC-32C kafka-python uses for record batches: the C extension or pure Python."""
    from kafka.record import util

    return "python" if util._crc32c is util.crc32c_py else "c"


def load_average() -> float:
    """The one-minute load average: above the CPU count, other work competed with the run."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank; values need not be sorted."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
