"""Shared pieces of the fault scenarios: synthetic streams, publishers with the SDK, a private
Kafka broker that a test may stop and start, and cheap progress polls of the processes."""

from __future__ import annotations

import os
import subprocess
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import text

from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from publisher_sdk import PublisherClient, PublishResult, RetryPolicy
from radar.timeline import SIGNAL_RECORDED
from services.database import Database
from services.ledger.store import open_ledger
from services.timelines.store import TimelineStore
from testkit.processes import REPO, free_port
from testkit.synthetic import SyntheticPopulation, sector_of
from tests.support.inspection import wait_for

KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka.sh"


def synthetic_stream(count: int, seed: int) -> list[dict[str, Any]]:
    """`count` signals about skewed households, in arrival order."""
    population = SyntheticPopulation(seed=seed)
    signals: list[dict[str, Any]] = []
    while len(signals) < count:
        household = population.household()
        signals.extend(
            population.signal(household) for _ in range(population.signals_per_household())
        )
    return signals[:count]


def publisher_tokens(keys_dir: Path) -> dict[Sector, str]:
    authority = TokenAuthority(keys_dir)
    return {
        sector: authority.issue(
            Publisher(f"sys-{sector}", f"org-{sector}".replace("_", "-"), sector),
            Audience.INGEST,
            timedelta(hours=2),
        )
        for sector in Sector
    }


@dataclass
class PublishingRun:
    """Publishers (one SDK client per sector and worker) streaming signals in the background."""

    ingest_url: str
    tokens: dict[Sector, str]
    signals: list[dict[str, Any]]
    workers: int = 4
    batch_size: int = 250
    results: list[PublishResult] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> PublishingRun:
        shares: dict[tuple[int, Sector], list[dict[str, Any]]] = defaultdict(list)
        for index, signal in enumerate(self.signals):
            shares[(index % self.workers, sector_of(signal["signal_type"]))].append(signal)
        for (_, sector), share in shares.items():
            thread = threading.Thread(target=self._publish, args=(sector, share), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _publish(self, sector: Sector, share: list[dict[str, Any]]) -> None:
        retry = RetryPolicy(max_attempts=60, base_seconds=0.2, cap_seconds=3.0)
        with PublisherClient(
            self.ingest_url, self.tokens[sector], batch_size=self.batch_size, retry=retry
        ) as client:
            for start in range(0, len(share), self.batch_size):
                results = client.publish(share[start : start + self.batch_size])
                with self._lock:
                    self.results.extend(results)

    def wait(self, timeout: float) -> list[PublishResult]:
        for thread in self.threads:
            thread.join(timeout=timeout)
            assert not thread.is_alive(), "publishers did not finish in time"
        return self.results


@dataclass(frozen=True)
class Broker:
    """A Kafka broker of the test's own, on its own ports and data directory."""

    bootstrap: str
    environment: dict[str, str]

    def stop(self) -> None:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=self.environment, check=True)

    def start(self) -> None:
        subprocess.run(
            [str(KAFKA_SCRIPT), "start"], env=self.environment, check=True, capture_output=True
        )


@contextmanager
def private_broker(directory: Path) -> Iterator[Broker]:
    """Starts a second broker for tests that stop it; cleans it up afterwards."""
    port, controller = free_port(), free_port()
    environment = dict(
        os.environ,
        RADAR_KAFKA_DIR=str(directory / f"kafka-{uuid.uuid4().hex[:6]}"),
        RADAR_KAFKA_PORT=str(port),
        RADAR_KAFKA_CONTROLLER_PORT=str(controller),
    )
    broker = Broker(f"127.0.0.1:{port}", environment)
    broker.start()
    try:
        yield broker
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "clean"], env=environment, check=False)


class Progress:
    """How far the aggregator and the projector have got, cheap enough to poll every 0.2 s.

    tests.support.inspection answers the same questions by opening the ledger and reading and
    decrypting every stored event, on each poll: with tens of thousands of signals that is
    seconds of CPU per poll, taken from the very processes the test waits for. Here the
    signals are counted in SQL (an event's topic is stored in the clear) and the projector is
    done when the ledger holds no event of its topics past its position. The tests' final
    checks still read everything back through inspection.
    """

    def __init__(self, database: Database) -> None:
        self._ledger = open_ledger(database)
        self._timeline = TimelineStore(database.engine())
        events = self._ledger.recorder.events_table_name  # type: ignore[attr-defined]
        self._count = text(f"select count(*) from {events} where topic = :topic")  # noqa: S608

    def recorded(self) -> int:
        """Signals recorded in the event store so far (a signal recorded twice counts twice)."""
        with self._timeline.engine.connect() as connection:
            found = connection.execute(self._count, {"topic": get_topic(SIGNAL_RECORDED)})
            return int(found.scalar_one())

    def projected(self) -> bool:
        """The timeline has applied every event it reads that the store holds now."""
        after = self._timeline.position()
        return not self._ledger.notifications.after(after, 1, self._timeline.topics)

    def wait_recorded(self, count: int, timeout: float, what: str) -> None:
        wait_for(lambda: self.recorded() >= count, timeout, what)

    def wait_projected(
        self, projector_output: Callable[[], str] | None = None, timeout: float = 120
    ) -> None:
        """Waits for the timeline; a timeout names its position, the log's next event of its
        topics and the last lines the projector wrote (stuck or only slow?)."""
        try:
            wait_for(self.projected, timeout, "the live projection to catch up")
        except AssertionError as timed_out:
            after = self._timeline.position()
            pending = self._ledger.notifications.after(after, 1, self._timeline.topics)
            next_id = pending[0].id if pending else None
            found = f"timeline at {after}, next event of its topics {next_id}"
            output = projector_output() if projector_output else ""
            raise AssertionError(f"{timed_out}: {found}; projector wrote:\n{output}") from None

    def close(self) -> None:
        self._ledger.close()
        self._timeline.engine.dispose()


@contextmanager
def progress_of(database: Database) -> Iterator[Progress]:
    progress = Progress(database)
    try:
        yield progress
    finally:
        progress.close()
