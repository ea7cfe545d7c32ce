"""How big each stage is: `small` (the default, well under 10 minutes on 2 cores) or `large`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    ingest_signals: int
    ingest_batch: int
    ingest_clients: int
    aggregation_signals: int  # per database
    parallel_signals: int  # per run: one aggregator, then two
    history_signals: int  # per stage of the history: 200 per household, and 1
    query_background_signals: int
    query_household_signals: int
    query_clients: int
    query_requests: int
    freshness_rate: int  # signals/s offered
    freshness_seconds: float
    freshness_batch: int
    memory_signals: int


SCALES = {
    "small": Scale(
        name="small",
        ingest_signals=50_000,
        ingest_batch=500,
        ingest_clients=4,
        aggregation_signals=50_000,
        parallel_signals=10_000,
        history_signals=2_000,
        query_background_signals=5_000,
        query_household_signals=200,
        query_clients=32,
        query_requests=2_000,
        freshness_rate=1_000,
        freshness_seconds=20.0,
        freshness_batch=10,
        memory_signals=100_000,
    ),
    "large": Scale(
        name="large",
        ingest_signals=200_000,
        ingest_batch=500,
        ingest_clients=4,
        aggregation_signals=200_000,
        parallel_signals=50_000,
        history_signals=10_000,
        query_background_signals=50_000,
        query_household_signals=200,
        query_clients=32,
        query_requests=5_000,
        freshness_rate=1_000,
        freshness_seconds=30.0,
        freshness_batch=10,
        memory_signals=1_000_000,
    ),
}
