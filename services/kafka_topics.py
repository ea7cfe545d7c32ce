"""Creates the radar's topics with the partitions and retention they are meant to have."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from services.settings import Settings

MILLISECONDS_PER_DAY = 24 * 60 * 60 * 1000
RETRY_FIRST_WAIT_SECONDS = 1.0
RETRY_LONGEST_WAIT_SECONDS = 30.0
_log = structlog.get_logger("radar.kafka")


@dataclass(frozen=True)
class Replication:
    """How many copies of each partition the brokers keep, and how many must hold a record
    before it is acknowledged; an unclean leader election (an out-of-sync copy becoming the
    leader, losing acknowledged records) is never allowed."""

    factor: int = 1
    min_insync: int = 1

    def topic_configs(self) -> dict[str, str]:
        return {
            "min.insync.replicas": str(self.min_insync),
            "unclean.leader.election.enable": "false",
        }


SINGLE_BROKER = Replication()


def replication_of(settings: Settings) -> Replication:
    """The replication the settings ask of the radar's topics."""
    return Replication(settings.signals_replication_factor, settings.signals_min_insync_replicas)


def ensure_topic(
    bootstrap: str,
    topic: str,
    partitions: int,
    retention_days: int,
    replication: Replication = SINGLE_BROKER,
) -> None:
    """Creates the topic if it does not exist yet; an existing topic is left as it is."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="radar-admin")
    try:
        if topic in admin.list_topics():
            return
        admin.create_topics(
            [
                NewTopic(
                    name=topic,
                    num_partitions=partitions,
                    replication_factor=replication.factor,
                    topic_configs={
                        "retention.ms": str(retention_days * MILLISECONDS_PER_DAY),
                        "cleanup.policy": "delete",
                        **replication.topic_configs(),
                    },
                )
            ]
        )
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def wait_for_leaders(
    bootstrap: str, topic: str, partitions: int, timeout_seconds: float = 30.0
) -> bool:
    """Waits until a new topic's partitions all have leaders; False when they have none after
    the timeout. A consumer that subscribes before finds no partitions and looks again only at
    its next metadata refresh, five minutes on."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            found = consumer.partitions_for_topic(topic)
            if found and len(found) == partitions:
                return True
            time.sleep(0.1)
        return False
    finally:
        consumer.close()


def retry_until_done(
    action: Callable[[], None], what: str, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Runs `action` until the broker lets it finish, waiting twice as long after each failure
    (up to half a minute); says once per failure what it is waiting for."""
    wait = RETRY_FIRST_WAIT_SECONDS
    while True:
        try:
            action()
        except KafkaError as error:
            _log.warning(
                "kafka unreachable, retrying",
                what=what,
                error=type(error).__name__,
                retry_in_seconds=wait,
            )
            sleep(wait)
            wait = min(wait * 2, RETRY_LONGEST_WAIT_SECONDS)
        else:
            _log.info("kafka ready", what=what)
            return
