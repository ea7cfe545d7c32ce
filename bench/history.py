"""History: does a signal cost more in a household with a long history? In process (no Kafka:
the ledger's batches are made here), the cost per signal when every household has 200 signals
against households of one signal each, and the bytes the event store holds per signal (events
and snapshots) at 200 signals per household.

`python -m bench.history [--profile]` runs it on SQLite alone and prints the figures (and, with
--profile, where the time goes at 200 signals per household).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from eventsourcing.persistence import Tracking

from bench.data import SEED, Recorder, Submission, busy_household
from bench.infra import database, workspace
from bench.report import Row
from contracts.signal_v1 import SignalEventV1
from services.database import Database
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger

BUSY_SIGNALS = 200  # per household
BATCH = 10  # signals per ledger batch: a stream of signals, not a backlog read in bulk
MAX_COST_RATIO = 1.5
MAX_BYTES_PER_SIGNAL = 3072


def households(count: int, signals: int, recorder: Recorder) -> list[SignalEventV1]:
    """`count` households of `signals` signals each, their arrivals interleaved."""
    events = []
    for index in range(count):
        submissions: list[Submission] = busy_household(signals, seed=SEED + 7 * index)
        events += [recorder.event(s, datetime.now(UTC)) for s in submissions]
    random.Random(SEED).shuffle(events)
    return events


def aggregate(db: Database, events: Sequence[SignalEventV1], batch: int) -> float:
    """Seconds to record the signals in batches, as the aggregator would, into `db`."""
    ledger = open_ledger(db)
    try:
        started = time.perf_counter()
        for offset in range(0, len(events), batch):
            chunk = events[offset : offset + batch]
            ledger.record_batch(SignalBatch(chunk), Tracking("bench:history:0", offset))
        return time.perf_counter() - started
    finally:
        ledger.close()


def stored_bytes(db: Database) -> int:
    """The bytes of every stored event's and snapshot's state (SQLite)."""
    connection = sqlite3.connect(db.sqlite_path())
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if name.endswith(("events", "snapshots"))
        ]
        sizes = (f"SELECT coalesce(sum(length(state)), 0) FROM {t}" for t in tables)  # noqa: S608
        return sum(connection.execute(query).fetchone()[0] for query in sizes)
    finally:
        connection.close()


def measure(work: Path, signals: int, recorder: Recorder) -> list[Row]:
    """The two rows: cost ratio 200 vs 1 signal per household, bytes per signal at 200."""
    batch = BATCH
    busy = households(max(1, signals // BUSY_SIGNALS), BUSY_SIGNALS, recorder)
    single = households(len(busy), 1, recorder)
    with database("sqlite", work / "history-single") as db:
        single_seconds = aggregate(db, single, batch)
    with database("sqlite", work / "history-busy") as db:
        busy_seconds = aggregate(db, busy, batch)
        stored = stored_bytes(db)
    per_single = single_seconds / len(single)
    per_busy = busy_seconds / len(busy)
    ratio = per_busy / per_single
    per_signal = stored / len(busy)
    return [
        Row(
            stage=f"cost per signal, {BUSY_SIGNALS} vs 1 signal per household (sqlite)",
            figure=per_busy,
            unit="s",
            baseline=per_single,
            ratio=ratio,
            target=f"ratio <= {MAX_COST_RATIO}",
            met=ratio <= MAX_COST_RATIO,
            details={"signals": len(busy), "batch": batch},
        ),
        Row(
            stage=f"bytes stored per signal, {BUSY_SIGNALS} per household (sqlite)",
            figure=per_signal,
            unit=" B",
            baseline=None,
            ratio=None,
            target=f"<= {MAX_BYTES_PER_SIGNAL} B",
            met=per_signal <= MAX_BYTES_PER_SIGNAL,
            details={"signals": len(busy), "stored_bytes": stored},
        ),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--signals", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args(argv)
    with workspace() as work:
        recorder = Recorder(work / "keys")
        for row in measure(work, arguments.signals, recorder):
            print(f"{row.stage}: {row.figure:.6g} (baseline {row.baseline}, ratio {row.ratio})")
        if arguments.profile:
            busy = households(max(1, arguments.signals // BUSY_SIGNALS), BUSY_SIGNALS, recorder)
            with database("sqlite", work / "history-profile") as db:
                profile = cProfile.Profile()
                profile.runcall(aggregate, db, busy, BATCH)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
