"""Creates the radar's topics with the partitions and retention they are meant to have."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

MILLISECONDS_PER_DAY = 24 * 60 * 60 * 1000


def ensure_topic(bootstrap: str, topic: str, partitions: int, retention_days: int) -> None:
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
                    replication_factor=1,
                    topic_configs={
                        "retention.ms": str(retention_days * MILLISECONDS_PER_DAY),
                        "cleanup.policy": "delete",
                    },
                )
            ]
        )
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
