"""Freshness: the time from a 2xx on ingest to the signal being visible in the household
timeline, with the whole system running (ingest, aggregator, projector as real processes) and
1,000 signals/s offered in small paced batches. A watcher reads the timeline table every 20 ms.
Measured with one ingest process and one aggregator, then with N of each (RADAR_INGEST_PROCESSES,
RADAR_AGGREGATORS, as `radar run` starts them), one after the other in the same run.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench.data import Submission
from bench.infra import (
    BenchUnavailableError,
    fresh_topic,
    percentile,
    settings_for,
    sqlite_database,
)
from bench.ingest import _tokens
from bench.report import Row
from contracts.vocabulary import Sector
from privacy.lookup_digests import LookupDigests
from testkit.processes import RadarProcess, running_radar

WATCH_INTERVAL_SECONDS = 0.02
SENDERS = 8
WARM_UP_SIGNALS = 100
DRAIN_TIMEOUT_SECONDS = 120.0
MAX_P99_SECONDS = 1.0
PROCESS_COUNTS = (1, 2)
"""Ingest processes and aggregators (as many of each) of each measurement."""
WARM_UP_ATTEMPTS = 30
WARM_UP_PAUSE_SECONDS = 1.0


class Watcher(threading.Thread):
    """Notes when each signal id first appears in the timeline read model (whose rows hold
    the signal id's digest, not the id)."""

    def __init__(self, database: Path, digests: LookupDigests) -> None:
        super().__init__(daemon=True)
        self._database = database
        self._digests = digests
        self.seen: dict[str, float] = {}  # by digest
        self.stop = threading.Event()

    def seen_at(self, signal_id: str) -> float | None:
        """When the signal first appeared, or None while it has not."""
        return self.seen.get(self._digests.signal(signal_id))

    def run(self) -> None:
        connection = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, timeout=30)
        position = 0
        try:
            while not self.stop.is_set():
                rows = connection.execute(
                    "SELECT signal_id, position FROM timeline_signals WHERE position > ?",
                    (position,),
                ).fetchall()
                now = time.perf_counter()
                for signal_id, row_position in rows:
                    self.seen.setdefault(signal_id, now)
                    position = max(position, row_position)
                self.stop.wait(WATCH_INTERVAL_SECONDS)
        finally:
            connection.close()


def measure_each(
    directory: Path, submissions: Sequence[Submission], rate: int, seconds: float, batch: int
) -> list[Row]:
    """One row per entry of PROCESS_COUNTS, each on a topic and database of its own."""
    return [
        measure(directory / f"processes-{count}", submissions, rate, seconds, batch, count)
        for count in PROCESS_COUNTS
    ]


def measure(
    directory: Path,
    submissions: Sequence[Submission],
    rate: int,
    seconds: float,
    batch: int,
    processes: int = 1,
) -> Row:
    count = min(len(submissions) - WARM_UP_SIGNALS, int(rate * seconds))
    warm_up = submissions[:WARM_UP_SIGNALS]
    timed = submissions[WARM_UP_SIGNALS : WARM_UP_SIGNALS + count]
    with fresh_topic() as topic, sqlite_database(directory / "db") as db:
        settings = settings_for(directory, db, topic).model_copy(
            update={"ingest_processes": processes, "aggregators": processes}
        )
        tokens = _tokens(settings.keys_dir)
        with running_radar(settings, "ingest", "aggregator", "projector") as radar:
            url = radar.ingest_url
            watched = [name for name in radar.processes if not name.startswith("ingest")]
            processes_watched = [radar.processes[name] for name in watched]
            digests = LookupDigests.load_or_create(settings.keys_dir)
            watcher = _start_watcher(db.sqlite_path(), digests, processes_watched)
            try:
                acked = _offer(url, tokens, warm_up, rate, batch, warming_up=True)
                _drain(watcher, acked, processes_watched)  # the consumer group has joined
                started = time.perf_counter()
                acked = _offer(url, tokens, timed, rate, batch)
                offered_seconds = time.perf_counter() - started
                _drain(watcher, acked, processes_watched)
            finally:
                watcher.stop.set()
                watcher.join()
    delays = [max(0.0, _seen(watcher, event_id) - at) for event_id, at in acked.items()]
    p99 = percentile(delays, 99)
    return Row(
        stage=f"freshness p99 (2xx -> timeline, {rate:,}/s offered, "
        f"{processes} ingest + {processes} aggregator{'s' if processes > 1 else ''})",
        figure=p99,
        unit="s",
        baseline=None,
        ratio=None,
        target=f"p99 <= {MAX_P99_SECONDS:g} s",
        met=p99 <= MAX_P99_SECONDS,
        details={
            "p50_seconds": percentile(delays, 50),
            "max_seconds": max(delays),
            "signals": len(delays),
            "achieved_rate": len(acked) / offered_seconds,
            "batch": batch,
            "ingest_processes": processes,
            "aggregators": processes,
            "visible_before_2xx": sum(
                1 for event_id, at in acked.items() if _seen(watcher, event_id) < at
            ),
        },
    )


