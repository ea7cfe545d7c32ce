"""`python -m bench.query_profile [--requests N] [--out FILE]`: the timeline GET of the query
stage (200 signals among 5,000), served in this process and profiled: the statements one
request runs, the CPU time per request of the timeline and of the static body of the same
size, and cProfile over N requests (written to FILE, the top printed).

Why in process: the bench stage measures latency over HTTP from another process, where a
profile sees only the event loop. Here FastAPI's thread-pool hops run inline (the endpoint
and its dependencies on this thread), so cProfile sees the whole request. CPU time, not wall
time: the machine is shared, and other processes' load does not count against ours.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.data import SEED, Recorder, busy_household, submissions
from bench.infra import settings_for, sqlite_database
from bench.query import PURPOSE, load_household
from bench.query_server import STATIC_ROUTE, bench_query_app
from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.purposes import PurposeRegister
from testkit.synthetic import PUBLISHING_SECTORS

BACKGROUND = 5_000
HOUSEHOLD_SIGNALS = 200


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query_profile", description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("query.prof"))
    arguments = parser.parse_args(argv)
    logging.disable(logging.INFO)  # the request lines are not what is measured
    with tempfile.TemporaryDirectory(prefix="radar-query-profile-") as work:
        profile(Path(work), arguments.requests, arguments.out)
    pstats.Stats(str(arguments.out)).sort_stats("cumulative").print_stats(40)


def profile(work: Path, requests: int, out: Path) -> None:
    triage = PurposeRegister.load().purposes[PURPOSE]
    shown = [sector for sector in PUBLISHING_SECTORS if str(sector) in triage.sectors]
    busy = busy_household(HOUSEHOLD_SIGNALS, shown)
    region = VtRegion(busy[0].body["region"])
    with sqlite_database(work / "db") as db:
        settings = settings_for(work, db, "unused")
        recorder = Recorder(work / "recorder-keys")
        signals = [*submissions(BACKGROUND, SEED), *busy]
        household = load_household(db.url, settings.keys_dir, signals, busy[0], recorder)
        token = TokenAuthority(settings.keys_dir).issue(
            Analyst("bench-analyst", "vt-bench", AnalystRole.TRIAGE, region),
            Audience.QUERY,
            timedelta(hours=1),
        )
        static_body = work / "static.json"
        _run_inline()
        get = _client(bench_query_app(settings, static_body), {"Authorization": f"Bearer {token}"})
        path = f"/v1/households/{household}/timeline?purpose={PURPOSE}"
        static_body.write_bytes(get(path).content)
        for _ in range(30):  # warm: opened rows, encoded signals, compiled statements
            get(path)
        with _Statements() as seen:
            get(path)
        print(f"statements per timeline GET: {sum(seen.values())}")
        for statement, count in seen.most_common():
            print(f"  {count} x {statement}")
        print(f"CPU per GET: static body {_cpu(get, STATIC_ROUTE, requests):.2f} ms, ", end="")
        print(f"timeline {_cpu(get, path, requests):.2f} ms")
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            get(path)
        profiler.disable()
        profiler.dump_stats(out)


def _run_inline() -> None:
    """Sync endpoints and dependencies on this thread (profiled), not in the thread pool."""

    async def inline(call: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return call(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[assignment,attr-defined]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[assignment,attr-defined]


def _client(app: Any, headers: dict[str, str]) -> Callable[[str], httpx.Response]:
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

    def get(path: str) -> httpx.Response:
        answer = loop.run_until_complete(client.get(path, headers=headers))
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} answered {answer.status_code}")
        return answer

    return get


class _Statements:
    """Counts the statements run meanwhile, by their first 100 characters."""

    def __enter__(self) -> Counter[str]:
        self.seen: Counter[str] = Counter()
        event.listen(Engine, "before_cursor_execute", self._count)
        return self.seen

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self._count)

    def _count(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.seen[" ".join(statement.split())[:100]] += 1


def _cpu(get: Callable[[str], httpx.Response], path: str, requests: int) -> float:
    started = time.process_time()
    for _ in range(requests):
        get(path)
    return (time.process_time() - started) / requests * 1000


if __name__ == "__main__":
    main()
