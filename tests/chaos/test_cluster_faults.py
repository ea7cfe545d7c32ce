"""Faults on the cluster shape (issue 20): three brokers (replication factor 3, two copies in
sync for a write, unclean leader election off), two ingest processes behind HAProxy, two
aggregators in one group, projectors as two copies, on PostgreSQL. Each test counts what was
sent, acknowledged (2xx), recorded and visible, and ends with every acknowledged signal recorded
exactly once and the timeline equal to a rebuild (`make chaos-cluster` runs only these)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.database import Database
from testkit.synthetic import sector_of
from tests.chaos.cluster import (
    ClusterRadar,
    KafkaCluster,
    cluster_settings,
    kafka_cluster,
    radar_on,
)
from tests.chaos.scenario import PublishingRun, progress_of, publisher_tokens, synthetic_stream
from tests.support.inspection import (
    assert_read_models_equal_rebuild,
    every_accepted_recorded_once,
    wait_for,
)

pytestmark = [pytest.mark.chaos, pytest.mark.cluster]
PUBLISHERS = 64
BROKER_OUTAGE_SECONDS = float(os.environ.get("RADAR_CHAOS_BROKER_OUTAGE_SECONDS", "60"))
"""The issue asks for five minutes (300); CI runs one minute to stay in its budget: the same
path (a broker gone past every session and lag timeout), only shorter."""
WHOLE = ("ingest-1", "ingest-2", "aggregator-1", "aggregator-2", "projector-1")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    with kafka_cluster(tmp_path_factory.mktemp("cluster")) as made:
        yield made


@dataclass
class Probe:
    """One signal at a time through the proxy, every status noted: what a publisher without
    the SDK's retries would see during the fault."""

    url: str
    token: str
    signals: list[dict[str, Any]]
    statuses: list[int] = field(default_factory=list)
    accepted: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=30) as client:
            for signal in self.signals:
                if self.stop.is_set():
                    return
                try:
                    status = client.post(f"{self.url}/v1/signals", json=signal, headers=headers)
                    self.statuses.append(status.status_code)
                    if status.status_code in (200, 202):
                        self.accepted.add(signal["event_id"])
                except httpx.TransportError:
                    self.statuses.append(0)
                time.sleep(0.05)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread


def _publishing(radar: ClusterRadar, count: int, seed: int) -> PublishingRun:
    """PUBLISHERS SDK clients (threads) sending batches of 10 through the proxy."""
    tokens = publisher_tokens(radar.settings.keys_dir)
    run = PublishingRun(
        radar.proxy_url, tokens, synthetic_stream(count, seed), workers=16, batch_size=10
    )
    run.start()
    assert len(run.threads) >= PUBLISHERS, len(run.threads)
    return run


def _accepted(run: PublishingRun, *probes: Probe) -> set[str]:
    results = run.wait(timeout=900)
    failed = [r for r in results if not r.delivered]
    assert not failed, failed[:3]
    ids = {r.event_id for r in results}
    for probe in probes:
        ids |= probe.accepted
    return ids


def _settled(radar: ClusterRadar, database: Database, accepted: set[str], tmp_path: Path) -> str:
    """Waits for everything acknowledged to be recorded and projected; checks invariants 3 and
    4; answers the counts for the report."""
    with progress_of(database) as progress:
        progress.wait_recorded(len(accepted), 300, "the aggregators to record every 2xx signal")
        progress.wait_projected()
        recorded = progress.recorded()
    every_accepted_recorded_once(database, accepted)
    assert_read_models_equal_rebuild(database, tmp_path)
    return (
        f"acknowledged {len(accepted):,}, recorded {recorded:,} (each once), visible {recorded:,}"
    )


