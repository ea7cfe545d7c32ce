"""Timeline query: p50/p99 latency of GET /v1/households/{h}/timeline?purpose=triage for a
household with 200 signals (among a skewed background population), 32 concurrent clients,
against the same clients GETting a static JSON body of the same size from the same server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import httpx
from eventsourcing.persistence import Tracking

from bench.data import Recorder, Submission, busy_household
from bench.infra import BenchUnavailableError, percentile, settings_for, sqlite_database
from bench.query_server import STATIC_ROUTE
from bench.report import Row
from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.purposes import PurposeRegister
from services.ledger.application import SignalBatch
from services.ledger.store import open_ledger
from services.projections.projector import Projector
from services.timelines.store import TimelineStore
from testkit.processes import RadarProcess, wait_until_ready
from testkit.synthetic import PUBLISHING_SECTORS

LOAD_BATCH = 500
PURPOSE = "triage"
MAX_P50_RATIO = 3.0  # issue 15: p50 <= 3x and p99 <= 2x the static body's
MAX_P99_RATIO = 2.0


def measure(
    directory: Path,
    background: Sequence[Submission],
    household_signals: int,
    recorder: Recorder,
    clients: int,
    requests: int,
) -> Row:
    triage = PurposeRegister.load().purposes[PURPOSE]
    shown = [sector for sector in PUBLISHING_SECTORS if str(sector) in triage.sectors]
    busy = busy_household(household_signals, shown)
    region = VtRegion(busy[0].body["region"])  # the analyst's own region: no justification
    with sqlite_database(directory / "db") as db:
        settings = settings_for(directory, db, "unused")
        household = load_household(
            db.url, settings.keys_dir, [*background, *busy], busy[0], recorder
        )
        static_body = directory / "static.json"
        token = TokenAuthority(settings.keys_dir).issue(
            Analyst("bench-analyst", "vt-bench", AnalystRole.TRIAGE, region),
            Audience.QUERY,
            timedelta(hours=2),
        )
        process = RadarProcess(
            "query", settings, "bench.query_server", {"BENCH_STATIC_BODY": str(static_body)}
        ).start()
        try:
            url = f"http://{settings.host}:{settings.query_port}"
            wait_until_ready(url, process)
            timeline_path = f"/v1/households/{household}/timeline?purpose={PURPOSE}"
            headers = {"Authorization": f"Bearer {token}"}
            answer = httpx.get(url + timeline_path, headers=headers, timeout=30)
            if answer.status_code != 200 or len(answer.json()["signals"]) != household_signals:
                raise BenchUnavailableError(f"timeline answered {answer.status_code}")
            static_body.write_bytes(answer.content)
            warm = min(requests // 4, 200)
            asyncio.run(_hammer(url, STATIC_ROUTE, headers, clients, warm))
            asyncio.run(_hammer(url, timeline_path, headers, clients, warm))
            baseline = asyncio.run(_hammer(url, STATIC_ROUTE, headers, clients, requests))
            ours = asyncio.run(_hammer(url, timeline_path, headers, clients, requests))
        finally:
            process.stop()
    ratio = percentile(ours, 99) / percentile(baseline, 99)
    p50_ratio = percentile(ours, 50) / percentile(baseline, 50)
    return Row(
        stage=f"timeline query p99 ({household_signals} signals, {clients} clients)",
        figure=percentile(ours, 99),
        unit="s",
        baseline=percentile(baseline, 99),
        ratio=ratio,
        target=f"p99 <= {MAX_P99_RATIO:g}x, p50 <= {MAX_P50_RATIO:g}x baseline",
        met=ratio <= MAX_P99_RATIO and p50_ratio <= MAX_P50_RATIO,
        details={
            "p50_seconds": percentile(ours, 50),
            "baseline_p50_seconds": percentile(baseline, 50),
            "p50_ratio": p50_ratio,
            "requests": len(ours),
            "body_bytes": len(static_body.read_bytes()),
            "background_signals": len(background),
            "requests_per_second": len(ours) / sum(ours) * clients,
            "baseline_requests_per_second": len(baseline) / sum(baseline) * clients,
        },
    )


def load_household(
    url: str, keys: Path, signals: Sequence[Submission], busy: Submission, recorder: Recorder
) -> str:
    """Records the signals in the ledger and projects the timeline (with the query API's
    keys: its rows are found by their digests); returns the busy household's pseudonym."""
    from services.database import Database

    db = Database(url, keys)
    ledger = open_ledger(db)
    engine = db.engine()
    try:
        events = [recorder.event(s) for s in signals]
        for position, start in enumerate(range(0, len(events), LOAD_BATCH)):
            batch = SignalBatch(events[start : start + LOAD_BATCH])
            ledger.record_batch(batch, Tracking("bench:load", position + 1))
        Projector(ledger, TimelineStore(engine, db.row_sealer(engine)), 1000).catch_up()
        household: str = recorder.event(busy).household
        return household
    finally:
        ledger.close()
        engine.dispose()


async def _hammer(
    url: str, path: str, headers: dict[str, str], clients: int, requests: int
) -> list[float]:
    """Latencies of `requests` GETs made by `clients` concurrent clients (closed loop)."""
    latencies: list[float] = []
    remaining = [requests]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:

        async def client() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                answer = await http.get(path)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise BenchUnavailableError(f"GET {path} answered {answer.status_code}")

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies
