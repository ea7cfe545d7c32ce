"""The hooks the slices call count what an operator expects: a scheduled retention run counts
itself and the households it erased (a dry run erases none), and its last run is a time."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from services import metrics


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_retention_run_counts_itself_and_the_households_it_erased() -> None:
    runs = sample("radar_retention_runs_total", mode="enforce")
    dry_runs = sample("radar_retention_runs_total", mode="dry_run")
    erased = sample("radar_retention_households_erased_total", kind="case")
    metrics.retention_enforced(dry_run=True, expired={"case": 4})
    assert sample("radar_retention_households_erased_total", kind="case") == erased
    metrics.retention_enforced(dry_run=False, expired={"case": 2})
    assert sample("radar_retention_runs_total", mode="enforce") == runs + 1
    assert sample("radar_retention_runs_total", mode="dry_run") == dry_runs + 1
    assert sample("radar_retention_households_erased_total", kind="case") == erased + 2
    assert abs(sample("radar_retention_last_run_timestamp_seconds") - time.time()) < 60