def _seen(watcher: Watcher, signal_id: str) -> float:
    found = watcher.seen_at(signal_id)
    assert found is not None, "drained: every acknowledged signal was seen"
    return found


def _start_watcher(
    database: Path, digests: LookupDigests, processes: Sequence[RadarProcess]
) -> Watcher:
    deadline = time.monotonic() + 60
    while not _has_timeline_table(database):  # the projector creates it on start
        if time.monotonic() > deadline or not all(p.alive() for p in processes):
            raise BenchUnavailableError("the projector did not create the timeline table")
        time.sleep(0.1)
    watcher = Watcher(database, digests)
    watcher.start()
    return watcher


def _has_timeline_table(database: Path) -> bool:
    if not database.exists():
        return False
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'timeline_signals'"
        ).fetchone()
        return found is not None
    finally:
        connection.close()


def _offer(
    url: str,
    tokens: dict[Sector, str],
    submissions: Sequence[Submission],
    rate: int,
    batch: int,
    warming_up: bool = False,
) -> dict[str, float]:
    """Posts the submissions in batches of one sector, paced to `rate` signals/s overall;
    returns the time each signal's 2xx arrived. While `warming_up`, a 503 is sent again
    after a pause (an ingest process connects its producer on its first request, and with
    several on one port the readiness probe reached only one of them): the warm-up is there
    to have every process connected and the consumer group joined before the timed part."""
    batches: list[tuple[Sector, list[Submission]]] = []
    for start in range(0, len(submissions), batch * 4):
        window = submissions[start : start + batch * 4]
        for sector in {s.sector for s in window}:
            batches.append((sector, [s for s in window if s.sector == sector]))
    acked: dict[str, float] = {}
    local = threading.local()
    begin = time.perf_counter()
    sent = [0]
    lock = threading.Lock()

    def post(item: tuple[Sector, list[Submission]]) -> None:
        sector, signals = item
        with lock:
            due = begin + sent[0] / rate
            sent[0] += len(signals)
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=60)
        for attempt in range(WARM_UP_ATTEMPTS if warming_up else 1):
            if attempt:
                time.sleep(WARM_UP_PAUSE_SECONDS)
            answer = local.client.post(
                "/v1/signals/batch",
                json={"signals": [s.body for s in signals]},
                headers={"Authorization": f"Bearer {tokens[sector]}"},
            )
            at = time.perf_counter()
            body: Any = answer.json()
            if answer.status_code != 503:
                break
        taken = body.get("accepted", 0) + (body.get("duplicates", 0) if warming_up else 0)
        if answer.status_code != 200 or taken != len(signals):
            detail = body.get("detail") if isinstance(body, dict) else None
            raise BenchUnavailableError(f"ingest answered {answer.status_code}: {detail}")
        for signal in signals:
            acked[signal.event_id] = at

    with ThreadPoolExecutor(SENDERS) as pool:
        for _ in pool.map(post, batches):
            pass
    return acked


def _drain(watcher: Watcher, acked: dict[str, float], processes: Sequence[RadarProcess]) -> None:
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while any(watcher.seen_at(event_id) is None for event_id in acked):
        if time.monotonic() > deadline or not all(p.alive() for p in processes):
            missing = sum(1 for event_id in acked if watcher.seen_at(event_id) is None)
            raise BenchUnavailableError(f"{missing} acknowledged signals never became visible")
        time.sleep(0.1)
