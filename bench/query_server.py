"""The query API as `radar query` serves it, plus one bench-only route that answers a static,
pre-serialised JSON body of the same size: the baseline for timeline latency, from the same
server, process and thread pool. Run as `python -m bench.query_server` with RADAR_* settings
and BENCH_STATIC_BODY naming the file whose bytes the static route returns."""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Response

from services import bootstrap
from services.logs import configure_logging
from services.settings import Settings

STATIC_ROUTE = "/bench/static"
KEEP_ALIVE_SECONDS = 120


def bench_query_app(settings: Settings, static_body: Path) -> FastAPI:
    app = bootstrap.query_app(settings)
    cached: list[bytes] = []

    def static() -> Response:
        """The same bytes every time; read once from the file the bench wrote."""
        if not cached:
            cached.append(static_body.read_bytes())
        return Response(content=cached[0], media_type="application/json")

    app.add_api_route(STATIC_ROUTE, static, methods=["GET"])
    return app


def main() -> None:
    settings = Settings()
    configure_logging("query", settings.log_level, settings.logs_dir / "query.log")
    app = bench_query_app(settings, Path(os.environ["BENCH_STATIC_BODY"]))
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.query_port,
        log_config=None,
        access_log=False,
        # On a loaded machine the bench's own client could leave a kept-alive connection idle
        # past uvicorn's 5 s; the server closed it as the client reused it (httpx.ReadError,
        # twice in one session at load 9-15). Both routes share the setting.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )


if __name__ == "__main__":
    main()
