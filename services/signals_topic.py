"""The signals topic: its retention checked against the retention policy before anything starts,
and created (now, or in the background while the broker is down)."""

from __future__ import annotations

import threading

from privacy.retention import RetentionPolicy
from services.kafka_topics import ensure_topic, replication_of, retry_until_done
from services.settings import Settings


def check_signals_retention(settings: Settings) -> None:
    """Refuses a signals-topic retention longer than the retention policy allows (Kafka would
    keep signals the radar has to have forgotten): a setting wrong at start stops the start."""
    allowed = RetentionPolicy.load(settings.retention_policy).signals_topic_max_days
    if settings.signals_retention_days > allowed:
        raise ValueError(
            f"RADAR_SIGNALS_RETENTION_DAYS={settings.signals_retention_days} exceeds the "
            f"retention policy's signals_topic_max_days={allowed}"
        )


def ensure_signals_topic(settings: Settings) -> None:
    """Creates the signals topic (after checking its retention against the policy)."""
    check_signals_retention(settings)
    ensure_topic(
        settings.kafka_bootstrap,
        settings.signals_topic,
        settings.signals_partitions,
        settings.signals_retention_days,
        replication_of(settings),
    )


def ensure_signals_topic_meanwhile(settings: Settings) -> threading.Thread:
    """Checks the retention now, then creates the signals topic in the background, retrying
    while the broker is down, so the ingest API can answer (503 + Retry-After) from its first
    second instead of refusing connections until Kafka is back."""
    check_signals_retention(settings)
    thread = threading.Thread(
        target=retry_until_done,
        args=(lambda: ensure_signals_topic(settings), "signals topic"),
        name="ensure-signals-topic",
        daemon=True,
    )
    thread.start()
    return thread
