"""One measurement: a synthetic world's signals (all parties', or only some: the single-party
baseline) through the real pipeline, on a fresh topic and database of their own.

The signals go through the ingest use cases (validation, pseudonymisation, the vault, Kafka),
received at the simulated day (the ingest's clock), so every score and alert the aggregator
makes is dated in simulated time: the aggregator scores at the latest signal's receipt, so the
alerts are what analysts would have seen on each simulated day. The aggregator consumes the
topic into the event store, the projector fills the worklist; what was recorded about each
simulated household is read back from there. Nothing of the pipeline is re-implemented here.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from privacy.actors import Publisher
from radar.household import Household
from radar.risk_model_v2 import AnyRiskModel
from radar.simulation.measures import Seen
from radar.simulation.world import World
from services.casework.store import WorklistStore
from services.kafka_topics import wait_for_leaders
from services.ledger.consumer import Aggregator, tracking_name
from services.ledger.store import EncryptedSignalLedger
from services.projections.projector import Projector
from services.settings import Settings
from services.signals.answers import Outcome
from services.signals.service import Ingest
from services.yardstick.submissions import (
    day_of,
    identities,
    publisher,
    received_at,
    submission,
)

PARTITIONS = 6
CATCH_UP_SECONDS = 120.0  # a bound on waiting for the aggregator, not a measure
TOPIC_READY_SECONDS = 30.0
WAIT_SECONDS = 0.005  # between looks at the store's positions while the aggregator catches up
BATCH = 500  # signals per ingest call
MODEL_REASON = "the yardstick's run of this model version"
_SCORE = get_topic(Household.ScoreChanged)
# Building the parts creates their tables through alembic, whose module-level proxies are not
# safe for two threads at once: runs in parallel build one after the other.
_BUILDING = threading.Lock()


@dataclass
class RadarUnderTest:
    """The pipeline's parts for one measurement, as the composition root builds them."""

    ingest: Ingest
    aggregator: Aggregator
    ledger: EncryptedSignalLedger
    worklist: WorklistStore
    household_of: Callable[[str, int], str]  # postcode, house number -> household pseudonym
    close: Callable[[], None]


Clock = Callable[[], datetime]
Builder = Callable[[Settings, Clock], RadarUnderTest]


