"""Structured logging (structlog, JSON lines) with a last line of defence against identifiers.

Services never log request bodies, nor pseudonyms: a service log is not a record of who looked
at whom (the access log is), and it outlives a household's erasure. Request lines are written
here, one per request, with the path's pseudonyms masked (``GET /v1/households/hh.k1.***/...``).
As a last line of defence every rendered log line is scanned, and anything that looks like a BSN,
a postcode with house number, a date of birth, an e-mail address, a phone number or a pseudonym of
any domain and key version (``hh.k<N>.``, ``p.k<N>.``, ``x.<recipient>.k<N>.``) is masked before
it is written.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog

from contracts.leak_guard import mask_identifiers
from contracts.pseudonyms import mask_pseudonyms
from services.settings import Settings, member_name

request_log = structlog.get_logger("radar.requests")


def mask_log_text(text: str) -> str:
    """A log line as it may be written: no identifier, no pseudonym. Pseudonyms first: nine
    digits of a pseudonym's hex may pass the elfproef, and masking them as a BSN would cut the
    pseudonym in two and leave its tail readable."""
    return mask_identifiers(mask_pseudonyms(text))


def _mask_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {key: _masked_value(value) for key, value in event.items()}


def _masked_value(value: Any) -> Any:
    return mask_log_text(value) if isinstance(value, str) else value


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_log_text(super().format(record))


class _CoordinatorNotReadyAtStart(logging.Filter):
    """Drops kafka-python's "Marking the coordinator dead ... NotCoordinatorError" warnings in a
    process's first minute. A broker that has just started is still loading the consumer-offsets
    topic: it answers the aggregator's first group join with NOT_COORDINATOR, and kafka-python
    warns, looks the coordinator up again and joins (nothing is lost, nothing for anyone to do).
    That is every `make run`. Later the same warning means a running group's coordinator moved
    (a broker restarted), which an operator may want to see, so it is shown again after the
    first minute; every other kafka warning is shown always.

    The same goes for kafka-python's own event-loop diagnostic ("Task … ran for 0.3s
    (>0.100s threshold)"): while four processes import and connect at once on a small
    machine, its network loop's first steps are slow; nothing waits on them."""

    START_UP_SECONDS = 60.0

    def __init__(self) -> None:
        super().__init__()
        self._started = time.monotonic()

    def filter(self, record: logging.LogRecord) -> bool:
        if time.monotonic() - self._started > self.START_UP_SECONDS:
            return True
        message = record.getMessage()
        return not (
            (
                message.startswith("Marking the coordinator dead")
                and "NotCoordinatorError" in message
            )
            or (
                message.startswith("Task ")
                and "threshold). It is blocking the event loop" in message
            )
        )


def _quiet_kafka_start_up() -> None:
    """kafka-python's INFO is per-connection chatter; its harmless start-up warnings go."""
    logging.getLogger("kafka").setLevel(logging.WARNING)
    start_up = _CoordinatorNotReadyAtStart()
    for name in ("kafka.coordinator", "kafka.net.selector"):  # where kafka-python logs them
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, _CoordinatorNotReadyAtStart)]:
            logger.removeFilter(old)
        logger.addFilter(start_up)


REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RECORD_HEADER = "request-id"
"""The Kafka record header that carries the id of the ingest request that published it."""


def current_request_id() -> str | None:
    """The id of the HTTP request being answered (None outside one): ingest puts it on the
    Kafka records it publishes, so the aggregator's line about them names it too."""
    found = structlog.contextvars.get_contextvars().get("request_id")
    return found if isinstance(found, str) else None


class RequestLines:
    """ASGI middleware: one log line per HTTP request (method, path with its pseudonyms masked,
    status, duration; never the query string, headers or body). It replaces uvicorn's access
    log, which the entry points turn off (`access_log=False`).

    Every request gets a request id of the radar's own (a client's is not taken: it could carry
    anything into the logs), answered in `X-Request-ID` and bound to every log line written
    while the request is answered."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500
        request_id = uuid.uuid4().hex

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, sending)
            finally:
                request_log.info(
                    "request",
                    method=scope.get("method"),
                    path=mask_pseudonyms(str(scope.get("path", ""))),
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )


def configure_logging(service: str, level: str, log_file: Path | None = None) -> None:
    """JSON logs to stderr (and to a file when given), identifiers masked, for one service."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(_MaskingFormatter("%(message)s"))
    logging.basicConfig(level=level.upper(), handlers=handlers, force=True)
    # uvicorn served without an access log detaches `uvicorn.access` from the root; whatever
    # it writes later goes through the masking handlers like every other logger's lines
    logging.getLogger("uvicorn.access").propagate = True
    # Alembic says at INFO which plugins and implementation it uses, on import and every call
    # (before services.schema.migrate could quiet it); `radar db` says what it did
    logging.getLogger("alembic").setLevel(logging.WARNING)
    _quiet_kafka_start_up()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_event,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def command_settings(service: str) -> Settings:
    """The settings of a `radar` command or process, its logging configured to its own file
    in the data directory's logs."""
    settings = Settings()
    own = member_name(service, settings.process_index)  # ingest-2 logs to ingest-2.log
    configure_logging(service, settings.log_level, settings.logs_dir / f"{own}.log")
    return settings