def _all_in_sync(cluster: KafkaCluster, radar: ClusterRadar, within: float) -> float:
    started = time.monotonic()
    wait_for(
        lambda: cluster.in_sync(radar.settings.signals_topic) == [3] * 6,
        within,
        "every partition back to three copies in sync",
    )
    return time.monotonic() - started


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_the_partition_leader_killed_while_64_publishers_send(
    cluster: KafkaCluster, database: Database, tmp_path: Path, fault_report: Any
) -> None:
    settings = cluster_settings(tmp_path, database.url, cluster)
    with radar_on(cluster, settings, *WHOLE) as radar:
        run = _publishing(radar, 6_000, seed=20)
        sector = next(iter(run.tokens))
        own = [s for s in synthetic_stream(4_000, seed=21) if sector_of(s["signal_type"]) == sector]
        probe = Probe(radar.proxy_url, run.tokens[sector], own[:400])
        probe_thread = probe.start()
        time.sleep(3)
        leader = cluster.leader_of(settings.signals_topic)
        assert leader in (1, 2, 3), leader
        killed_at = time.monotonic()
        cluster.kill(leader)
        wait_for(
            lambda: cluster.leader_of(settings.signals_topic) not in (leader, -1),
            60,
            "a new leader",
        )
        failover = time.monotonic() - killed_at
        time.sleep(5)
        probe.stop.set()
        probe_thread.join(60)
        accepted = _accepted(run, probe)
        cluster.start(leader)
        caught_up = _all_in_sync(cluster, radar, 120)
        counts = _settled(radar, database, accepted, tmp_path)
    refused = probe.statuses.count(503)
    assert all(status in (200, 202, 503) for status in probe.statuses), probe.statuses
    fault_report.add(
        f"SIGKILL of broker {leader}, leader of partition 0 of the signals topic, while "
        f"{len(run.threads)} SDK publishers send through HAProxy (two ingest processes); a "
        f"one-at-a-time probe sent {len(probe.statuses)}",
        f"new leader within {failover:.1f} s; the probe saw {refused} 503 and no other error; "
        f"broker back and all partitions 3 in sync {caught_up:.1f} s after its restart; "
        f"{counts}; timeline equals a rebuild",
    )


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_rolling_restart_and_every_kind_of_process_killed(
    cluster: KafkaCluster, database: Database, tmp_path: Path, fault_report: Any
) -> None:
    settings = cluster_settings(tmp_path, database.url, cluster)
    timings: list[str] = []
    with radar_on(cluster, settings, *WHOLE, "projector-2") as radar:
        run = _publishing(radar, 12_000, seed=22)
        for node in (1, 2, 3):  # one broker at a time, the next only once all are in sync
            started = time.monotonic()
            cluster.stop(node)
            cluster.start(node)
            _all_in_sync(cluster, radar, 120)
            timings.append(f"broker {node} {time.monotonic() - started:.0f} s")
        radar.kill("ingest-1")  # mid-request: its clients retry through the proxy
        radar.kill("aggregator-1")
        radar.kill("projector-1")
        time.sleep(5)
        for name in ("ingest-1", "aggregator-1", "projector-1"):
            radar.start(name)
        accepted = _accepted(run)
        for name in ("aggregator-1", "aggregator-2", "projector-1", "projector-2"):
            radar.kill(name)  # then all of them at once
        back = time.monotonic()
        for name in ("aggregator-1", "aggregator-2", "projector-1", "projector-2"):
            radar.start(name)
        counts = _settled(radar, database, accepted, tmp_path)
        recovered = time.monotonic() - back
    fault_report.add(
        "rolling restart of the three brokers under load ("
        + ", ".join(timings)
        + " each until all partitions were 3 in sync again); then SIGKILL of ingest-1 behind "
        "the proxy, aggregator-1 and projector-1 while the other copies ran; then of every "
        "aggregator and projector at once",
        f"every SDK publisher finished; {counts}; all caught up {recovered:.0f} s after the "
        "last restart; timeline equals a rebuild",
    )


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_one_broker_lost_for_a_while_under_load(
    cluster: KafkaCluster, database: Database, tmp_path: Path, fault_report: Any
) -> None:
    settings = cluster_settings(tmp_path, database.url, cluster)
    with radar_on(cluster, settings, *WHOLE) as radar:
        cluster.kill(2)
        run = _publishing(radar, 6_000, seed=23)
        time.sleep(BROKER_OUTAGE_SECONDS)
        assert radar.proxied_ready() == 200  # two copies in sync: ingest stays ready
        ready = httpx.get(f"{radar.ingest_url('ingest-1')}/health/ready", timeout=10).json()
        assert ready["replicas"] == "under_replicated", ready
        accepted = _accepted(run)
        started = time.monotonic()
        cluster.start(2)
        caught_up = _all_in_sync(cluster, radar, 180)
        counts = _settled(radar, database, accepted, tmp_path)
    fault_report.add(
        f"SIGKILL of broker 2, gone for {BROKER_OUTAGE_SECONDS:.0f} s while 64 publishers send",
        "ingest stayed ready (readiness: replicas under_replicated) and took every signal; "
        f"the broker back and in sync {time.monotonic() - started:.0f} s after its start "
        f"({caught_up:.0f} s to catch up); {counts}; timeline equals a rebuild",
    )
