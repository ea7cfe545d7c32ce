"""The HTTP APIs' metrics: every answer counted and timed by route template (never by the path,
which may hold a pseudonym), and `GET /metrics` served without a token (no personal data; a
deployment keeps the path behind its proxy)."""

from __future__ import annotations

import re
import time
from typing import Any

from prometheus_client import REGISTRY, Counter, Histogram, make_asgi_app
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request no route matches: its path may hold anything."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named in labels; any other a client sends is `other` (labels stay bounded)."""

HTTP_REQUESTS = Counter(
    "radar_http_requests_total",
    "HTTP requests answered, by API, method, route template and status class.",
    ["api", "method", "route", "status_class"],
)
HTTP_DURATION = Histogram(
    "radar_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by API, method and route template.",
    ["api", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def status_class(status: int) -> str:
    return f"{status // 100}xx"


class RouteTemplates:
    """The path templates of an app (`/v1/households/{household}/timeline`), for naming a
    request by its route and never by its path. Read from the OpenAPI document and the
    top-level routes (so routes left out of the schema count too) at the first request, when
    every router is included; static templates are tried before those with parameters."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        if self._compiled is None:
            paths = set(self._app.openapi().get("paths", {}))
            paths |= {
                str(r.path) for r in self._app.routes if isinstance(getattr(r, "path", None), str)
            }
            ordered = sorted(paths, key=lambda t: (t.count("{"), t))
            self._compiled = [(_pattern(t), t) for t in ordered]
        return self._compiled

    def of(self, path: str) -> str:
        """The template matching this path, or UNMATCHED_ROUTE."""
        for pattern, template in self._templates():
            if pattern.fullmatch(path):
                return template
        return UNMATCHED_ROUTE


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(
        (".*" if part.endswith(":path}") else "[^/]+") if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)


class HttpMetrics:
    """ASGI middleware: counts every answer and times it, by route template and status class.
    Outermost, so that answers given by other middleware (413, 415) are counted too."""

    def __init__(self, app: ASGIApp, api: str, templates: RouteTemplates) -> None:
        self.app = app
        self.api = api
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = self.templates.of(str(scope["path"]))
        status = 500  # an exception before the answer started is a 5xx to the client

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "other"
            HTTP_REQUESTS.labels(self.api, method, route, status_class(status)).inc()
            HTTP_DURATION.labels(self.api, method, route).observe(time.perf_counter() - started)


class _MetricsEndpoint:
    """prometheus_client's ASGI app as a route endpoint (an object, so Starlette mounts it as
    an ASGI app at exactly /metrics instead of wrapping it as a request handler)."""

    def __init__(self) -> None:
        self._app = make_asgi_app(REGISTRY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)


def instrument(app: Any, api: str) -> None:
    """Serves `GET /metrics` on a FastAPI app (no authentication: no personal data) and counts
    and times its requests."""
    app.add_route("/metrics", _MetricsEndpoint(), methods=["GET"], include_in_schema=False)
    app.add_middleware(HttpMetrics, api=api, templates=RouteTemplates(app))