class SimulatedClock:
    """The ingest's clock: the simulated moment the current batch is received."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def run(
    world: World,
    model: AnyRiskModel,
    build: Builder,
    bootstrap_servers: str,
    parties: frozenset[str] | None = None,
) -> dict[int, Seen]:
    """What the radar recorded about each household, fed the signals of `parties` (all: None)."""
    start = world.parameters.start
    clock = SimulatedClock(received_at(start, 0))
    with _fresh_place(bootstrap_servers) as settings:
        with _BUILDING:
            radar = build(settings, clock)
        try:
            if radar.ledger.model_in_force().version != model.version:
                radar.ledger.adopt_model(model, None, MODEL_REASON, now=clock.now)
            stop = threading.Event()
            consuming = threading.Thread(target=radar.aggregator.run, args=(stop,), daemon=True)
            consuming.start()
            try:
                _drive(world, parties, radar, clock, settings.signals_topic)
            finally:
                stop.set()
                consuming.join()
            Projector(radar.ledger, radar.worklist, settings.projector_batch_events).catch_up()
            return _seen(world, radar)
        finally:
            radar.close()


def _drive(
    world: World,
    parties: frozenset[str] | None,
    radar: RadarUnderTest,
    clock: SimulatedClock,
    topic: str,
) -> None:
    """Day by day: each party's signals of the day, received at the day's end, then a wait
    until the aggregator has applied them all, so that the next day's signals find the radar
    as analysts would have found it that evening. (Fed a backlog at once, the aggregator
    would score a household's signals of several days in one batch, at the latest of them.)"""
    people = identities(world)
    accepted = 0
    by_day = itertools.groupby(world.of_parties(parties), key=lambda s: s.received_day)
    for day, signals in by_day:
        clock.now = received_at(world.parameters.start, day)
        for party, group in itertools.groupby(
            sorted(signals, key=lambda s: (s.party, s.index)), key=lambda s: s.party
        ):
            batch = [submission(world, s, people[s.household]) for s in group]
            accepted += _submit(radar.ingest, publisher(world, party), batch)
        _caught_up(radar.ledger, topic, accepted)


def _submit(ingest: Ingest, sender: Publisher, batch: list[dict[str, Any]]) -> int:
    """Submits the batch (in parts of at most BATCH); every signal must be accepted."""
    for offset in range(0, len(batch), BATCH):
        results = ingest.submit(sender, batch[offset : offset + BATCH], version=2)
        refused = [r for r in results if r.status != Outcome.ACCEPTED]
        if refused:
            raise RuntimeError(f"ingest refused a simulated signal: {refused[0]}")
    return len(batch)


def _caught_up(ledger: EncryptedSignalLedger, topic: str, accepted: int) -> None:
    """Waits until the store has applied `accepted` records of the topic (each partition's
    last applied offset + 1, summed: the topic is fresh and only this run writes to it)."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while time.monotonic() < deadline:
        positions = (ledger.position(tracking_name(topic, p)) for p in range(PARTITIONS))
        if sum(0 if p is None else p + 1 for p in positions) >= accepted:
            return
        time.sleep(WAIT_SECONDS)
    raise RuntimeError(f"the aggregator did not apply {accepted} records in time")


def _seen(world: World, radar: RadarUnderTest) -> dict[int, Seen]:
    """Each simulated household's alerts (from the worklist) and scores (the event store)."""
    start = world.parameters.start
    people = identities(world)
    by_pseudonym = {
        radar.household_of(i.postcode, i.house_number): index for index, i in people.items()
    }
    scores: dict[int, list[tuple[float, float]]] = defaultdict(list)
    notifications = radar.ledger.notifications
    position = 0
    while batch := notifications.after(position, 1000, (_SCORE,)):
        position = batch[-1].id
        for _, event in notifications.readable(batch):
            index = by_pseudonym.get(event.household)
            if index is not None:
                scores[index].append((day_of(start, event.as_of), float(event.score)))
    seen = {}
    for pseudonym, index in by_pseudonym.items():
        alerts = tuple(
            (day_of(start, a["raised_at"]), str(a["kind"]))
            for a in radar.worklist.household_alerts(pseudonym)
        )
        seen[index] = Seen(alerts=alerts, scores=tuple(scores.get(index, ())))
    return seen


@contextmanager
def _fresh_place(bootstrap_servers: str) -> Iterator[Settings]:
    """Settings on a fresh data directory (SQLite) and topic; both removed afterwards, with
    the consumer group."""
    suffix = uuid.uuid4().hex[:12]
    topic, group = f"yardstick.signals.{suffix}", f"yardstick-aggregator-{suffix}"
    directory = Path(tempfile.mkdtemp(prefix="radar-yardstick-"))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="radar-yardstick")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
        if not wait_for_leaders(bootstrap_servers, topic, PARTITIONS, TOPIC_READY_SECONDS):
            raise RuntimeError(f"topic {topic} got no leaders in {TOPIC_READY_SECONDS:g} s")
        yield Settings(
            data_dir=directory / "data",
            database_url=f"sqlite:///{directory / 'radar.db'}",  # never a configured database
            kafka_bootstrap=bootstrap_servers,
            signals_topic=topic,
            consumer_group=group,
        )
    finally:
        with contextlib.suppress(KafkaError):
            admin.delete_topics([topic])
        with contextlib.suppress(KafkaError):  # a group that never committed is not there
            admin.delete_groups([group])
        admin.close()
        shutil.rmtree(directory, ignore_errors=True)
