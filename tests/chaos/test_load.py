"""Load: 64 concurrent publishers and 32 concurrent analysts for a bounded time on loopback.
No errors (not even 429s: the default per-organisation rate limit, 2,000 signals/s in bursts of
10,000, is above what the one police organisation here can send on two cores), nothing lost, and
every analyst request decided and logged once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.storage.access_log import EntryKind
from publisher_sdk import PublisherClient, RetryPolicy
from services.database import Database
from services.settings import Settings
from testkit.processes import running_radar
from testkit.synthetic import SyntheticPopulation
from tests.chaos.scenario import progress_of, publisher_tokens
from tests.support.inspection import assert_read_models_equal_rebuild, every_accepted_recorded_once

pytestmark = pytest.mark.chaos
PUBLISHERS = 64
ANALYSTS = 32
SECONDS = 60  # under load for a minute (90 s until stop 17), within the CI budget (30 min)
REGION = "VT09"


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_64_publishers_and_32_analysts_at_once(
    settings: Settings, database: Database, tmp_path: Path, fault_report: Any
) -> None:
    population = SyntheticPopulation(seed=64)
    households = [population.household() for _ in range(400)]
    tokens = publisher_tokens(settings.keys_dir)
    analyst = TokenAuthority(settings.keys_dir).issue(
        Analyst("load-analyst", "vt-utrecht", AnalystRole.TRIAGE, REGION),  # type: ignore[arg-type]
        Audience.QUERY,
        timedelta(hours=1),
    )
    deadline = time.monotonic() + SECONDS
    accepted: list[str] = []
    failures: Counter[str] = Counter()
    analyst_statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def publisher(number: int, ingest_url: str) -> None:
        rng = SyntheticPopulation(seed=1000 + number)
        retry = RetryPolicy(max_attempts=20, base_seconds=0.1, cap_seconds=2.0)
        with PublisherClient(ingest_url, tokens[Sector.POLICE], retry=retry) as client:
            while time.monotonic() < deadline:
                batch = [
                    {**rng.signal(h, Sector.POLICE), "region": REGION}
                    for h in rng.rng.sample(households, 10)
                ]
                for result in client.publish(batch):
                    with lock:
                        if result.delivered:
                            accepted.append(result.event_id)
                        else:
                            failures[result.status] += 1

    def reader(number: int, query_url: str) -> None:
        with httpx.Client(base_url=query_url, timeout=30) as client:
            index = number
            while time.monotonic() < deadline:
                household = households[index % len(households)]
                index += ANALYSTS
                answer = client.post(
                    "/v1/households/timeline",
                    json={"address": household.address(), "purpose": "triage"},
                    headers={"Authorization": f"Bearer {analyst}"},
                )
                with lock:
                    analyst_statuses[answer.status_code] += 1

    with running_radar(settings) as radar:
        access_log = database.access_log(database.engine())
        logged_before = access_log.count()
        threads = [
            threading.Thread(target=publisher, args=(n, radar.ingest_url))
            for n in range(PUBLISHERS)
        ] + [threading.Thread(target=reader, args=(n, radar.query_url)) for n in range(ANALYSTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 300)
            assert not thread.is_alive()
        with progress_of(database) as progress:  # cheap polls: the aggregator gets the CPU
            progress.wait_recorded(len(accepted), 300, "every accepted signal in the store")
            progress.wait_projected()
        accesses = [e for e in access_log.entries() if e.kind == EntryKind.ACCESS]
    assert failures == Counter()
    assert set(analyst_statuses) == {200}, analyst_statuses
    assert len(accesses) == sum(analyst_statuses.values())
    assert access_log.count() - logged_before == len(accesses)
    every_accepted_recorded_once(database, set(accepted))
    assert_read_models_equal_rebuild(database, tmp_path)
    fault_report.add(
        f"load: {PUBLISHERS} publishers + {ANALYSTS} analysts for {SECONDS} s on loopback",
        f"{len(accepted)} signals accepted, none lost or doubled; "
        f"{sum(analyst_statuses.values())} analyst queries all 200, each logged once",
    )
