"""Memory: resident set of the real aggregator process (`radar aggregator`) while it catches up
on a backlog (100,000 signals at small scale, 1,000,000 at large), sampled from /proc. Flat
means the last quartile of progress uses less than 1.2x the memory of the first."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Iterable
from itertools import islice
from pathlib import Path

from bench.data import Recorder, Submission
from bench.infra import (
    BenchUnavailableError,
    end_offsets,
    fresh_topic,
    produce,
    producer,
    rss_kib,
    settings_for,
    sqlite_database,
)
from bench.report import Row
from services.ledger.consumer import tracking_name
from testkit.processes import RadarProcess

SAMPLE_INTERVAL_SECONDS = 0.25
PRODUCE_CHUNK = 10_000
MAX_GROWTH = 1.2
STALL_TIMEOUT_SECONDS = 120.0


def measure(
    directory: Path, submissions: Iterable[Submission], count: int, recorder: Recorder
) -> Row:
    with fresh_topic() as topic, sqlite_database(directory / "db") as db:
        _fill(topic, submissions, count, recorder)
        ends = end_offsets(topic)
        total = sum(ends.values())
        settings = settings_for(directory, db, topic)
        process = RadarProcess("aggregator", settings).start()
        samples: list[tuple[float, int]] = []  # (progress 0..1, RSS KiB)
        try:
            started = time.perf_counter()
            last_progress, last_change = -1.0, time.monotonic()
            while True:
                if not process.alive():
                    raise BenchUnavailableError(f"aggregator died:\n{process.tail()}")
                done = _applied(db.sqlite_path(), topic, ends)
                rss = rss_kib(process.pid)
                samples.append((done / total, rss))
                if done >= total:
                    break
                if done != last_progress:
                    last_progress, last_change = done, time.monotonic()
                elif time.monotonic() - last_change > STALL_TIMEOUT_SECONDS:
                    raise BenchUnavailableError(f"aggregator stalled:\n{process.tail()}")
                time.sleep(SAMPLE_INTERVAL_SECONDS)
            elapsed = time.perf_counter() - started
        finally:
            process.stop()
    first = [rss for progress, rss in samples if 0 < progress <= 0.25]
    last = [rss for progress, rss in samples if progress >= 0.75]
    growth = statistics.median(last) / statistics.median(first)
    return Row(
        stage=f"memory: aggregator RSS catching up on {total:,}",
        figure=growth,
        unit="x",
        baseline=None,
        ratio=None,
        target=f"flat: growth < {MAX_GROWTH}x",
        met=growth < MAX_GROWTH,
        details={
            "rss_mib_at_10pct": _at(samples, 0.10) / 1024,
            "rss_mib_at_50pct": _at(samples, 0.50) / 1024,
            "rss_mib_at_90pct": _at(samples, 0.90) / 1024,
            "rss_mib_max": max(rss for _, rss in samples) / 1024,
            "growth_last_over_first_quartile": growth,
            "signals": total,
            "seconds": elapsed,
            "signals_per_second": total / elapsed,
            "samples": len(samples),
        },
    )


def _fill(topic: str, submissions: Iterable[Submission], count: int, recorder: Recorder) -> None:
    """The backlog, produced in chunks so that a million signals never sit in memory."""
    sender = producer()
    try:
        stream = iter(submissions)
        remaining = count
        while remaining > 0:
            chunk = list(islice(stream, min(PRODUCE_CHUNK, remaining)))
            if not chunk:
                break
            produce(topic, [recorder.record(s) for s in chunk], sender)
            remaining -= len(chunk)
    finally:
        sender.close()


def _applied(database: Path, topic: str, ends: dict[int, int]) -> int:
    """How many records the aggregator has stored, from its tracking rows."""
    if not database.exists():
        return 0
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        rows = dict(
            connection.execute("SELECT application_name, notification_id FROM tracking").fetchall()
        )
    except sqlite3.OperationalError:  # tables not created yet
        return 0
    finally:
        connection.close()
    return sum(rows[tracking_name(topic, p)] + 1 for p in ends if tracking_name(topic, p) in rows)


def _at(samples: list[tuple[float, int]], progress: float) -> float:
    """RSS of the first sample at or past the given progress."""
    return float(next(rss for done, rss in samples if done >= progress))
