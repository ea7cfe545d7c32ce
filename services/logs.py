"""Structured logging (structlog, JSON lines) with a last line of defence against identifiers.

Services never log request bodies. As a safety net every rendered log line is scanned, and
anything that looks like a BSN (nine digits passing the elfproef) or a postcode with house number
is masked before it is written.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import structlog

from contracts.leak_guard import mask_identifiers
from services.settings import Settings


def _mask_event(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {key: _masked_value(value) for key, value in event.items()}


def _masked_value(value: Any) -> Any:
    return mask_identifiers(value) if isinstance(value, str) else value


class _MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_identifiers(super().format(record))


def configure_logging(service: str, level: str, log_file: Path | None = None) -> None:
    """JSON logs to stderr (and to a file when given), identifiers masked, for one service."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(_MaskingFormatter("%(message)s"))
    logging.basicConfig(level=level.upper(), handlers=handlers, force=True)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is per-connection chatter
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
    configure_logging(service, settings.log_level, settings.logs_dir / f"{service}.log")
    return settings
