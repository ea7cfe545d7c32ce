"""`python -m bench --scale small|large`: runs every stage, prints the table, writes
bench-results/<UTC time>.json and bench-results/latest.json.

Exits non-zero only when the benchmark cannot run (Kafka or PostgreSQL unreachable, a stage
failing); a missed target is a result, not an error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import aggregation, freshness, history, ingest, memory, parallel, query, rebuild
from bench.data import SEED, Recorder, Submission, submissions
from bench.infra import (
    BenchUnavailableError,
    database,
    kafka_crc32c,
    load_average,
    preflight,
    workspace,
)
from bench.report import Row, machine, table, write
from bench.scale import SCALES, Scale
from services import collector
from services.logs import configure_logging

STAGES = ("ingest", "aggregation", "parallel", "history", "query", "freshness", "memory")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument(
        "--only", default=",".join(STAGES), help=f"comma-separated stages of {', '.join(STAGES)}"
    )
    arguments = parser.parse_args(argv)
    scale = SCALES[arguments.scale]
    chosen = [s.strip() for s in arguments.only.split(",") if s.strip()]
    if unknown := set(chosen) - set(STAGES):
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    configure_logging("bench", "WARNING")
    logging.getLogger("kafka").setLevel(logging.ERROR)
    try:
        postgres_version = preflight()
    except BenchUnavailableError as error:
        print(f"bench: cannot run: {error}", file=sys.stderr)
        return 2
    started = datetime.now(UTC)
    load_at_start = load_average()
    clock = time.perf_counter()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    with workspace() as work:
        recorder = Recorder(work / "keys")
        data = list(submissions(_largest_need(scale), SEED))
        # The in-process stages (aggregation, rebuild, history) run as the radar's processes
        # do: each tunes the garbage collector once after start-up (services.collector).
        collector.tune_for_throughput()
        plan: dict[str, Callable[[], list[Row]]] = {
            "ingest": lambda: [
                ingest.measure(
                    work / "ingest",
                    data[: scale.ingest_signals],
                    recorder,
                    scale.ingest_batch,
                    scale.ingest_clients,
                )
            ],
            "aggregation": lambda: _aggregation(work, data[: scale.aggregation_signals], recorder),
            "parallel": lambda: [
                parallel.measure(
                    work / "parallel",
                    [recorder.record(s) for s in data[: scale.parallel_signals]],
                )
            ],
            "history": lambda: history.measure(work, scale.history_signals, recorder),
            "query": lambda: [
                query.measure(
                    work / "query",
                    data[: scale.query_background_signals],
                    scale.query_household_signals,
                    recorder,
                    scale.query_clients,
                    scale.query_requests,
                )
            ],
            "freshness": lambda: freshness.measure_each(
                work / "freshness",
                data,
                scale.freshness_rate,
                scale.freshness_seconds,
                scale.freshness_batch,
            ),
            "memory": lambda: [
                memory.measure(
                    work / "memory",
                    submissions(scale.memory_signals, SEED),
                    scale.memory_signals,
                    recorder,
                )
            ],
        }
        for stage in chosen:
            print(f"bench: {stage} ...", flush=True)
            stage_clock = time.perf_counter()
            try:
                measured = plan[stage]()
            except Exception as error:
                errors[stage] = f"{type(error).__name__}: {error}"
                traceback.print_exc()
                continue
            load = load_average()
            for row in measured:
                row.details["load_average_after"] = load
            rows.extend(measured)
            for row in measured:
                print(f"  {row.stage}: {row.figure:.4g} {row.unit}", flush=True)
            print(
                f"  ({time.perf_counter() - stage_clock:.0f} s, load average {load:.1f})",
                flush=True,
            )
    duration = time.perf_counter() - clock
    document = {
        "started_at": started.isoformat(),
        "scale": scale.name,
        "seed": SEED,
        "duration_seconds": duration,
        "machine": {
            **machine(postgres_version),
            "kafka_crc32c": kafka_crc32c(),
            "load_average_at_start": load_at_start,
        },
        "stages": chosen,
        "rows": rows,
        "errors": errors,
    }
    path = write(document, started)
    print()
    print(table(rows))
    print(
        f"\n{scale.name} scale, {duration:.0f} s; results in {path} and {path.parent}/latest.json"
    )
    if max((row.details["load_average_after"] for row in rows), default=0) > (os.cpu_count() or 1):
        print("bench: the load average exceeded the CPU count: other work competed with the run")
    for stage, reason in errors.items():
        print(f"bench: {stage} could not run: {reason}", file=sys.stderr)
    return 1 if errors else 0


def _largest_need(scale: Scale) -> int:
    return max(
        scale.ingest_signals,
        scale.aggregation_signals,
        scale.parallel_signals,
        scale.query_background_signals,
        int(scale.freshness_rate * scale.freshness_seconds) + freshness.WARM_UP_SIGNALS,
    )


def _aggregation(work: Path, data: list[Submission], recorder: Recorder) -> list[Row]:
    """Aggregation into SQLite and PostgreSQL; each filled store is then rebuilt from."""
    records = [recorder.record(s) for s in data]
    rows = []
    for kind in ("sqlite", "postgresql"):
        with database(kind, work / f"aggregation-{kind}") as db:
            rows.append(aggregation.measure(kind, db, records))
            rows.append(rebuild.measure(kind, db))
    return rows


if __name__ == "__main__":
    sys.exit(main())
