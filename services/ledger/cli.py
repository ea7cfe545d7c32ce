"""`radar aggregator`: one member of the consumer group that records the signals topic in the
event store, exactly once."""

from __future__ import annotations

from services import bootstrap, collector, metrics, signals_topic
from services.kafka_topics import retry_until_done
from services.logs import command_settings


def aggregator() -> None:
    """Consume the signals topic into the event store (one consumer-group member)."""
    settings = command_settings("aggregator")
    metrics.serve(settings.host, settings.own_metrics_port("aggregator"), "aggregator")
    signals_topic.check_signals_retention(settings)
    # While the broker is down the aggregator waits for it rather than crash: a supervisor
    # gives up on a process that keeps dying, and an outage of Kafka is not the aggregator's.
    retry_until_done(lambda: signals_topic.ensure_signals_topic(settings), "signals topic")
    member = bootstrap.aggregator(settings)
    collector.tune_for_throughput()
    member.run(bootstrap.stop_on_signals())
