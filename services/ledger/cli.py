"""`radar aggregator`: one member of the consumer group that records the signals topic in the
event store, exactly once."""

from __future__ import annotations

from services import bootstrap
from services.logs import command_settings


def aggregator() -> None:
    """Consume the signals topic into the event store (one consumer-group member)."""
    settings = command_settings("aggregator")
    bootstrap.ensure_signals_topic(settings)
    bootstrap.aggregator(settings).run(bootstrap.stop_on_signals())
